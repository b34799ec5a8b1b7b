// Shared by the pipeline benchmarks (not a benchmark itself: bench/run.ts skips *.lib.ts).
// Watches the local bus: when each event was accepted, and every handler invocation's wall time
// and concurrency per subscription, from the bus's `invoking` and per-event settle events.
import { cp, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { subscriptions } from "@reelbridge/functions/topology";
import type { EventBridgeEnvelope, LocalBus } from "@reelbridge/local/eventbridge/index";
import { ensureBundle } from "@reelbridge/local/render/bundle-cache";
import type { Runtime } from "@reelbridge/local/runtime/runtime";

/** One JSON line per figure, on the real stdout (handlers' JSON logs go to the runtime's log file). */
export const printer = (write: (s: string) => boolean, bench: string) => (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) =>
  write(`${JSON.stringify({ name: `${bench}.${name}`, value: Math.round(value * 1000) / 1000, unit, ...extra })}\n`);

export const jobIdOf = (e: EventBridgeEnvelope): string | undefined =>
  (e.detail as { metadata?: { jobId?: string } }).metadata?.jobId ??
  /^uploads\/([0-9A-Z]{26})\//.exec(String((e.detail as { object?: { key?: string } }).object?.key ?? ""))?.[1];

export interface Invocation {
  subscription: string;
  jobIds: string[];
  types: string[];
  start: number;
  end?: number;
  ok: boolean;
}

export interface Trace {
  /** Accepted events: detail-type, jobId, when (ms since the epoch). */
  accepted: Array<{ type: string; jobId: string | undefined; at: number }>;
  invocations: Invocation[];
  /** Most invocations in flight at once, per subscription. */
  maxInFlight: Record<string, number>;
  stop(): void;
}

export function traceBus(bus: LocalBus): Trace {
  const accepted: Trace["accepted"] = [];
  const invocations: Invocation[] = [];
  const maxInFlight: Record<string, number> = {};
  const inFlight: Record<string, number> = {};
  // The invocation an in-flight (subscription, event id) belongs to, and what it still owes.
  const open = new Map<string, { inv: Invocation; remaining: number }>();

  const onAccepted = ({ event }: { event: EventBridgeEnvelope }) => accepted.push({ type: event["detail-type"], jobId: jobIdOf(event), at: Date.now() });
  const onInvoking = ({ events, subscription }: { events: EventBridgeEnvelope[]; subscription: string }) => {
    const inv: Invocation = { subscription, jobIds: events.map((e) => jobIdOf(e) ?? "?"), types: events.map((e) => e["detail-type"]), start: Date.now(), ok: true };
    invocations.push(inv);
    const slot = { inv, remaining: events.length };
    for (const e of events) open.set(`${subscription}\0${e.id}`, slot);
    inFlight[subscription] = (inFlight[subscription] ?? 0) + 1;
    maxInFlight[subscription] = Math.max(maxInFlight[subscription] ?? 0, inFlight[subscription]!);
  };
  const settle = (ok: boolean) => ({ event, subscription }: { event: EventBridgeEnvelope; subscription: string }) => {
    const k = `${subscription}\0${event.id}`;
    const slot = open.get(k);
    if (!slot) return;
    open.delete(k);
    if (!ok) slot.inv.ok = false;
    if (--slot.remaining === 0) {
      slot.inv.end = Date.now();
      inFlight[subscription]!--;
    }
  };
  const onDelivered = settle(true);
  const onFailed = settle(false);
  bus.on("accepted", onAccepted).on("invoking", onInvoking).on("delivered", onDelivered).on("failed", onFailed).on("dead-lettered", onFailed);
  return {
    accepted,
    invocations,
    maxInFlight,
    stop() {
      bus.off("accepted", onAccepted).off("invoking", onInvoking).off("delivered", onDelivered).off("failed", onFailed).off("dead-lettered", onFailed);
    },
  };
}

/** Each queued subscription's concurrency limit in this runtime (the topology's key into the stage config). */
export function queueLimits(runtime: Runtime): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const s of subscriptions({ mediaBucket: runtime.s3.bucket })) {
    if (s.delivery.kind === "queue") limits[s.name] = runtime.config.concurrency[s.delivery.concurrencyKey];
  }
  return limits;
}

/**
 * Puts the Remotion bundle into a fresh data dir's render cache, built once in a shared cache
 * (as a second `reelbridge run` finds it): the benchmarks time the pipeline, not webpack.
 */
export async function seedRenderCache(dataDir: string): Promise<void> {
  const shared = process.env.REELBRIDGE_CACHE_DIR ?? join(tmpdir(), "reelbridge-render-cache");
  const bundle = await ensureBundle({ cacheDir: shared });
  const target = join(dataDir, "render-cache");
  await mkdir(target, { recursive: true });
  await cp(bundle, join(target, basename(bundle)), { recursive: true });
}

export const seconds = (ms: number) => ms / 1000;
