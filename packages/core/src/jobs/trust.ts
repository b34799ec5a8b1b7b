import type { DetailType, JobParams, PipelineEvent } from "@reelbridge/events";
import { InvalidEventError, UntrustedEventError } from "../errors";
import { finalVideoKeyOf, isJobKey, jobKeys, uploadKey } from "../upload/keys";
import { versionOf } from "../render/record";
import { isOutcomeType, sameJob } from "./ledger";
import type { JobView } from "./ledger";

/**
 * Events are input too (issue #11 items 3 and 4): anyone who can PutEvents on the bus can send
 * any detail. Two checks, run by the shared handler plumbing (functions/src/lib/handlers.ts)
 * before any step acts on an event:
 *
 *  1. assertEventConsistent: the event agrees with itself and with the key layout
 *     (upload/keys.ts): `metadata.jobId` is `data.job.jobId`, every object key is the one the
 *     layout names or lies under `jobs/{jobId}/`. Failing it is an InvalidEventError: permanent,
 *     never retried.
 *  2. admitEvent: the event agrees with what the pipeline knows of its job (jobs/ledger.ts): the
 *     job was started, its parameters are the recorded ones, and the event does not contradict
 *     the job's outcome. Failing it is an UntrustedEventError: dropped, nothing written or sent.
 */

type AnyEvent = PipelineEvent<DetailType>;

/** Every object key an event names, with what the layout says it must be. */
function keyClaims(e: AnyEvent): Array<{ path: string; key: string; expected?: string }> {
  const jobId = e.detail.metadata.jobId;
  const k = jobKeys(jobId);
  const d = e.detail.data as Record<string, unknown>;
  // A render version's final video is its own (docs/decisions/0009); version 1's is k.finalVideo.
  const finalVideo = finalVideoKeyOf(jobId, versionOf(d));
  const ref = (path: string, expected?: string) => {
    const v = d[path] as { key?: unknown } | undefined;
    return v && typeof v.key === "string" ? [{ path: `${path}.key`, key: v.key, ...(expected ? { expected } : {}) }] : [];
  };
  switch (e["detail-type"]) {
    case "VideoBaseStarted":
      return [...ref("source", uploadKey(jobId)), ...ref("image", k.image)];
    case "VideoBaseReady":
      return [...ref("source", uploadKey(jobId)), ...ref("image", k.image), ...ref("baseVideo", k.baseVideo)];
    case "VideoBaseFailed":
      return ref("source", uploadKey(jobId));
    case "RenderRequested":
      return ref("baseVideo", k.baseVideo);
    case "RenderStarted":
      return [...ref("baseVideo", k.baseVideo), ...ref("output", finalVideo)];
    case "RenderCompleted":
    case "SegmentsFailed":
      return ref("video", finalVideo);
    case "SegmentsReady": {
      const s = e.detail.data as PipelineEvent<"SegmentsReady">["detail"]["data"];
      return [
        ...ref("video", finalVideo),
        { path: "hls.playlistKey", key: s.hls.playlistKey },
        ...s.hls.segmentKeys.map((key, i) => ({ path: `hls.segmentKeys.${i}`, key })),
        ...s.clips.map((c, i) => ({ path: `clips.${i}.key`, key: c.key })),
        { path: "posterKey", key: s.posterKey },
        ...s.keys.map((key, i) => ({ path: `keys.${i}`, key })),
      ];
    }
    default:
      return [];
  }
}

/** Throws InvalidEventError naming the first claim of the event that cannot be true. */
export function assertEventConsistent(e: AnyEvent): void {
  const { jobId } = e.detail.metadata;
  const job = (e.detail.data as { job?: JobParams }).job;
  if (job && job.jobId !== jobId) throw new InvalidEventError(`data.job.jobId ${job.jobId} is not metadata.jobId ${jobId}`);
  for (const c of keyClaims(e)) {
    const ok = c.expected !== undefined ? c.key === c.expected : isJobKey(c.key, jobId);
    if (!ok) {
      const want = c.expected !== undefined ? `must be ${c.expected}` : `must lie under jobs/${jobId}/`;
      throw new InvalidEventError(`data.${c.path} ${JSON.stringify(c.key.slice(0, 200))} ${want}`);
    }
  }
}

/**
 * How a consumer acts on a job, for admitEvent:
 *   act     starts work for the job (the render step): only while the job has no outcome
 *   follow  works on the job's outcome (segmenter) or reports it (notifier)
 *   record  folds the event into the job record (DB writer)
 */
export type ConsumerRole = "act" | "follow" | "record";

export type Admission = { admitted: true } | { admitted: false; why: string };

/** Events that presume a given outcome did not happen (the step they prove succeeded, or a later one). */
const contradicts: Record<"VideoBaseFailed" | "RenderFailed" | "RenderCompleted" | "JobCancelled", readonly DetailType[]> = {
  VideoBaseFailed: ["VideoBaseReady", "RenderStarted", "RenderCompleted", "RenderFailed", "SegmentsReady", "SegmentsFailed", "RenderRequested"],
  RenderFailed: ["RenderCompleted", "SegmentsReady", "SegmentsFailed", "VideoBaseFailed"],
  RenderCompleted: ["VideoBaseFailed", "RenderFailed", "JobCancelled"],
  // A cancel may land while the base clip is made or the render runs (their events still happen
  // and are recorded); nothing that needs a finished render can follow it.
  JobCancelled: ["RenderCompleted", "RenderFailed", "VideoBaseFailed", "SegmentsReady", "SegmentsFailed", "RenderRequested"],
};

