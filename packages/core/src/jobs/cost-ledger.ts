/**
 * The job record's cost (issue #13 item 1), merged like the rest of the reducer (reducer.ts):
 * commutative, associative and idempotent, so the cost does not depend on the order events
 * arrive in or on duplicates.
 *
 *   - `costLines`: every cost line a step put on its event (`stepCost`), keyed by the eventId
 *     that carried it and the line's index: a grow-only map (a duplicate writes the same keys;
 *     a republished event with another figure for a line keeps the larger, a max-register);
 *   - `busEvents`: the pipeline events the job published on the bus, by eventId (grow-only):
 *     EventBridge's line, counted even though it is negligible.
 *
 * The record's `cost` is computed from the two: lines of the same item and unit price are added
 * up into one (in integer nano-dollars, cost.ts), in key order, so equal sets give equal records.
 */
import type { CostLine, DetailType, JobCost, JobParams } from "@reelbridge/events";
import { pipelineEvents } from "@reelbridge/events";
import { costLine, eventBridgeCost, lambdaCost, roundUsd, sumCost } from "./cost";
import type { LambdaArch } from "./cost";
import { DYNAMODB_PRICES, S3_PRICES, SQS_PRICES } from "./prices";
import type { AnyPipelineEvent } from "./reducer";

/** Most lines (and bus events) a job keeps: the smallest keys win, so the kept set is order-independent too. */
export const COST_LINES_LIMIT = 500;

export interface CostState {
  /** `<eventId>#<index>` → a line of that event's stepCost. Absent on states stored before the ledger. */
  costLines?: Record<string, CostLine>;
  /** eventId → its type: every pipeline event of the job. */
  busEvents?: Record<string, DetailType>;
  /**
   * Invocations of our own Lambdas that publish no step-ending event of their own (the DB
   * writer, the HTTP endpoints, the render canceller and watchdog), each measured by the handler
   * wrapper and written onto the record directly: `<fn>|<invocation id>` → its figures. A
   * grow-only map whose entries are max-registers (a retried write of the same invocation keeps
   * the larger figure), so the order and duplication of the writes do not matter.
   */
  invocations?: Record<string, OwnInvocation>;
  /**
   * The objects the job's events say were stored (the upload, the cropped image, the base clip,
   * each version's final video, the segmenter's every key), by key: a grow-only set, so a
   * duplicate or a reordering changes nothing. The S3 line is counted from it.
   */
  s3Objects?: Record<string, true>;
}

/** The upload API's topology name: its invocation travels in the job's parameters (`uploadInvocation`). */
const UPLOAD_API = "upload-api";

/** One measured invocation of one of our functions, for one job. */
export interface OwnInvocation {
  /** The function's topology name ("db-writer", "status-api"). */
  fn: string;
  /** Wall time (its share, for an invocation that handled several jobs), ms. */
  ms: number;
  /** Configured memory, MB. */
  memoryMB: number;
  arch: LambdaArch;
}

/** The key of an invocation in `invocations`. */
export const invocationKey = (fn: string, invocationId: string): string => `${fn}|${invocationId}`.slice(0, 160);

const isOwnInvocation = (v: unknown): v is OwnInvocation => {
  const o = v as OwnInvocation | null;
  return (
    typeof o === "object" && o !== null && typeof o.fn === "string" && o.fn.length > 0 && o.fn.length <= 64 &&
    Number.isFinite(o.ms) && o.ms >= 0 && Number.isFinite(o.memoryMB) && o.memoryMB > 0 && (o.arch === "arm64" || o.arch === "x86_64")
  );
};

/**
 * Folds measured invocations into the state (mutates it): a key already there keeps the larger
 * figure, whatever the order. Returns whether anything changed (nothing to write otherwise).
 */
export function mergeInvocations(s: CostState, entries: Record<string, OwnInvocation>): boolean {
  const next = { ...s.invocations };
  let changed = false;
  for (const [key, v] of Object.entries(entries)) {
    if (!isOwnInvocation(v)) continue;
    const prev = next[key];
    const inv: OwnInvocation = { fn: v.fn, ms: Math.round(v.ms * 1000) / 1000, memoryMB: v.memoryMB, arch: v.arch };
    if (prev && !(inv.ms > prev.ms || (inv.ms === prev.ms && JSON.stringify(inv) > JSON.stringify(prev)))) continue;
    next[key] = inv;
    changed = true;
  }
  if (!changed) return false;
  const kept = bounded(next);
  // A key the bound drops changes nothing.
  if (Object.keys(entries).every((k) => !(k in kept))) return false;
  s.invocations = kept;
  return true;
}

const bounded = <T>(m: Record<string, T>): Record<string, T> => {
  const keys = Object.keys(m);
  if (keys.length <= COST_LINES_LIMIT) return m;
  return Object.fromEntries(keys.sort().slice(0, COST_LINES_LIMIT).map((k) => [k, m[k]!]));
};

