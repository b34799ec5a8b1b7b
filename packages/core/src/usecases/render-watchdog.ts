import type { Logger } from "../ports";
import type { RenderOutcome, SettleDeps } from "../render/outcome";
import { RenderOutputMissingError, settleRender } from "../render/outcome";
import type { GetRenderProgress, InFlightRender, RenderIndex, RenderProgressSnapshot } from "../render/ports";
import { parseRenderRecord, renderStateName } from "../render/record";

/**
 * The render watchdog (scheduled): Remotion's webhook can be lost (its two retries exhausted,
 * our endpoint down) or never sent (REFERENCE §2.2: #4877), so renders that have had no outcome
 * for `afterSeconds` are asked about with getRenderProgress and settled through the same
 * one-outcome-per-render claim as the webhook (render/outcome.ts): a late webhook and the
 * watchdog never both emit.
 *
 * No job stays "rendering" forever: a render older than `hardLimitSeconds` (far beyond
 * Remotion's 900 s function limit) is settled in that run whatever happens: its real outcome if
 * the renderer answers, else RenderFailed(RenderTimeout), also when getRenderProgress throws or
 * hangs (no bucketName, AccessDenied, an emulator restarted without the renderId).
 *
 * No render starves another: every listed render is checked in each run (a few at a time), so
 * renders whose progress call keeps failing cannot hold the newer ones back; and they leave the
 * index at the hard limit at the latest.
 */

export interface RenderWatchdogDeps extends SettleDeps {
  index: RenderIndex;
  getRenderProgress: GetRenderProgress;
  /** Only renders started longer ago than this are checked. */
  afterSeconds: number;
  /** Renders with no outcome after this long are failed (default 1800 s). */
  hardLimitSeconds?: number;
  /** At most this many renders per run (default 500), oldest first. */
  limit?: number;
  /** Renders checked at once (default 8). */
  concurrency?: number;
  /** A progress call that takes longer counts as failed (default 20 s). */
  progressTimeoutMs?: number;
}

export interface ReconcileContext {
  logger: Logger;
  /** Milliseconds left in this invocation: no new render is started with less than 15 s left. */
  remainingMs?: () => number;
}

export interface ReconcileSummary {
  checked: number;
  completed: number;
  failed: number;
  pending: number;
  /** Index entries dropped because the render already had an outcome or is not current. */
  cleaned: number;
  errors: number;
  /** Listed renders left for the next run because the invocation was running out of time. */
  deferred: number;
  /** The jobs whose renders it checked (the handler puts its invocation on their cost). */
  jobIds?: string[];
}

const DEFAULT_HARD_LIMIT_SECONDS = 1_800;
const RESERVE_MS = 15_000;

export async function reconcileRenders(deps: RenderWatchdogDeps, ctx: ReconcileContext): Promise<ReconcileSummary> {
  const log = ctx.logger;
  const now = deps.clock.now();
  const summary: ReconcileSummary = { checked: 0, completed: 0, failed: 0, pending: 0, cleaned: 0, errors: 0, deferred: 0 };
  const entries = await deps.index.listInFlight(new Date(now.getTime() - deps.afterSeconds * 1000), { limit: deps.limit ?? 500 });
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      if (ctx.remainingMs && ctx.remainingMs() < RESERVE_MS) {
        summary.deferred += entries.length - next;
        next = entries.length;
        return;
      }
      const entry = entries[next++]!;
      summary.checked++;
      (summary.jobIds ??= []).push(entry.jobId);
      try {
        const outcome = await reconcileOne(deps, entry, now, log);
        summary[outcome]++;
      } catch (err) {
        // One render's trouble (a throttled getRenderProgress, say) must not stop the others.
        summary.errors++;
        log.error("could not reconcile render", { jobId: entry.jobId, renderId: entry.renderId, error: (err as Error)?.message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency ?? 8, entries.length)) }, worker));
  if (summary.checked > 0 || summary.deferred > 0) log.info("render watchdog run", { ...summary });
  return summary;
}

