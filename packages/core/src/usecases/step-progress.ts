import type { StepProgress } from "@reelbridge/events/http";
import type { JobRecord, StepStateStore } from "../ports";
import type { GetRenderProgress } from "../render/ports";
import { renderStateName } from "../render/record";
import { GENERATION_STATE } from "./generation-state";

/**
 * The progress of the steps running now, for the status API (issue #14 item 3), read at the time
 * of the request from what the steps already keep, so nothing new goes through the reducer and
 * the answer does not depend on the order events arrived in:
 *
 *  - the generation: the LTX step's record (submittedAt; `progress` and `lastCheckedAt` from its
 *    last look that found it running, when the provider reports a progress);
 *  - a render: its render record (startedAt, renderId) and one question to the renderer
 *    (Remotion's getRenderProgress, the call the watchdog makes; the local emulator's), bounded
 *    by `timeoutMs`. A renderer that does not answer leaves the fraction out, never fails the view.
 *
 * secondsLeft = elapsed × (1 − f) / f at the measurement, less the time since: only with a
 * fraction of at least MIN_FRACTION_FOR_ETA (earlier figures are mostly start-up noise).
 */
export const MIN_FRACTION_FOR_ETA = 0.02;
export const RENDER_PROGRESS_TIMEOUT_MS = 2_500;

export interface StepProgressDeps {
  state: Pick<StepStateStore, "get">;
  renderProgress?: GetRenderProgress;
  timeoutMs?: number;
}

export interface JobProgress {
  generation?: StepProgress;
  render?: StepProgress & { version: number };
}

const iso = (v: unknown): string | undefined => (typeof v === "string" && Number.isFinite(Date.parse(v)) ? new Date(v).toISOString() : undefined);
const fractionOf = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : undefined);

/** The estimate of one step's progress from its start, a fraction, when it was measured, and now. */
export function estimate(p: { startedAt?: string; fraction?: number; measuredAt?: string }, now: Date): StepProgress {
  const out: StepProgress = {
    ...(p.fraction !== undefined ? { fraction: p.fraction } : {}),
    ...(p.startedAt ? { startedAt: p.startedAt } : {}),
    ...(p.measuredAt && p.fraction !== undefined ? { measuredAt: p.measuredAt } : {}),
  };
  if (p.fraction === undefined || !p.startedAt || !p.measuredAt) return out;
  if (p.fraction >= 1) return { ...out, secondsLeft: 0 };
  if (p.fraction < MIN_FRACTION_FOR_ETA) return out;
  const elapsed = (Date.parse(p.measuredAt) - Date.parse(p.startedAt)) / 1000;
  if (!(elapsed > 0)) return out;
  const sinceMeasured = Math.max(0, (now.getTime() - Date.parse(p.measuredAt)) / 1000);
  const left = (elapsed * (1 - p.fraction)) / p.fraction - sinceMeasured;
  return { ...out, secondsLeft: Math.max(0, Math.round(left * 10) / 10) };
}

/** The render version running now: a re-render's (latest first), else the job's first while it renders. */
function renderingVersion(record: JobRecord): number | undefined {
  const running = [...(record.versions ?? [])].reverse().find((v) => v.status === "rendering" || v.status === "requested");
  if (running) return running.version;
  return record.status === "rendering" ? 1 : undefined;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } catch {
    return undefined;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export async function jobProgress(deps: StepProgressDeps, record: JobRecord, now: Date): Promise<JobProgress | undefined> {
  const out: JobProgress = {};
  if (record.status === "uploaded" || record.status === "generating") {
    const g = await deps.state.get(record.jobId, GENERATION_STATE).catch(() => undefined);
    const startedAt = iso(g?.submittedAt);
    if (g && startedAt && g.status !== "completed") {
      const fraction = fractionOf(g.progress);
      out.generation = estimate({ startedAt, ...(fraction !== undefined ? { fraction } : {}), ...(iso(g.lastCheckedAt) ? { measuredAt: iso(g.lastCheckedAt)! } : {}) }, now);
    }
  }
  const version = renderingVersion(record);
  if (version !== undefined) {
    // Only the fields read here (render/record.ts RenderRecord): a record of another shape shows no fraction, never an error.
    const r = await deps.state.get(record.jobId, renderStateName(version)).catch(() => undefined);
    const status = r?.status;
    if (r && (status === "starting" || status === "started")) {
      const startedAt = iso(r.startedAt) ?? iso(r.claimedAt);
      const renderId = typeof r.renderId === "string" && r.renderId ? r.renderId : undefined;
      const bucketName = typeof r.bucketName === "string" && r.bucketName ? r.bucketName : undefined;
      let fraction: number | undefined;
      if (status === "started" && renderId && deps.renderProgress) {
        const snap = await withTimeout(deps.renderProgress({ renderId, ...(bucketName ? { bucketName } : {}) }), deps.timeoutMs ?? RENDER_PROGRESS_TIMEOUT_MS);
        if (snap && !snap.fatalErrorEncountered) fraction = snap.done ? 1 : fractionOf(snap.overallProgress);
      }
      out.render = { version, ...estimate({ ...(startedAt ? { startedAt } : {}), ...(fraction !== undefined ? { fraction, measuredAt: now.toISOString() } : {}) }, now) };
    }
  }
  return out.generation || out.render ? out : undefined;
}
