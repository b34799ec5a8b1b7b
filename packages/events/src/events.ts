import { z } from "zod";
import { envelopeSchema, eventBridgeEnvelopeSchema } from "./envelope";
import { jobParamsSchema, objectRefSchema, videoInfoSchema } from "./job";
import { failureReasonSchema } from "./reasons";
import { jobCostSchema } from "./cost";

/**
 * Sources: one per producing component. Stable public contracts.
 *   reelbridge.ingest     the LTX step (image validation + base clip generation)
 *   reelbridge.render     the render step, the render webhook and the render watchdog
 *   reelbridge.segmenter  the FFmpeg segmenter
 *   reelbridge.notifier   the webhook notifier
 *   reelbridge.jobs       the jobs API (re-render and cancel requests, docs/decisions/0009)
 */
export const sources = {
  ingest: "reelbridge.ingest",
  render: "reelbridge.render",
  segmenter: "reelbridge.segmenter",
  notifier: "reelbridge.notifier",
  jobs: "reelbridge.jobs",
} as const;
export type Source = (typeof sources)[keyof typeof sources];

const job = jobParamsSchema;

/**
 * Which render of the job an event is about (docs/decisions/0009): 1 is the job's first render
 * (from its upload), 2… each re-render (POST /jobs/{jobId}/renders). Optional and additive
 * within v1: absent means 1, so every event of a job that was never re-rendered is unchanged.
 */
export const MAX_RENDER_VERSION = 1_000;
export const renderVersionSchema = z.number().int().min(1).max(MAX_RENDER_VERSION);
const version = renderVersionSchema.optional();

// ---- ingest ---------------------------------------------------------------------------------

export const videoBaseReadyData = z.object({
  job,
  /** The uploaded original. */
  source: objectRefSchema.extend({ sizeBytes: z.number().int().nonnegative() }),
  /** The validated, oriented, metadata-free image cropped to the job's aspect. */
  image: objectRefSchema.extend({ width: z.number().int().positive(), height: z.number().int().positive() }),
  /** The animated base clip: H.264, no audio. */
  baseVideo: videoInfoSchema,
  generator: z.object({
    /** "ltx-2" or "ffmpeg-offline" (the embedded runtime's generator). */
    name: z.string().min(1),
    generationId: z.string().min(1),
    model: z.string().optional(),
    cameraMotion: z.string(),
    /** Wall time from submit to the clip being stored. */
    seconds: z.number().nonnegative(),
  }),
  /** What this step paid for, line by line with its basis (cost ledger, issue #13); absent from producers that predate it. */
  stepCost: jobCostSchema.optional(),
});

export const videoBaseStartedData = z.object({
  job,
  /** The uploaded original. */
  source: objectRefSchema.extend({ sizeBytes: z.number().int().nonnegative() }),
  /** The validated, oriented, metadata-free image the generator animates. */
  image: objectRefSchema.extend({ width: z.number().int().positive(), height: z.number().int().positive() }),
  generator: z.object({
    /** "ltx-2" or "ffmpeg-offline" (the embedded runtime's generator). */
    name: z.string().min(1),
    /** The provider's id of the generation: VideoBaseReady reports the same one. */
    generationId: z.string().min(1),
    model: z.string().optional(),
    cameraMotion: z.string(),
  }),
});

export const videoBaseFailedData = z.object({
  /** Absent only when the upload's metadata could not be read at all. */
  job: job.optional(),
  source: objectRefSchema,
  reason: failureReasonSchema,
  /** What this step paid for, line by line with its basis (cost ledger, issue #13); absent from producers that predate it. */
  stepCost: jobCostSchema.optional(),
});

/**
 * The LTX step stood down: the job ended (cancelled) while its generation ran or before it
 * started, and the step stopped looking at it. Carries what the step had paid (issue #13).
 */
