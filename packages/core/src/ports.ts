/**
 * Ports: the small interfaces use-cases depend on (ARCHITECTURE.md, principle 4). AWS adapters
 * (adapters/aws) and local adapters (adapters/local, packages/local) implement them; use-case
 * tests pass in-memory fakes. Nothing here imports AWS.
 */
import type { DetailType, Data, FailureReason, JobParams, PipelineEvent } from "@reelbridge/events";
import type { JobLedger } from "./jobs/ledger";
import type { OwnInvocation } from "./jobs/cost-ledger";
import type { JobCost } from "@reelbridge/events";

// ---- blobs ----------------------------------------------------------------------------------

export interface BlobHead {
  sizeBytes: number;
  contentType?: string;
  /** User metadata (x-amz-meta-*), keys lower-case without the prefix. */
  metadata: Record<string, string>;
}

export interface BlobStore {
  /** Bucket name (or the local store's name), as events report it. */
  readonly bucket: string;
  head(key: string): Promise<BlobHead | undefined>;
  /** Throws BlobNotFoundError when absent. */
  get(key: string): Promise<BlobHead & { bytes: Uint8Array }>;
  put(key: string, body: Uint8Array, opts: { contentType: string; cacheControl?: string; metadata?: Record<string, string> }): Promise<void>;
  /** Streams a local file up (large outputs: videos, segments). */
  putFile(key: string, path: string, opts: { contentType: string; cacheControl?: string }): Promise<void>;
  /** Streams a blob down into a local file. */
  getToFile(key: string, path: string): Promise<BlobHead>;
  /** A URL anyone holding it can GET until it expires. */
  presignGet(key: string, opts: { expiresInSeconds: number; downloadFileName?: string }): Promise<string>;
}

export class BlobNotFoundError extends Error {
  readonly code = "BlobNotFound";
  constructor(readonly key: string) {
    super(`no object at ${key}`);
    this.name = "BlobNotFoundError";
  }
}

// ---- events ---------------------------------------------------------------------------------

/** What a step asks to publish; the publisher adds the envelope's metadata and source. */
export interface OutgoingEvent<T extends DetailType = DetailType> {
  type: T;
  data: Data<T>;
  /** Dedup key of this logical event: the same input must give the same id (idempotency). */
  eventId: string;
  jobId: string;
  causationId: string;
}

export interface EventPublisher {
  /** Publishes after validating each detail against its contract; retries failed entries. */
  publish(events: OutgoingEvent[]): Promise<void>;
}

// ---- step state (idempotency) ---------------------------------------------------------------

/**
 * Small per-job records that make steps idempotent: the LTX generation id, the Remotion
 * renderId, webhook dedup keys. `putIfAbsent` is a conditional write.
 */
export interface StepStateStore {
  get(jobId: string, name: string): Promise<Record<string, unknown> | undefined>;
  /** Writes when absent; returns whether it wrote and the value now stored. */
  putIfAbsent(jobId: string, name: string, value: Record<string, unknown>): Promise<{ created: boolean; value: Record<string, unknown> }>;
  /** Unconditional merge (e.g. recording progress on an existing record). */
  update(jobId: string, name: string, value: Record<string, unknown>): Promise<void>;
}

// ---- job record -----------------------------------------------------------------------------

export type JobStatus =
  | "uploaded"
  | "generating"
  | "generated"
  | "rendering"
  | "rendered"
  | "completed"
  | "failed"
  | "cancelled";

/** One render of the job as the job record keeps it (docs/decisions/0009): 1 is the first, 2… the re-renders. */
export interface RenderVersionEntry {
  version: number;
  status: "requested" | "rendering" | "rendered" | "completed" | "failed" | "cancelled";
  /** What this version shows. */
  params: Pick<JobParams, "title" | "subtitle" | "music" | "aspect">;
  requestedAt: string;
  updatedAt: string;
  failure?: FailureReason & { type: DetailType };
  outputs: { finalVideoKey?: string; hlsPlaylistKey?: string; clipKeys?: string[]; posterKey?: string; renderId?: string };
}