/** Folds one event's cost into the state (mutates it; the reducer works on a clone). */
export function mergeEventCost(s: CostState, e: AnyPipelineEvent): void {
  const { eventId } = e.detail.metadata;
  s.busEvents = bounded({ ...s.busEvents, [eventId]: e["detail-type"] as DetailType });
  // The upload API's invocation, signed into the job's parameters (every event carries the same).
  const upload = (e.detail.data as { job?: JobParams }).job?.uploadInvocation;
  if (upload) mergeInvocations(s, { [invocationKey(UPLOAD_API, e.detail.metadata.jobId)]: { fn: UPLOAD_API, ...upload } });
  const stored = storedKeys(e);
  if (stored.length) s.s3Objects = bounded({ ...s.s3Objects, ...Object.fromEntries(stored.map((k) => [k.slice(0, 300), true as const])) });
  const step = (e.detail.data as { stepCost?: JobCost }).stepCost;
  if (!step?.lines.length) return;
  const lines = { ...s.costLines };
  step.lines.forEach((l, i) => {
    const key = `${eventId}#${String(i).padStart(3, "0")}`;
    // The same logical event republished after a retry may carry a later figure for the same
    // line (more Lambda time measured): the larger wins, whatever the order they arrive in.
    if (!lines[key] || larger(l, lines[key]!)) lines[key] = structuredClone(l);
  });
  s.costLines = bounded(lines);
}

/** The keys an event says were written to S3 (its data's object references). */
function storedKeys(e: AnyPipelineEvent): string[] {
  const d = e.detail.data as { source?: { key?: unknown }; image?: { key?: unknown }; baseVideo?: { key?: unknown }; video?: { key?: unknown }; keys?: unknown };
  const keys: unknown[] = [];
  switch (e["detail-type"]) {
    case "VideoBaseFailed":
      // The upload was stored (and paid for) even when it could not become a clip.
      keys.push(d.source?.key);
      break;
    case "VideoBaseStarted":
      keys.push(d.source?.key, d.image?.key);
      break;
    case "VideoBaseReady":
      keys.push(d.source?.key, d.image?.key, d.baseVideo?.key);
      break;
    case "RenderCompleted":
      keys.push(d.video?.key);
      break;
    case "SegmentsReady":
      if (Array.isArray(d.keys)) keys.push(...d.keys);
      break;
  }
  return keys.filter((k): k is string => typeof k === "string" && k.length > 0);
}

const larger = (a: CostLine, b: CostLine) => (a.usd !== b.usd ? a.usd > b.usd : JSON.stringify(a) > JSON.stringify(b));

const groupKey = (l: CostLine) => `${l.item}|${l.unit}|${l.unitPriceUsd}|${l.estimated === true}`;

/** The job's cost: its steps' lines (same item and price added up) and the bus line. */
export function jobCostOf(s: CostState): JobCost {
  const groups = new Map<string, { line: CostLine; bases: string[]; nanos: number; quantity: number }>();
  for (const key of Object.keys(s.costLines ?? {}).sort()) {
    const l = s.costLines![key]!;
    const g = groups.get(groupKey(l));
    if (!g) {
      groups.set(groupKey(l), { line: l, bases: [l.basis], nanos: Math.round(l.usd * 1e9), quantity: l.quantity });
      continue;
    }
    g.nanos += Math.round(l.usd * 1e9);
    g.quantity += l.quantity;
    if (!g.bases.includes(l.basis)) g.bases.push(l.basis);
  }
  const lines: CostLine[] = [...groups.values()].map(({ line, bases, nanos, quantity }) => ({
    ...line,
    quantity: roundUsd(quantity),
    usd: nanos / 1e9,
    basis: (bases.length === 1 ? bases[0]! : `${bases.length} items: ${bases.join("; ")}`).slice(0, 500),
  }));
  lines.push(...invocationLines(s));
  const types = Object.values(s.busEvents ?? {});
  if (types.length) {
    const counts = new Map<string, number>();
    for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
    const names = [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, n]) => (n > 1 ? `${n}× ${t}` : t));
    lines.push(eventBridgeCost(types.length, `${types.length} pipeline event${types.length === 1 ? "" : "s"} (${names.join(", ")})`.slice(0, 380)));
  }
  lines.push(...serviceLines(s));
  return sumCost(lines);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** How many invocations a step's Lambda lines measured (lambdaCost's `invocations`), else one per line. */
function stepInvocations(s: CostState, fn: string): number {
  let n = 0;
  for (const key of Object.keys(s.costLines ?? {}).sort()) {
    const l = s.costLines![key]!;
    if (l.item !== `lambda:${fn}`) continue;
    n += l.invocations ?? 1;
  }
  return n;
}