class ProgressTimeoutError extends Error {
  constructor(ms: number) {
    super(`getRenderProgress did not answer within ${ms} ms`);
    this.name = "ProgressTimeoutError";
  }
}

async function askProgress(deps: RenderWatchdogDeps, q: { renderId: string; bucketName?: string }): Promise<RenderProgressSnapshot> {
  const ms = deps.progressTimeoutMs ?? 20_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      deps.getRenderProgress(q),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ProgressTimeoutError(ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function reconcileOne(deps: RenderWatchdogDeps, entry: InFlightRender, now: Date, log: Logger): Promise<"completed" | "failed" | "pending" | "cleaned"> {
  const record = parseRenderRecord(await deps.state.get(entry.jobId, renderStateName(entry.version ?? 1)));
  if (!record || record.renderId !== entry.renderId || record.status === "completed" || record.status === "failed" || record.status === "cancelled") {
    await deps.index.remove(entry);
    return "cleaned";
  }
  const started = { ...record, renderId: entry.renderId, startedAt: record.startedAt ?? entry.startedAt };
  const fields = { jobId: entry.jobId, renderId: entry.renderId };
  const ageSeconds = (now.getTime() - Date.parse(started.startedAt)) / 1000;
  const limit = deps.hardLimitSeconds ?? DEFAULT_HARD_LIMIT_SECONDS;
  const pastLimit = ageSeconds >= limit;

  let progress: RenderProgressSnapshot | undefined;
  let askError: unknown;
  try {
    progress = await askProgress(deps, { renderId: entry.renderId, ...(record.bucketName ? { bucketName: record.bucketName } : {}) });
  } catch (err) {
    // Before the hard limit: counted as an error, asked again next run. Past it: settled below.
    if (!pastLimit) throw err;
    askError = err;
    log.warn("render past its hard limit and its progress cannot be read; failing it", { ...fields, ageSeconds: Math.round(ageSeconds), error: (err as Error)?.message });
  }

  let outcome: RenderOutcome;
  if (!progress) {
    const why = askError instanceof ProgressTimeoutError ? "did not answer" : `could not be asked (${(askError as Error)?.name ?? "Error"})`;
    outcome = { kind: "timeout", message: `The render had no outcome after ${Math.round(ageSeconds)} s (limit ${limit} s), and the renderer ${why} whether it finished.` };
  } else if (progress.done) {
    outcome = { kind: "success", timeToFinishMs: progress.timeToFinishMs ?? null, costs: progress.costs ?? null };
  } else if (progress.fatalErrorEncountered) {
    const first = progress.errors[0];
    // What the failed render accrued is still paid for (cost ledger, issue #13).
    outcome = { kind: "error", message: `Remotion Lambda failed to render: ${first ? `${first.name ? `${first.name}: ` : ""}${first.message}` : "fatal error without details"}`, costs: progress.costs ?? null };
  } else if (!pastLimit) {
    log.info("render still running; webhook not due yet", { ...fields, overallProgress: progress.overallProgress, ageSeconds: Math.round(ageSeconds) });
    return "pending";
  } else {
    outcome = { kind: "timeout", message: `The render had not finished after ${Math.round(ageSeconds)} s (limit ${limit} s); it was at ${Math.round(progress.overallProgress * 100)}%.`, costs: progress.costs ?? null };
  }

  let result;
  try {
    result = await settleRender(deps, started, outcome, "watchdog");
  } catch (err) {
    if (!(err instanceof RenderOutputMissingError)) throw err;
    result = await settleRender(deps, started, { kind: "error", message: `Remotion reported the render done, but ${err.message}` }, "watchdog");
  }
  log.warn(result.emitted ? "render settled by the watchdog (its webhook never arrived)" : "render already settled", { ...fields, event: result.type, eventId: result.eventId });
  return result.type === "RenderCompleted" ? "completed" : "failed";
}
