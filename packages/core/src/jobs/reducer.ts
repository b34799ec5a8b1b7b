import type { DetailType, FailureReason, JobParams, PipelineEvent } from "@reelbridge/events";
import type { JobRecord, JobStatus, RenderVersionEntry, TimelineEntry } from "../ports";
import { toGeneratedVideo } from "./generated-video";
import type { RenderedVideo } from "./generated-video";
import { summarize } from "./summary";
import { jobCostOf, mergeEventCost, mergeInvocations } from "./cost-ledger";
import type { CostState, OwnInvocation } from "./cost-ledger";

/**
 * The pure reducer behind the DB writer: (job state, pipeline event) → job state.
 *
 * Every part of the state is a merge that is commutative, associative and idempotent, so the
 * state after a set of events does not depend on their order or on duplicates (README.md):
 *   - `seen`: the set of event types seen (grow-only); the status is a function of it alone;
 *   - single-valued fields (params, output keys, the rendered video, each step's failure) are
 *     last-writer-wins registers ordered by the event's (time, eventId) stamp;
 *   - the timeline is the newest TIMELINE_LIMIT entries of the set of events, keyed by eventId;
 *   - notifications are a map keyed by (webhookId, endpoint), "delivered" beating "failed";
 *   - cost lines are a map keyed by the event that carried them, plus the set of bus events
 *     (cost-ledger.ts), summed into the record's `cost` and the row's `cost_usd`.
 * `appliedEventIds` only lets the store skip a write for a recent duplicate; an older duplicate
 * that fell out of it merges to the same state anyway.
 */

export const TIMELINE_LIMIT = 50;
export const APPLIED_LIMIT = 100;
export const NOTIFICATIONS_LIMIT = 50;

export const statusRank: Record<JobStatus, number> = {
  uploaded: 0,
  generating: 1,
  generated: 2,
  rendering: 3,
  rendered: 4,
  completed: 5,
  failed: 6,
  cancelled: 7,
};

type Step = "base" | "render" | "segments";
export type StepFailure = FailureReason & { type: DetailType; stamp: string };
type Notification = NonNullable<JobRecord["notifications"]>[number] & { stamp: string };

/** The stored job: the public record plus what order-independent merging needs. */
export interface JobState extends CostState {
  jobId: string;
  /** Absent only while the job is known from a VideoBaseFailed without job parameters. */
  owner?: string;
  params?: JobParams;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  failure?: JobRecord["failure"];
  timeline: TimelineEntry[];
  outputs: JobRecord["outputs"];
  video?: JobRecord["video"];
  notifications: Notification[];
  /** Event types seen (sorted set). */
  seen: DetailType[];
  failures: Partial<Record<Step, StepFailure>>;
  rendered?: RenderedVideo;
  /** field → stamp of the event that last wrote it (LWW registers). */
  stamps: Record<string, string>;
  /** Recent eventIds, newest last (bounded). */
  appliedEventIds: string[];
  /** Earliest event time seen: createdAt while the params are unknown. */
  firstEventTime: string;
  /**
   * Render versions N ≥ 2 (docs/decisions/0009), by version: each merged like the job itself
   * (a seen set, LWW registers), so the order of their events does not matter either.
   */
  versionStates?: Record<string, VersionState>;
}

/** One re-render's state: what its events said, merged order-independently. */
export interface VersionState {
  version: number;
  seen: DetailType[];
  params?: JobParams;
  requestedAt?: string;
  updatedAt: string;
  firstEventTime: string;
  failures: Partial<Record<Step, StepFailure>>;
  outputs: RenderVersionEntry["outputs"];
  rendered?: RenderedVideo;
  stamps: Record<string, string>;
}

export type AnyPipelineEvent = PipelineEvent<DetailType>;

const iso = (t: string) => new Date(t).toISOString();
export const stampOf = (e: AnyPipelineEvent) => `${iso(e.detail.metadata.time)}|${e.detail.metadata.eventId}`;

/** Writes `field` when this event's stamp is newer than the one that wrote it last. */
function lww(s: JobState, field: string, stamp: string, write: () => void): void {
  const prev = s.stamps[field];
  if (prev !== undefined && prev >= stamp) return;
  write();
  s.stamps[field] = stamp;
}

const jobOf = (e: AnyPipelineEvent): JobParams | undefined => (e.detail.data as { job?: JobParams }).job;