export const videoBaseStoppedData = z.object({
  job,
  /** The job's outcome that made the step stand down ("JobCancelled"). */
  stoppedBecause: z.string().min(1).max(64),
  /** The generation that was no longer looked at (absent: none had been submitted). */
  generationId: z.string().min(1).max(256).optional(),
  stoppedAt: z.iso.datetime({ offset: true }),
  /** What the step had paid when it stopped (the submitted generation, its own Lambda time). */
  stepCost: jobCostSchema.optional(),
});

// ---- render ---------------------------------------------------------------------------------

export const renderStartedData = z.object({
  job,
  version,
  renderId: z.string().min(1),
  /** "remotion-lambda" or "remotion-local". */
  renderer: z.string().min(1),
  compositionId: z.string().min(1),
  baseVideo: videoInfoSchema,
  /** Where the final video will be written. */
  output: objectRefSchema,
  /** What the render step paid for starting the render: its own Lambda time (cost ledger, issue #13). */
  stepCost: jobCostSchema.optional(),
});

export const renderCompletedData = z.object({
  job,
  version,
  renderId: z.string().min(1),
  renderer: z.string().min(1),
  /** The branded final video (H.264 + AAC, 2-second keyframe interval). */
  video: videoInfoSchema,
  /** Wall time of the render as the renderer reports it. */
  timeToFinishMs: z.number().nonnegative(),
  /** The renderer's own cost estimate (Remotion's `costs`), when it has one. */
  cost: z
    .object({
      estimated: z.number().nonnegative(),
      currency: z.string().min(1),
      disclaimer: z.string().optional(),
    })
    .optional(),
  /** When the job was uploaded (copied from job.createdAt) and when the render finished. */
  completedAt: z.iso.datetime({ offset: true }),
  /** What this step paid for, line by line with its basis (cost ledger, issue #13); absent from producers that predate it. */
  stepCost: jobCostSchema.optional(),
});

export const renderFailedData = z.object({
  job,
  version,
  renderId: z.string().min(1).optional(),
  renderer: z.string().min(1),
  reason: failureReasonSchema,
  /** What this step paid for, line by line with its basis (cost ledger, issue #13); absent from producers that predate it. */
  stepCost: jobCostSchema.optional(),
});

/**
 * A re-render was asked for (POST /jobs/{jobId}/renders): version N of the job's render, from the
 * stored base clip, with the version's own text, music and aspect in `job`. No new generation.
 */
export const renderRequestedData = z.object({
  /** The job's parameters with the version's title, subtitle, music and aspect. */
  job,
  /** 2 or more: the version this request was numbered (atomically, per job). */
  version: renderVersionSchema.min(2),
  /** The job's base clip, as the LTX step stored it. */
  baseVideo: videoInfoSchema,
  requestedAt: z.iso.datetime({ offset: true }),
});

// ---- jobs -----------------------------------------------------------------------------------

/** The job was cancelled by its owner (POST /jobs/{jobId}/cancel): its one outcome, terminal. */
export const jobCancelledData = z.object({
  /** Absent only when the job's parameters were never read (cancelled before the LTX step saw it). */
  job: job.optional(),
  /** Present when a re-render (version ≥ 2) was cancelled rather than the job's first render. */
  version,
  /** Where the job was when it was cancelled, as the job record showed it. */
  previousStatus: z.string().min(1).max(40).optional(),
  cancelledAt: z.iso.datetime({ offset: true }),
});

// ---- segmenter ------------------------------------------------------------------------------

export const segmentsReadyData = z.object({
  job,
  version,
  video: objectRefSchema,
  hls: z.object({
    playlistKey: z.string().min(1),
    segmentKeys: z.array(z.string().min(1)).min(1),
    /** "copy" when no re-encode was needed. */
    mode: z.enum(["copy", "reencode"]),
  }),
  clips: z.array(
    z.object({
      key: z.string().min(1),
      startSeconds: z.number().nonnegative(),
      endSeconds: z.number().positive(),
      mode: z.enum(["copy", "reencode"]),
    }),
  ),
  posterKey: z.string().min(1),
  /** Every key written, for consumers that copy the whole package. */
  keys: z.array(z.string().min(1)).min(1),
  /** What this step paid for, line by line with its basis (cost ledger, issue #13); absent from producers that predate it. */
  stepCost: jobCostSchema.optional(),
});