export interface TimelineEntry {
  eventId: string;
  type: DetailType;
  time: string;
  /** Short human summary, e.g. "base clip 6.0 s 1080×1920". */
  summary: string;
}

/** The `generated_videos` row, as the existing table defines it. */
export interface GeneratedVideo {
  id: string;
  user_id: string;
  title: string;
  subtitle: string;
  video_url: string;
  thumbnail_url: string | null;
  filename: string;
  file_size_mb: number;
  duration_seconds: number;
  resolution: string;
  camera_prompt: string;
  music_file: string;
  status: string;
  generation_time_seconds: number;
  created_at: string;
  /** What the job has cost so far, USD (the record's cost.totalUsd; issue #13). */
  cost_usd?: number;
}

export interface JobRecord {
  jobId: string;
  owner: string;
  status: JobStatus;
  params: JobParams;
  createdAt: string;
  updatedAt: string;
  failure?: FailureReason & { type: DetailType };
  timeline: TimelineEntry[];
  outputs: {
    baseVideoKey?: string;
    finalVideoKey?: string;
    hlsPlaylistKey?: string;
    clipKeys?: string[];
    posterKey?: string;
    renderId?: string;
  };
  video?: GeneratedVideo;
  /** What the job has cost so far, line by line (jobs/cost-ledger.ts); absent on records from before the ledger. */
  cost?: JobCost;
  notifications?: Array<{ webhookId: string; endpoint: string; outcome: "delivered" | "failed"; attempts: number; time: string }>;
  /**
   * Every render version, oldest first; present once the job was re-rendered. `outputs` and
   * `video` are then the latest completed version's.
   */
  versions?: RenderVersionEntry[];
  /** The highest version requested (present with `versions`). */
  latestVersion?: number;
}

export interface JobStore {
  /**
   * Applies one pipeline event idempotently and order-independently (conditional writes);
   * `invocations` (the DB writer's own measured invocation, jobs/cost-ledger.ts) are merged in
   * the same write.
   */
  apply(event: PipelineEvent<DetailType>, opts?: { invocations?: Record<string, OwnInvocation> }): Promise<{ applied: boolean; record: JobRecord }>;
  /**
   * Adds measured invocations of our own Lambdas to an existing job's cost (jobs/cost-ledger.ts),
   * idempotently: `known` is false, and nothing is written, when the job has no record.
   */
  recordInvocations?(jobId: string, invocations: Record<string, OwnInvocation>): Promise<{ known: boolean; applied: boolean }>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** The owner's jobs, newest first. */
  listByOwner(owner: string, opts: { limit: number; cursor?: string }): Promise<{ items: JobRecord[]; cursor?: string }>;
  /**
   * The job ledger kept beside the records (jobs/ledger.ts: the jobs table holds both), which
   * the DB writer checks events against; absent for a store without one.
   */
  readonly ledger?: JobLedger;
}

// ---- outside services -----------------------------------------------------------------------

export type CameraMotion = "dolly_in" | "dolly_out" | "dolly_left" | "dolly_right" | "jib_up" | "jib_down" | "static" | "focus_shift";

export interface GenerationRequest {
  jobId: string;
  /** The normalised image: bytes, and a URL the provider can fetch (presigned GET). */
  image: { bytes: Uint8Array; url?: string };
  prompt: string;
  cameraMotion: CameraMotion;
  durationSeconds: number;
  width: number;
  height: number;
  fps: number;
  model?: string;
}

/**
 * What one look at a submitted generation found (VideoGenerator.check): still running, done (the
 * clip, downloaded), or gone (the provider no longer knows the id, e.g. LTX's 24 h retention, or
 * the offline generator's process restarted). A generation that failed throws a PermanentError;
 * a throttle, 5xx or timeout throws a TransientError.
 */
export type GenerationCheck =
  | { status: "pending"; providerStatus?: string; progress?: number }
  | { status: "completed"; video: Uint8Array; contentType: "video/mp4"; model?: string }
  | { status: "gone"; why: string };