function emptyState(e: AnyPipelineEvent): JobState {
  const t = iso(e.detail.metadata.time);
  return {
    jobId: e.detail.metadata.jobId,
    status: "uploaded",
    createdAt: t,
    updatedAt: t,
    timeline: [],
    outputs: {},
    notifications: [],
    seen: [],
    failures: {},
    stamps: {},
    appliedEventIds: [],
    firstEventTime: t,
  };
}

const byTimeThenId = (a: { time: string; eventId: string }, b: { time: string; eventId: string }) =>
  a.time < b.time ? -1 : a.time > b.time ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;

/** Which step a failure event ends, and which events prove that step (or a later one) succeeded. */
const failureStep: Partial<Record<DetailType, Step>> = { VideoBaseFailed: "base", RenderFailed: "render", SegmentsFailed: "segments" };

/**
 * The status as a function of the set of event types seen (README.md, "State machine").
 * Success evidence of a step, or of any later step, supersedes that step's failure: the
 * artifact exists, so the failure was not final (a watchdog race, a replay, a late duplicate).
 */
export function deriveStatus(seen: ReadonlySet<DetailType>): { status: JobStatus; failedStep?: Step } {
  // JobCancelled is only recorded when it is the job's ledger outcome (the DB writer checks), so
  // no RenderCompleted or failure was published: the job is cancelled, whatever ran before.
  if (seen.has("JobCancelled")) return { status: "cancelled" };
  const segmentsOk = seen.has("SegmentsReady");
  // The segmenter only runs on RenderCompleted, so either of its outcomes proves the render.
  const renderOk = seen.has("RenderCompleted") || segmentsOk || seen.has("SegmentsFailed");
  // The render step only runs on VideoBaseReady.
  const baseOk = seen.has("VideoBaseReady") || seen.has("RenderStarted") || seen.has("RenderFailed") || renderOk;
  if (seen.has("VideoBaseFailed") && !baseOk) return { status: "failed", failedStep: "base" };
  if (seen.has("RenderFailed") && !renderOk) return { status: "failed", failedStep: "render" };
  if (seen.has("SegmentsFailed") && !segmentsOk) return { status: "failed", failedStep: "segments" };
  if (segmentsOk) return { status: "completed" };
  if (renderOk) return { status: "rendered" };
  if (seen.has("RenderStarted")) return { status: "rendering" };
  if (baseOk) return { status: "generated" };
  // VideoBaseStarted is not proof of success: a VideoBaseFailed after it fails the job (above).
  if (seen.has("VideoBaseStarted")) return { status: "generating" };
  return { status: "uploaded" };
}

/** A version's status from the set of its event types, like deriveStatus for the job. */
export function deriveVersionStatus(seen: ReadonlySet<DetailType>): { status: RenderVersionEntry["status"]; failedStep?: Step } {
  if (seen.has("JobCancelled")) return { status: "cancelled" };
  const segmentsOk = seen.has("SegmentsReady");
  const renderOk = seen.has("RenderCompleted") || segmentsOk || seen.has("SegmentsFailed");
  if (seen.has("RenderFailed") && !renderOk) return { status: "failed", failedStep: "render" };
  if (seen.has("SegmentsFailed") && !segmentsOk) return { status: "failed", failedStep: "segments" };
  if (segmentsOk) return { status: "completed" };
  if (renderOk) return { status: "rendered" };
  if (seen.has("RenderStarted")) return { status: "rendering" };
  return { status: "requested" };
}

const versionOfEvent = (e: AnyPipelineEvent): number => {
  const v = (e.detail.data as { version?: unknown }).version;
  return typeof v === "number" && Number.isInteger(v) && v > 1 ? v : 1;
};

