import type { OutgoingEvent, EventPublisher, JobStore, Logger, StepStateStore, Clock } from "../ports";
import { createJobLedger } from "../jobs/ledger";
import type { JobOutcome } from "../jobs/ledger";
import { versionField } from "../render/record";
import { JobRequestError, MAX_VERSIONS_PER_JOB, ownedJob } from "./rerender";
import type { JobCaller } from "./rerender";

/**
 * POST /jobs/{jobId}/cancel (docs/decisions/0009): claims JobCancelled as the job's one outcome
 * in the ledger (jobs/ledger.ts, a conditional write: first writer wins against RenderCompleted,
 * RenderFailed and VideoBaseFailed), then publishes it. Everything else follows from the ledger:
 * the LTX step stops checking, the render step starts nothing, the render canceller stops the
 * running render, the segmenter and the notifier drop a RenderCompleted that lost the race, and
 * the notifier sends `video.cancelled`.
 *
 *   - a job without an outcome: cancelled now (200, cancelledNow true), also one the LTX step has
 *     not started yet (uploaded and still queued, or not even uploaded): its owner is the one the
 *     upload API recorded when it signed the upload (ledger `job-signed`), and the LTX step,
 *     finding the outcome, generates nothing;
 *   - already cancelled: 200 again (cancelledNow false), the stored event re-published if a
 *     crash left it unpublished;
 *   - completed or failed: its re-renders still in flight are cancelled (each version's own
 *     outcome); with none, 409 JobCompleted / JobFailed.
 */

export interface CancelJobDeps {
  state: StepStateStore;
  publisher: EventPublisher;
  clock: Clock;
  /** The job record, for `previousStatus` (informative only). */
  jobs?: Pick<JobStore, "get">;
  logger?: Logger;
}

export interface CancelJobResult {
  jobId: string;
  status: "cancelled";
  /** The re-render that was cancelled (the highest, when several were in flight). */
  version?: number;
  cancelledAt: string;
  cancelledNow: boolean;
}

const cancelEventId = (jobId: string, version: number) => `${jobId}:job-cancelled${version > 1 ? `:v${version}` : ""}`;

const refused = (jobId: string, o: JobOutcome): JobRequestError =>
  o.type === "RenderCompleted"
    ? new JobRequestError(409, "JobCompleted", `job ${jobId} has completed; there is nothing to cancel`)
    : new JobRequestError(409, "JobFailed", `job ${jobId} has already failed (${o.type}); there is nothing to cancel`);

const cancelledAtOf = (o: JobOutcome): string => {
  const at = (o.event.data as { cancelledAt?: unknown }).cancelledAt;
  return typeof at === "string" ? at : o.recordedAt;
};

export async function cancelJob(deps: CancelJobDeps, req: { jobId: string; caller: JobCaller }): Promise<CancelJobResult> {
  const { jobId } = req;
  const ledger = createJobLedger(deps.state);
  const view = await ledger.view(jobId, { signed: true });
  // Not started by the LTX step yet: the parameters the upload API signed name the owner.
  const job = ownedJob(view.job || !view.signed ? view : { ...view, known: true, job: view.signed.job }, req.caller);
  const o = view.outcome;

  const claim = async (version: number, previousStatus: string | undefined, params = job): Promise<{ won: boolean; outcome: JobOutcome; now: boolean }> => {
    const cancelledAt = deps.clock.now().toISOString();
    const eventId = cancelEventId(jobId, version);
    const event: OutgoingEvent<"JobCancelled"> = {
      type: "JobCancelled",
      eventId,
      jobId,
      causationId: eventId,
      data: { job: params, ...versionField(version), ...(previousStatus ? { previousStatus } : {}), cancelledAt },
    };
    const r = await ledger.claimOutcome(event, cancelledAt);
    if (!r.ours) return { won: false, outcome: r.outcome, now: false };
    if (!r.outcome.published) {
      await deps.publisher.publish([r.outcome.event]);
      await ledger.markPublished(jobId, version);
    }
    return { won: true, outcome: r.outcome, now: r.created };
  };

  if (!o || o.type === "JobCancelled") {
    const previousStatus = o ? undefined : (await deps.jobs?.get(jobId))?.status;
    const r = await claim(1, previousStatus);
    if (!r.won) {
      deps.logger?.info("cancel lost the race for the job's outcome", { jobId, outcome: r.outcome.type });
      throw refused(jobId, r.outcome);
    }
    deps.logger?.info(r.now ? "job cancelled" : "job already cancelled", { jobId });
    return { jobId, status: "cancelled", cancelledAt: cancelledAtOf(r.outcome), cancelledNow: r.now };
  }
  if (o.type === "VideoBaseFailed") throw refused(jobId, o);

  // The first render ended: cancel the re-renders still in flight, newest first.
  const hint = (await deps.state.get(jobId, "render-versions"))?.latest;
  const latest = typeof hint === "number" && Number.isInteger(hint) ? Math.min(hint + 1, MAX_VERSIONS_PER_JOB) : 1;
  let cancelled: { version: number; at: string; now: boolean } | undefined;
  for (let v = latest; v >= 2; v--) {
    const vv = (await ledger.view(jobId, { version: v })).version;
    if (!vv?.record) continue;
    if (vv.outcome && vv.outcome.type !== "JobCancelled") continue;
    const r = await claim(v, "rendering", vv.record.job);
    if (r.won && !cancelled) cancelled = { version: v, at: cancelledAtOf(r.outcome), now: r.now };
  }
  if (!cancelled) throw refused(jobId, o);
  deps.logger?.info("re-render cancelled", { jobId, version: cancelled.version });
  return { jobId, status: "cancelled", version: cancelled.version, cancelledAt: cancelled.at, cancelledNow: cancelled.now };
}