export const segmentsFailedData = z.object({
  job,
  version,
  video: objectRefSchema,
  reason: failureReasonSchema,
  /** What this step paid for, line by line with its basis (cost ledger, issue #13); absent from producers that predate it. */
  stepCost: jobCostSchema.optional(),
});

// ---- notifier -------------------------------------------------------------------------------

const endpointSchema = z.object({
  /** "callback" (given at upload) or "stage" (configured for the stage). */
  kind: z.enum(["callback", "stage"]),
  /** Scheme, host and path only: query strings may hold tokens and are never echoed. */
  url: z.string().min(1),
});

export const notificationDeliveredData = z.object({
  job,
  version,
  endpoint: endpointSchema,
  /** The Standard Webhooks `webhook-id`, stable across retries. */
  webhookId: z.string().min(1),
  /** The webhook's `type`, e.g. "video.completed". */
  webhookType: z.string().min(1),
  /** eventId of the pipeline event that was notified. */
  notifiedEventId: z.string().min(1),
  attempts: z.number().int().positive(),
  statusCode: z.number().int(),
  /** What this step paid for, line by line with its basis (cost ledger, issue #13); absent from producers that predate it. */
  stepCost: jobCostSchema.optional(),
});

export const notificationFailedData = z.object({
  job,
  version,
  endpoint: endpointSchema,
  webhookId: z.string().min(1),
  webhookType: z.string().min(1),
  notifiedEventId: z.string().min(1),
  attempts: z.number().int().nonnegative(),
  lastStatusCode: z.number().int().optional(),
  reason: failureReasonSchema,
  /** What this step paid for, line by line with its basis (cost ledger, issue #13); absent from producers that predate it. */
  stepCost: jobCostSchema.optional(),
});

// ---- the catalog ----------------------------------------------------------------------------

const def = <DT extends string, S extends Source, D extends z.ZodType>(
  detailType: DT,
  source: S,
  data: D,
  doc: { summary: string; emittedWhen: string; producer: string; consumers: string[] },
) => {
  const detail = envelopeSchema(data);
  return {
    detailType,
    source,
    data,
    detail,
    event: eventBridgeEnvelopeSchema(detailType, source, detail),
    ...doc,
  } as const;
};