/** Merges an event of render version N ≥ 2 into its own sub-state. */
function mergeVersion(s: JobState, version: number, e: AnyPipelineEvent, stamp: string, time: string): void {
  const states = (s.versionStates ??= {});
  const v = (states[String(version)] ??= { version, seen: [], updatedAt: time, firstEventTime: time, failures: {}, outputs: {}, stamps: {} });
  const type = e["detail-type"] as DetailType;
  if (!v.seen.includes(type)) v.seen = [...v.seen, type].sort();
  if (time > v.updatedAt) v.updatedAt = time;
  if (time < v.firstEventTime) v.firstEventTime = time;
  const reg = (field: string, write: () => void) => {
    const prev = v.stamps[field];
    if (prev !== undefined && prev >= stamp) return;
    write();
    v.stamps[field] = stamp;
  };
  const job = jobOf(e);
  if (job) reg("params", () => (v.params = structuredClone(job)));
  const step = failureStep[type];
  if (step) {
    const reason = (e.detail.data as { reason: FailureReason }).reason;
    reg(`failure.${step}`, () => (v.failures[step] = { ...reason, type, stamp }));
  }
  const out = v.outputs;
  switch (e["detail-type"]) {
    case "RenderRequested":
      reg("requestedAt", () => (v.requestedAt = iso(e.detail.data.requestedAt)));
      break;
    case "RenderStarted":
      reg("outputs.renderId", () => (out.renderId = e.detail.data.renderId));
      break;
    case "RenderCompleted": {
      const d = e.detail.data;
      reg("outputs.renderId", () => (out.renderId = d.renderId));
      reg("outputs.finalVideoKey", () => (out.finalVideoKey = d.video.key));
      reg("rendered", () => {
        v.rendered = { key: d.video.key, sizeBytes: d.video.sizeBytes, durationSeconds: d.video.durationSeconds, width: d.video.width, height: d.video.height, fps: d.video.fps, renderId: d.renderId, completedAt: iso(d.completedAt) };
      });
      break;
    }
    case "SegmentsReady": {
      const d = e.detail.data;
      reg("outputs.finalVideoKey", () => (out.finalVideoKey = d.video.key));
      reg("segments", () => {
        out.hlsPlaylistKey = d.hls.playlistKey;
        out.clipKeys = d.clips.map((c) => c.key);
        out.posterKey = d.posterKey;
      });
      break;
    }
    default:
      break;
  }
}

function merge(s: JobState, e: AnyPipelineEvent): void {
  const stamp = stampOf(e);
  const { eventId } = e.detail.metadata;
  const time = iso(e.detail.metadata.time);
  const type = e["detail-type"] as DetailType;
  // Every event's cost lines count, a re-render's too (it paid for its render and its steps).
  mergeEventCost(s, e);
  const version = versionOfEvent(e);
  if (version > 1) {
    // A re-render's events: its own sub-state, and the job's timeline; the job's status and
    // parameters stay its first render's (terminal statuses never change).
    if (time > s.updatedAt) s.updatedAt = time;
    if (!s.timeline.some((t) => t.eventId === eventId)) {
      s.timeline = [...s.timeline, { eventId, type, time, summary: summarize(e) }].sort(byTimeThenId).slice(-TIMELINE_LIMIT);
    }
    mergeVersion(s, version, e, stamp, time);
    if (type === "NotificationDelivered" || type === "NotificationFailed") mergeNotification(s, e, stamp, time);
    return;
  }

  if (!s.seen.includes(type)) s.seen = [...s.seen, type].sort();
  if (time < s.firstEventTime) s.firstEventTime = time;
  if (time > s.updatedAt) s.updatedAt = time;

  const job = jobOf(e);
  if (job) lww(s, "params", stamp, () => (s.params = structuredClone(job)));

  if (!s.timeline.some((t) => t.eventId === eventId)) {
    s.timeline = [...s.timeline, { eventId, type, time, summary: summarize(e) }].sort(byTimeThenId).slice(-TIMELINE_LIMIT);
  }

  const out = s.outputs;
  const step = failureStep[type];
  if (step) {
    const reason = (e.detail.data as { reason: FailureReason }).reason;
    lww(s, `failure.${step}`, stamp, () => (s.failures[step] = { ...reason, type, stamp }));
  }

  switch (e["detail-type"]) {
    case "VideoBaseReady":
      lww(s, "outputs.baseVideoKey", stamp, () => (out.baseVideoKey = e.detail.data.baseVideo.key));
      break;
    case "RenderStarted":
      lww(s, "outputs.baseVideoKey", stamp, () => (out.baseVideoKey = e.detail.data.baseVideo.key));
      lww(s, "outputs.renderId", stamp, () => (out.renderId = e.detail.data.renderId));
      break;
    case "RenderCompleted": {
      const d = e.detail.data;
      lww(s, "outputs.renderId", stamp, () => (out.renderId = d.renderId));
      lww(s, "outputs.finalVideoKey", stamp, () => (out.finalVideoKey = d.video.key));
      lww(s, "rendered", stamp, () => {
        s.rendered = {
          key: d.video.key,
          sizeBytes: d.video.sizeBytes,
          durationSeconds: d.video.durationSeconds,
          width: d.video.width,
          height: d.video.height,
          fps: d.video.fps,
          renderId: d.renderId,
          completedAt: iso(d.completedAt),
        };
      });
      break;
    }
    case "RenderFailed": {
      const renderId = e.detail.data.renderId;
      if (renderId) lww(s, "outputs.renderId", stamp, () => (out.renderId = renderId));
      break;
    }
    case "SegmentsReady": {
      const d = e.detail.data;
      lww(s, "outputs.finalVideoKey", stamp, () => (out.finalVideoKey = d.video.key));
      lww(s, "segments", stamp, () => {
        out.hlsPlaylistKey = d.hls.playlistKey;
        out.clipKeys = d.clips.map((c) => c.key);
        out.posterKey = d.posterKey;
      });
      break;
    }
    case "NotificationDelivered":
    case "NotificationFailed":
      mergeNotification(s, e, stamp, time);
      break;
    default:
      break;
  }
}

