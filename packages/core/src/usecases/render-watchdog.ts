import type { Logger } from "../ports";
import type { RenderOutcome, SettleDeps } from "../render/outcome";
import { RenderOutputMissingError, settleRender } from "../render/outcome";
import type { GetRenderProgress, InFlightRender, RenderIndex } from "../render/ports";
import { RENDER_STATE, parseRenderRecord } from "../render/record";

/**
 * The render watchdog (scheduled): Remotion's webhook can be lost (its two retries exhausted,
 * our endpoint down) or never sent (REFERENCE §2.2: #4877), so renders that have had no outcome
 * for `afterSeconds` are asked about with getRenderProgress and settled through the same
 * one-outcome-per-render claim as the webhook (render/outcome.ts): a late webhook and the
 * watchdog never both emit. No job stays "rendering" forever: a render still not done after
 * `hardLimitSeconds` (far beyond Remotion's 900 s function limit) is failed with RenderTimeout.
 */

export interface RenderWatchdogDeps extends SettleDeps {
  index: RenderIndex;
  getRenderProgress: GetRenderProgress;
  /** Only renders started longer ago than this are checked. */
  afterSeconds: number;
  /** Renders still running after this long are failed (default 1800 s). */
  hardLimitSeconds?: number;
  /** At most this many renders per run (default 50), oldest first. */
  limit?: number;
}

export interface ReconcileSummary {
  checked: number;
  completed: number;
  failed: number;
  pending: number;
  /** Index entries dropped because the render already had an outcome or is not current. */
  cleaned: number;
  errors: number;
}

export async function reconcileRenders(deps: RenderWatchdogDeps, ctx: { logger: Logger }): Promise<ReconcileSummary> {
  const log = ctx.logger;
  const now = deps.clock.now();
  const summary: ReconcileSummary = { checked: 0, completed: 0, failed: 0, pending: 0, cleaned: 0, errors: 0 };
  const entries = await deps.index.listInFlight(new Date(now.getTime() - deps.afterSeconds * 1000), { limit: deps.limit ?? 50 });
  for (const entry of entries) {
    summary.checked++;
    try {
      const outcome = await reconcileOne(deps, entry, now, log);
      summary[outcome]++;
    } catch (err) {
      // One render's trouble (a throttled getRenderProgress, say) must not stop the others.
      summary.errors++;
      log.error("could not reconcile render", { jobId: entry.jobId, renderId: entry.renderId, error: (err as Error)?.message });
    }
  }
  if (summary.checked > 0) log.info("render watchdog run", { ...summary });
  return summary;
}

async function reconcileOne(deps: RenderWatchdogDeps, entry: InFlightRender, now: Date, log: Logger): Promise<"completed" | "failed" | "pending" | "cleaned"> {
  const record = parseRenderRecord(await deps.state.get(entry.jobId, RENDER_STATE));
  if (!record || record.renderId !== entry.renderId || record.status === "completed" || record.status === "failed") {
    await deps.index.remove(entry);
    return "cleaned";
  }
  const started = { ...record, renderId: entry.renderId, startedAt: record.startedAt ?? entry.startedAt };
  const fields = { jobId: entry.jobId, renderId: entry.renderId };
  const progress = await deps.getRenderProgress({ renderId: entry.renderId, ...(record.bucketName ? { bucketName: record.bucketName } : {}) });

  let outcome: RenderOutcome | undefined;
  if (progress.done) {
    outcome = { kind: "success", timeToFinishMs: progress.timeToFinishMs ?? null, costs: progress.costs ?? null };
  } else if (progress.fatalErrorEncountered) {
    const first = progress.errors[0];
    outcome = { kind: "error", message: `Remotion Lambda failed to render: ${first ? `${first.name ? `${first.name}: ` : ""}${first.message}` : "fatal error without details"}` };
  } else {
    const ageSeconds = (now.getTime() - Date.parse(started.startedAt)) / 1000;
    const limit = deps.hardLimitSeconds ?? 1_800;
    if (ageSeconds < limit) {
      log.info("render still running; webhook not due yet", { ...fields, overallProgress: progress.overallProgress, ageSeconds: Math.round(ageSeconds) });
      return "pending";
    }
    outcome = { kind: "timeout", message: `The render had not finished after ${Math.round(ageSeconds)} s (limit ${limit} s); it was at ${Math.round(progress.overallProgress * 100)}%.` };
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