export const pipelineEvents = {
  VideoBaseStarted: def("VideoBaseStarted", sources.ingest, videoBaseStartedData, {
    summary: "The photo was validated and its animation was submitted to the video generator.",
    emittedWhen: "After the generation id is recorded for the job, before the step waits for the clip.",
    producer: "ltx-step",
    consumers: ["db-writer"],
  }),
  VideoBaseReady: def("VideoBaseReady", sources.ingest, videoBaseReadyData, {
    summary: "The photo was validated and animated into a base clip.",
    emittedWhen: "After the base clip is stored at jobs/{jobId}/base.mp4.",
    producer: "ltx-step",
    consumers: ["render-step", "db-writer"],
  }),
  VideoBaseFailed: def("VideoBaseFailed", sources.ingest, videoBaseFailedData, {
    summary: "The upload could not become a base clip (bad image, rejected or failed generation).",
    emittedWhen: "On a permanent error in the LTX step, or when its retries are exhausted.",
    producer: "ltx-step",
    consumers: ["db-writer", "notifier"],
  }),
  VideoBaseStopped: def("VideoBaseStopped", sources.ingest, videoBaseStoppedData, {
    summary: "The LTX step stopped working on a job that ended (cancelled) while its generation ran; it carries what the step paid.",
    emittedWhen: "Once, when the LTX step finds the job's outcome after it had submitted the generation.",
    producer: "ltx-step",
    consumers: ["db-writer"],
  }),
  RenderStarted: def("RenderStarted", sources.render, renderStartedData, {
    summary: "The branded render was started (Remotion Lambda or the local renderer).",
    emittedWhen: "After the renderId is recorded for the job.",
    producer: "render-step",
    consumers: ["db-writer"],
  }),
  RenderCompleted: def("RenderCompleted", sources.render, renderCompletedData, {
    summary: "The final video is stored at jobs/{jobId}/final.mp4.",
    emittedWhen: "When Remotion's signed success webhook arrives (or the watchdog finds the render done).",
    producer: "render-webhook",
    consumers: ["db-writer", "segmenter", "notifier"],
  }),
  RenderFailed: def("RenderFailed", sources.render, renderFailedData, {
    summary: "The render could not start, failed or timed out.",
    emittedWhen: "On Remotion's error/timeout webhook, a failed start, or the watchdog finding a dead render.",
    producer: "render-webhook",
    consumers: ["db-writer", "notifier"],
  }),
  SegmentsReady: def("SegmentsReady", sources.segmenter, segmentsReadyData, {
    summary: "HLS rendition, clips and poster are stored under jobs/{jobId}/.",
    emittedWhen: "After every key listed is written.",
    producer: "segmenter",
    consumers: ["db-writer", "notifier"],
  }),
  SegmentsFailed: def("SegmentsFailed", sources.segmenter, segmentsFailedData, {
    summary: "FFmpeg could not package the final video.",
    emittedWhen: "On an FFmpeg failure; the reason carries the end of FFmpeg's error output.",
    producer: "segmenter",
    consumers: ["db-writer", "notifier"],
  }),
  RenderRequested: def("RenderRequested", sources.jobs, renderRequestedData, {
    summary: "A re-render of a finished job was requested: version N from the stored base clip, no new generation.",
    emittedWhen: "After POST /jobs/{jobId}/renders numbered the version (atomically) and recorded it.",
    producer: "jobs-api",
    consumers: ["render-step", "db-writer"],
  }),
  JobCancelled: def("JobCancelled", sources.jobs, jobCancelledData, {
    summary: "The job was cancelled by its owner; it is terminal.",
    emittedWhen: "After POST /jobs/{jobId}/cancel claimed the cancel as the job's one outcome (first writer wins against RenderCompleted and the failures).",
    producer: "jobs-api",
    consumers: ["db-writer", "notifier", "render-canceller"],
  }),
  NotificationDelivered: def("NotificationDelivered", sources.notifier, notificationDeliveredData, {
    summary: "A webhook reached its endpoint (2xx).",
    emittedWhen: "After the endpoint answered 2xx.",
    producer: "notifier",
    consumers: ["db-writer"],
  }),
  NotificationFailed: def("NotificationFailed", sources.notifier, notificationFailedData, {
    summary: "A webhook could not be delivered (endpoint gone, unsafe, or retries exhausted).",
    emittedWhen: "After the last retry, on 410 Gone, or when the SSRF guard refuses the endpoint.",
    producer: "notifier",
    consumers: ["db-writer"],
  }),
};

export type PipelineEvents = typeof pipelineEvents;
export type DetailType = keyof PipelineEvents;
export const detailTypes = Object.keys(pipelineEvents) as DetailType[];

/** The `detail` of a pipeline event: `{ metadata, data }`. */
export type Detail<T extends DetailType> = z.infer<PipelineEvents[T]["detail"]>;
/** The step's own data of a pipeline event. */
export type Data<T extends DetailType> = z.infer<PipelineEvents[T]["data"]>;
/** A pipeline event as EventBridge delivers it. */
export type PipelineEvent<T extends DetailType> = z.infer<PipelineEvents[T]["event"]>;

/** Event types that end a job in failure. */
export const failureTypes = ["VideoBaseFailed", "RenderFailed", "SegmentsFailed"] as const satisfies readonly DetailType[];

export const isDetailType = (s: string): s is DetailType => Object.hasOwn(pipelineEvents, s);

/**
 * Parse what a target received into a typed event of one of the given types; throws a ZodError
 * naming the offending path otherwise.
 */
export const parseEvent = <T extends DetailType>(type: T, input: unknown): PipelineEvent<T> =>
  pipelineEvents[type].event.parse(input) as PipelineEvent<T>;