/**
 * The "negligible" services, one line each, from what the state knows (all order-independent:
 * counts of grow-only sets). A line is `estimated` where requests per count are the pipeline's
 * pattern rather than a count the record has.
 *
 *   - SQS: every bus event reaches each of its catalog consumers through its queue (send,
 *     receive, delete), the upload reaches the LTX step the same way, and each further look of
 *     the LTX step at its generation is one more receive and a visibility change;
 *   - S3: one PUT per object the events say were stored (a count: not estimated); one GET per
 *     object a step reads (the LTX step the upload, each render the base clip, each segmenter
 *     run the final video);
 *   - DynamoDB: one write unit per DB-writer invocation (at least one per recorded event) and per
 *     invocation written onto the record on its own (the steps' own claim/state writes are not
 *     seen by the record).
 */
function serviceLines(s: CostState): CostLine[] {
  const types = Object.values(s.busEvents ?? {});
  if (!types.length) return [];
  const count = (...ts: DetailType[]) => types.filter((t) => ts.includes(t)).length;
  const deliveries = types.reduce((n, t) => n + (pipelineEvents[t]?.consumers.length ?? 0), 0);
  const ltxInvocations = stepInvocations(s, "ltx-step");
  const looks = Math.max(0, ltxInvocations - 1);
  const sqs = 3 * (deliveries + 1) + 2 * looks;
  const est = { estimated: true } as const;
  const lines: CostLine[] = [
    costLine({
      item: "sqs",
      basis: `${sqs} requests estimated from the record's counts: ${plural(deliveries + 1, "queued delivery", "queued deliveries")} (the ${plural(types.length, "bus event")} to their catalog consumers, and the upload to the ltx-step) × 3 (send, receive, delete) + ${plural(looks, "further ltx-step look")} × 2 (receive, visibility change) × $0.40 per million (${SQS_PRICES.source.url})`,
      quantity: sqs,
      unit: "request",
      unitPriceUsd: SQS_PRICES.perRequest,
      ...est,
    }),
  ];
  const puts = Object.keys(s.s3Objects ?? {}).length;
  const gets = (count("VideoBaseStarted", "VideoBaseReady", "VideoBaseFailed") ? 1 : 0) + count("RenderCompleted", "RenderFailed") + count("SegmentsReady", "SegmentsFailed");
  lines.push(
    costLine({
      item: "s3:put",
      basis: `${plural(puts, "object")} stored, counted from the keys the job's events name (upload, image, base clip, final video per version, HLS playlist and segments, clips, poster) × $0.005 per 1,000 PUTs (${S3_PRICES.source.url}); storage not counted`,
      quantity: puts,
      unit: "request",
      unitPriceUsd: S3_PRICES.perPut,
    }),
    costLine({
      item: "s3:get",
      basis: `${plural(gets, "GET")} estimated, one per object a step reads (the upload by the ltx-step, the base clip per render, the final video per segmenter run), viewers' downloads not counted × $0.0004 per 1,000 (${S3_PRICES.source.url})`,
      quantity: gets,
      unit: "request",
      unitPriceUsd: S3_PRICES.perGet,
      ...est,
    }),
  );
  const invocations = Object.values(s.invocations ?? {});
  const dbWriter = invocations.filter((v) => v.fn === "db-writer").length;
  const recorded = Math.max(types.length, dbWriter);
  // The DB writer's own invocation goes in the write that records its event, the upload API's in
  // the job's parameters: only the others (jobs API, render webhook, canceller, watchdog) are writes of their own.
  const ownWrites = invocations.filter((v) => v.fn !== "db-writer" && v.fn !== UPLOAD_API).length;
  const writes = recorded + ownWrites;
  lines.push(
    costLine({
      item: "dynamodb:write",
      basis: `${writes} write units estimated from the record's counts: ${plural(recorded, "event")} the DB writer recorded (one write each, redeliveries included) + ${plural(ownWrites, "invocation record")} written onto the job, 1 unit each (an item over 1 KB costs more; the steps' own state writes are not counted) × $0.625 per million (${DYNAMODB_PRICES.source.url})`,
      quantity: writes,
      unit: "write",
      unitPriceUsd: DYNAMODB_PRICES.perWriteUnit,
      ...est,
    }),
  );
  return lines;
}

export { costLine };

/** One Lambda line per function (and architecture) of the directly recorded invocations. */
function invocationLines(s: CostState): CostLine[] {
  const byFn = new Map<string, { fn: string; arch: LambdaArch; gbSeconds: number; n: number }>();
  for (const key of Object.keys(s.invocations ?? {}).sort()) {
    const v = s.invocations![key]!;
    const k = `${v.fn}|${v.arch}`;
    const g = byFn.get(k) ?? { fn: v.fn, arch: v.arch, gbSeconds: 0, n: 0 };
    g.gbSeconds += (v.ms / 1000) * (v.memoryMB / 1024);
    g.n++;
    byFn.set(k, g);
  }
  return [...byFn.keys()].sort().map((k) => {
    const g = byFn.get(k)!;
    return lambdaCost(roundUsd(g.gbSeconds), g.arch, { fn: g.fn, invocations: g.n });
  });
}