function mergeNotification(s: JobState, e: AnyPipelineEvent, stamp: string, time: string): void {
  if (e["detail-type"] !== "NotificationDelivered" && e["detail-type"] !== "NotificationFailed") return;
  const d = e.detail.data;
  const outcome = e["detail-type"] === "NotificationDelivered" ? "delivered" : "failed";
  const next: Notification = { webhookId: d.webhookId, endpoint: d.endpoint.url, outcome, attempts: d.attempts, time, stamp };
  const i = s.notifications.findIndex((n) => n.webhookId === d.webhookId && n.endpoint === d.endpoint.url);
  const prev = i >= 0 ? s.notifications[i] : undefined;
  // "delivered" is final for an endpoint; among equal outcomes the newer report wins.
  const better = !prev || (prev.outcome !== outcome ? outcome === "delivered" : prev.stamp < stamp);
  if (better) {
    const rest = s.notifications.filter((_, j) => j !== i);
    s.notifications = [...rest, next].sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0)).slice(-NOTIFICATIONS_LIMIT);
  }
}

/** The job's versions for the record: 1 (the job's own render) and every re-render, oldest first. */
function versionEntries(s: JobState): RenderVersionEntry[] | undefined {
  const states = Object.values(s.versionStates ?? {}).sort((a, b) => a.version - b.version);
  if (states.length === 0) return undefined;
  const pick = (p: JobParams | undefined): RenderVersionEntry["params"] =>
    p ? { title: p.title, subtitle: p.subtitle, music: p.music, aspect: p.aspect } : { title: "", subtitle: "", music: "", aspect: "9:16" };
  const first: RenderVersionEntry = {
    version: 1,
    status: versionStatusOfJob(s.status),
    params: pick(s.params),
    requestedAt: s.createdAt,
    updatedAt: s.updatedAt,
    ...(s.failure ? { failure: { code: s.failure.code, message: s.failure.message, retryable: s.failure.retryable, type: s.failure.type } } : {}),
    outputs: {
      ...(s.outputs.finalVideoKey ? { finalVideoKey: s.outputs.finalVideoKey } : {}),
      ...(s.outputs.hlsPlaylistKey ? { hlsPlaylistKey: s.outputs.hlsPlaylistKey } : {}),
      ...(s.outputs.clipKeys ? { clipKeys: s.outputs.clipKeys } : {}),
      ...(s.outputs.posterKey ? { posterKey: s.outputs.posterKey } : {}),
      ...(s.outputs.renderId ? { renderId: s.outputs.renderId } : {}),
    },
  };
  const rest = states.map((v): RenderVersionEntry => {
    const { status, failedStep } = deriveVersionStatus(new Set(v.seen));
    const f = failedStep ? v.failures[failedStep] : undefined;
    return {
      version: v.version,
      status,
      params: pick(v.params),
      requestedAt: v.requestedAt ?? v.firstEventTime,
      updatedAt: v.updatedAt,
      ...(f ? { failure: { code: f.code, message: f.message, retryable: f.retryable, type: f.type } } : {}),
      outputs: { ...v.outputs },
    };
  });
  return [first, ...rest];
}

const versionStatusOfJob = (status: JobStatus): RenderVersionEntry["status"] =>
  status === "uploaded" || status === "generating" || status === "generated" ? "requested" : status;

/** The latest re-render that completed (final video packaged), if any. */
function latestCompleted(s: JobState): VersionState | undefined {
  return Object.values(s.versionStates ?? {})
    .filter((v) => v.rendered && deriveVersionStatus(new Set(v.seen)).status === "completed")
    .sort((a, b) => b.version - a.version)[0];
}