/**
 * An image-to-video provider, in the submit/check shape (docs/decisions/0010): nothing waits on
 * it. `submit` asks for the generation and returns the provider's id at once; `check` looks once
 * and returns. The LTX step submits in one short invocation and checks in later ones, each
 * scheduled by the queue (the message made visible again after `checkIntervalSeconds`).
 */
export interface VideoGenerator {
  readonly name: string;
  /** When to look first after submitting, then between looks, in seconds. */
  readonly checkIntervalSeconds: { first: number; next: number };
  /** Asks for the generation (pays for it); returns the provider's id. */
  submit(req: GenerationRequest, opts?: { signal?: AbortSignal }): Promise<{ generationId: string; model?: string }>;
  /** One look at a generation; downloads the clip when it is done. */
  check(generationId: string, opts?: { signal?: AbortSignal }): Promise<GenerationCheck>;
}

export interface RenderRequest {
  jobId: string;
  compositionId: string;
  /** Validated against remotion's input-props schema by the adapter. */
  inputProps: Record<string, unknown>;
  /** Key the final video is written to in the media bucket. */
  outputKey: string;
  /** Where the renderer reports completion (Remotion's webhook contract). */
  webhook: { url: string; customData: Record<string, unknown> };
  /** Keyframe interval the segmenter relies on. */
  keyframeIntervalSeconds: number;
  /**
   * Remotion's render scale (its `scale`: the composition's width and height times this, then
   * even for H.264; render/geometry.ts). Decided once by the render step, which records and
   * announces the size it gives (RenderCompleted, generated_videos.resolution); absent means 1.
   * Renderers render at exactly this scale.
   */
  scale?: number;
}

export interface Renderer {
  readonly name: string;
  /** Starts the render and returns at once; completion arrives through the webhook. */
  start(req: RenderRequest): Promise<{ renderId: string; bucketName?: string }>;
  /**
   * Asks a running render to stop (Remotion Lambda's cancelRenderOnLambda for renders started with
   * enableCancellation; the local emulator aborts its renderer). Resolves once the signal is
   * given; a render that already ended is not an error. Absent: the renderer cannot cancel.
   */
  cancel?(q: { renderId: string; bucketName?: string }): Promise<void>;
}

// ---- platform -------------------------------------------------------------------------------

export interface Clock {
  now(): Date;
}

export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

// ---- Segmenter (the segmenter step; createFfmpegSegmenter in adapters/ffmpeg) ----

export interface ProbeResult {
  durationSeconds: number;
  width: number;
  height: number;
  fps: number;
  videoCodec: string;
  audioCodec?: string;
  /** Presentation times of the video keyframes, in seconds from the start of the file, ascending. */
  keyframeTimes: number[];
  sizeBytes: number;
}

export type ClipSpec = { lengthSeconds: number } | { cutPoints: number[] };

export interface SegmentRequest {
  inputPath: string;
  outputDir: string;
  hls: { targetSegmentSeconds: number };
  clips: ClipSpec & {
    /**
     * A cut this close to a keyframe moves onto it so the clip can be copied. Default: 0.5 s for
     * cut points; 10% of the length (0.25–1 s) for fixed-length clips.
     */
    snapToleranceSeconds?: number;
  };
  /** Default: the middle of the video. */
  poster: { atSeconds?: number };
}

export type PackagingMode = "copy" | "reencode";

export interface SegmentedFile {
  /** Relative to outputDir, with forward slashes. */
  path: string;
  contentType: string;
  sizeBytes: number;
}

export interface SegmentResult {
  files: SegmentedFile[];
  hls: { playlist: string; segments: number; mode: PackagingMode; targetDurationSeconds: number; segmentDurations: number[] };
  clips: Array<{ path: string; startSeconds: number; endSeconds: number; mode: PackagingMode }>;
  poster: string;
  probe: ProbeResult;
}

export interface Segmenter {
  probe(inputPath: string): Promise<ProbeResult>;
  segment(req: SegmentRequest): Promise<SegmentResult>;
}