/**
 * Whether a consumer may act on an event, given what the pipeline knows of its job:
 *   - a job the pipeline never started: nothing;
 *   - `data.job` must be the job's recorded parameters (owner, callback URL, clips…);
 *   - an outcome event (VideoBaseFailed, RenderFailed, RenderCompleted) must be the job's one
 *     recorded outcome: producers record it before publishing, so any other is not theirs;
 *   - nothing that contradicts the outcome (a VideoBaseReady for a job whose base failed);
 *     SegmentsReady/SegmentsFailed only as the consequence of the job's RenderCompleted;
 *   - `act`: a job with an outcome is terminal, nothing more is started for it.
 */
export function admitEvent(view: JobView, e: AnyEvent, role: ConsumerRole): Admission {
  const type = e["detail-type"];
  const { jobId, eventId, causationId } = e.detail.metadata;
  const no = (why: string): Admission => ({ admitted: false, why });
  if (!view.known) return no(`the pipeline never started job ${jobId}`);
  const version = versionOf(e.detail.data);
  if (version > 1) return admitVersionEvent(view, e, role, version);
  const job = (e.detail.data as { job?: JobParams }).job;
  if (job && view.job && !sameJob(job, view.job)) return no(`the event's job parameters are not job ${jobId}'s`);
  const o = view.outcome;
  if (!view.job) {
    // Ended before the LTX step started it (cancelled while queued, or an unreadable upload):
    // the outcome is all the pipeline did for the job, so only it and what it caused (the
    // notifier's report of it) are admitted, with the outcome's own parameters.
    const ofOutcome = o && ((o.eventId === eventId && type === o.type) || causationId === o.eventId);
    if (!ofOutcome) return no(`job ${jobId} was never started; only its ${o?.type ?? "outcome"} and what follows from it are the pipeline's`);
    const recorded = (o.event.data as { job?: JobParams }).job;
    if (job && recorded && !sameJob(job, recorded)) return no(`the event's job parameters are not job ${jobId}'s`);
  }
  if (isOutcomeType(type)) {
    if (!o) return no(`job ${jobId} has no recorded ${type}: the event is not the pipeline's`);
    if (o.eventId !== eventId) return no(`job ${jobId} already ended with ${o.type} ${o.eventId}`);
  }
  if (o && contradicts[o.type].includes(type)) return no(`job ${jobId} ended with ${o.type}; a ${type} contradicts it`);
  if (type === "SegmentsReady" || type === "SegmentsFailed") {
    if (o?.type !== "RenderCompleted" || causationId !== o.eventId) return no(`a ${type} of job ${jobId} must follow its RenderCompleted`);
  }
  // The LTX step stands down only for the job's outcome, and names it.
  if (type === "VideoBaseStopped" && (!o || causationId !== o.eventId)) return no(`a VideoBaseStopped of job ${jobId} must follow its outcome`);
  if (role === "act" && o) return no(`job ${jobId} is terminal (${o.type})`);
  return { admitted: true };
}

/**
 * admitEvent for an event of render version N ≥ 2 (docs/decisions/0009): the same rules against
 * the version's own records (`view(jobId, { version })`): it was requested through the jobs API,
 * `data.job` is the version's parameters, an outcome event is the version's one outcome, and
 * nothing is started for a version with an outcome or a job that was cancelled.
 */
function admitVersionEvent(view: JobView, e: AnyEvent, role: ConsumerRole, version: number): Admission {
  const type = e["detail-type"];
  const { jobId, eventId, causationId } = e.detail.metadata;
  const no = (why: string): Admission => ({ admitted: false, why });
  const v = view.version;
  if (!v || v.version !== version || !v.record) return no(`job ${jobId} has no render version ${version}`);
  const job = (e.detail.data as { job?: JobParams }).job;
  if (job && !sameJob(job, v.record.job)) return no(`the event's job parameters are not those of job ${jobId}'s version ${version}`);
  const o = v.outcome;
  if (isOutcomeType(type)) {
    if (!o) return no(`version ${version} of job ${jobId} has no recorded ${type}: the event is not the pipeline's`);
    if (o.eventId !== eventId) return no(`version ${version} of job ${jobId} already ended with ${o.type} ${o.eventId}`);
  }
  if (o && contradicts[o.type].includes(type)) return no(`version ${version} of job ${jobId} ended with ${o.type}; a ${type} contradicts it`);
  if (type === "SegmentsReady" || type === "SegmentsFailed") {
    if (o?.type !== "RenderCompleted" || causationId !== o.eventId) return no(`a ${type} of version ${version} of job ${jobId} must follow its RenderCompleted`);
  }
  if (role === "act" && view.outcome?.type === "JobCancelled") return no(`job ${jobId} was cancelled`);
  if (role === "act" && o) return no(`version ${version} of job ${jobId} is terminal (${o.type})`);
  return { admitted: true };
}

/** admitEvent that throws UntrustedEventError, for the handler plumbing. */
export function assertAdmitted(view: JobView, e: AnyEvent, role: ConsumerRole): void {
  const a = admitEvent(view, e, role);
  if (!a.admitted) throw new UntrustedEventError(a.why);
}