/** Recomputes the derived fields: status, failure, owner, createdAt, the generated_videos row. */
function finalize(s: JobState): void {
  const { status, failedStep } = deriveStatus(new Set(s.seen));
  s.status = status;
  const f = failedStep ? s.failures[failedStep] : undefined;
  if (f) s.failure = { code: f.code, message: f.message, retryable: f.retryable, type: f.type };
  else delete s.failure;
  if (s.params) {
    s.owner = s.params.owner;
    s.createdAt = iso(s.params.createdAt);
  } else {
    s.createdAt = s.firstEventTime;
  }
  const latest = latestCompleted(s);
  if (latest?.params && latest.rendered) s.video = toGeneratedVideo(latest.params, latest.rendered, { status, posterKey: latest.outputs.posterKey });
  else if (s.params && s.rendered) s.video = toGeneratedVideo(s.params, s.rendered, { status, posterKey: s.outputs.posterKey });
  else delete s.video;
  // What the job has cost so far, next to the generated_videos fields (failed jobs too: the record's `cost`).
  if (s.video) s.video = { ...s.video, cost_usd: jobCostOf(s).totalUsd };
}

/**
 * Applies one event. `applied` is false when the event was already applied recently (nothing
 * to write). The input state is never mutated.
 */
export function applyEvent(state: JobState | undefined, event: AnyPipelineEvent, invocations?: Record<string, OwnInvocation>): { applied: boolean; state: JobState } {
  if (state?.appliedEventIds.includes(event.detail.metadata.eventId)) {
    // A recent duplicate: only the invocation that recorded it may be new (the DB writer's own line).
    return invocations ? applyInvocations(state, invocations) : { applied: false, state };
  }
  if (state && state.jobId !== event.detail.metadata.jobId) {
    throw new Error(`event of job ${event.detail.metadata.jobId} applied to job ${state.jobId}`);
  }
  const s = state ? structuredClone(state) : emptyState(event);
  merge(s, event);
  if (invocations) mergeInvocations(s, invocations);
  s.appliedEventIds = [...s.appliedEventIds, event.detail.metadata.eventId].slice(-APPLIED_LIMIT);
  finalize(s);
  return { applied: true, state: s };
}

/**
 * Adds measured invocations of our own Lambdas (cost-ledger.ts `invocations`) to a stored job:
 * `applied` is false when they were all there already. The input state is never mutated.
 */
export function applyInvocations(state: JobState, invocations: Record<string, OwnInvocation>): { applied: boolean; state: JobState } {
  const s = structuredClone(state);
  if (!mergeInvocations(s, invocations)) return { applied: false, state };
  if (s.video) s.video = { ...s.video, cost_usd: jobCostOf(s).totalUsd };
  return { applied: true, state: s };
}

/** Folds events into a state (tests, replays). */
export const reduceEvents = (events: Iterable<AnyPipelineEvent>, initial?: JobState): JobState | undefined => {
  let s = initial;
  for (const e of events) s = applyEvent(s, e).state;
  return s;
};

/** The public record (ports' JobRecord) of a stored state: bookkeeping stripped. */
export function toJobRecord(s: JobState): JobRecord {
  const record = {
    jobId: s.jobId,
    // Only a job-less VideoBaseFailed leaves these unknown; see README.md.
    owner: s.owner ?? "",
    params: s.params as JobParams,
    status: s.status,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    ...(s.failure ? { failure: s.failure } : {}),
    timeline: s.timeline,
    // The job view shows the latest completed render version (docs/decisions/0009).
    outputs: latestOutputs(s),
    ...(s.video ? { video: s.video } : {}),
    cost: jobCostOf(s),
    ...(s.notifications.length ? { notifications: s.notifications.map(({ stamp: _stamp, ...n }) => n) } : {}),
  };
  const versions = versionEntries(s);
  return versions ? { ...record, versions, latestVersion: versions[versions.length - 1]!.version } : record;
}

/** The job's outputs, with the latest completed re-render's final video and package in place of the first render's. */
function latestOutputs(s: JobState): JobRecord["outputs"] {
  const latest = latestCompleted(s);
  if (!latest) return s.outputs;
  const { finalVideoKey, hlsPlaylistKey, clipKeys, posterKey, renderId } = latest.outputs;
  return {
    ...s.outputs,
    ...(finalVideoKey ? { finalVideoKey } : {}),
    ...(renderId ? { renderId } : {}),
    ...(hlsPlaylistKey ? { hlsPlaylistKey } : {}),
    ...(clipKeys ? { clipKeys } : {}),
    ...(posterKey ? { posterKey } : {}),
  };
}

/** The state without `appliedEventIds`: what must be equal whatever the delivery order. */
export const comparableState = (s: JobState): Omit<JobState, "appliedEventIds"> => {
  const { appliedEventIds: _a, ...rest } = s;
  return rest;
};
