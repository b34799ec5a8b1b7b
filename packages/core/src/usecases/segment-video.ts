import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipelineEvents } from "@reelbridge/events";
import type { ClipOptions, FailureReason, JobParams, ObjectRef, PipelineEvent } from "@reelbridge/events";
import { FfmpegError, MediaError } from "../media/errors";
import { UntrustedEventError } from "../errors";
import { BlobNotFoundError } from "../ports";
import type { BlobStore, EventPublisher, Logger, OutgoingEvent, Segmenter, SegmentRequest, SegmentResult, StepStateStore } from "../ports";
import { versionPrefix } from "../upload/keys";
import { versionField, versionOf } from "../render/record";

/**
 * The segmenter step: on RenderCompleted, packages jobs/{jobId}/final.mp4 into an HLS VOD
 * rendition (jobs/{jobId}/hls/), clips (jobs/{jobId}/clips/) and a poster
 * (jobs/{jobId}/poster.jpg), then announces SegmentsReady listing every key.
 *
 * Idempotent: keys are deterministic (the segmenter names files the same way for the same input)
 * and the event id is derived from the RenderCompleted event id, so a repeated event overwrites
 * the same keys with the same bytes and publishes the same event.
 */

export interface SegmentVideoDeps {
  blobs: BlobStore;
  segmenter: Pick<Segmenter, "segment">;
  publisher: EventPublisher;
  /** A writable scratch directory (/tmp in Lambda: size it with ephemeralStorage). */
  tmpDir: string;
  logger: Logger;
  /**
   * The jobs table's step state, for the job ledger the handler checks events against
   * (jobs/ledger.ts). Without it only the event's own consistency is checked.
   */
  state?: StepStateStore;
}

/**
 * Clips when the job asked for none: 6 s, a multiple of the render's 2-second keyframe
 * interval, so every clip boundary falls on a keyframe and the clips are stream copies.
 */
export const DEFAULT_CLIPS: ClipOptions = { lengthSeconds: 6 };
/** HLS target: 4 s (Apple recommends ~6 s, the issue asks for 2–4 s); two GOPs per segment. */
export const HLS_TARGET_SEGMENT_SECONDS = 4;
/** Outputs uploaded in parallel. */
const UPLOAD_CONCURRENCY = 4;

/** Cache-Control per output: the playlist may be re-made by a re-render; media is overwritten identically. */
export function cacheControlFor(path: string): string {
  return path.endsWith(".m3u8") ? "public, max-age=60" : "public, max-age=86400";
}

/** The final video's reason message: FFmpeg's message plus the end of its stderr, within 2000 characters. */
export function ffmpegFailureReason(err: MediaError): FailureReason {
  const tail = err instanceof FfmpegError ? err.stderrTail.trim() : "";
  const head = err.message.trim();
  const budget = 2000 - head.length - 2;
  const message = tail && !head.endsWith(tail) && budget > 40 ? `${head}\n\n${tail.length > budget ? tail.slice(-budget) : tail}` : head;
  return { code: "FfmpegFailed", message: message.slice(0, 2000) || "FFmpeg failed", retryable: false };
}

const stableId = (prefix: string, ...parts: string[]) =>
  `${prefix}_${createHash("sha256").update(parts.join("\n")).digest("base64url").slice(0, 32)}`;

/** The SegmentsFailed event for a RenderCompleted event (also used by the handler's `fail`). */
export function segmentsFailedEvent(
  meta: { eventId: string; jobId: string },
  data: { job: JobParams; video: ObjectRef; version?: number },
  reason: FailureReason,
): OutgoingEvent<"SegmentsFailed"> {
  return {
    type: "SegmentsFailed",
    eventId: stableId("seg", meta.eventId, "SegmentsFailed"),
    jobId: meta.jobId,
    causationId: meta.eventId,
    data: { job: data.job, ...versionField(data.version ?? 1), video: { bucket: data.video.bucket, key: data.video.key }, reason },
  };
}

/**
 * Ends a job whose RenderCompleted event could not be processed (invalid event, retries
 * exhausted): publishes SegmentsFailed when the raw event still carries its job, video and
 * metadata; otherwise logs and returns false. For the handler's `fail`.
 */
export async function failSegmenting(
  deps: { publisher: EventPublisher },
  raw: unknown,
  reason: FailureReason,
  ctx: { logger: Logger },
): Promise<boolean> {
  const detail = (raw as { detail?: { metadata?: { eventId?: unknown; jobId?: unknown }; data?: { job?: unknown; video?: unknown } } } | null)?.detail;
  const video = detail?.data?.video;
  const data = pipelineEvents.SegmentsFailed.data.safeParse({
    job: detail?.data?.job,
    ...versionField(versionOf(detail?.data)),
    video: video && typeof video === "object" ? { bucket: (video as { bucket?: unknown }).bucket, key: (video as { key?: unknown }).key } : undefined,
    reason,
  });
  const eventId = detail?.metadata?.eventId;
  const jobId = detail?.metadata?.jobId;
  if (!data.success || typeof eventId !== "string" || typeof jobId !== "string") {
    // Without the job parameters and video there is no valid SegmentsFailed to send.
    ctx.logger.error("cannot report SegmentsFailed: the event lacks its job or video", { reason });
    return false;
  }
  await deps.publisher.publish([segmentsFailedEvent({ eventId, jobId }, data.data, reason)]);
  return true;
}

export type SegmentVideoOutcome =
  | { status: "ready"; event: OutgoingEvent<"SegmentsReady">; result: SegmentResult }
  | { status: "failed"; event: OutgoingEvent<"SegmentsFailed"> };

export async function segmentVideo(deps: SegmentVideoDeps, event: PipelineEvent<"RenderCompleted">): Promise<SegmentVideoOutcome> {
  const { metadata, data } = event.detail;
  const { job, video } = data;
  const jobId = metadata.jobId;
  // A re-render's package lives in its version's folder (docs/decisions/0009).
  const version = versionOf(data);
  const prefix = versionPrefix(jobId, version);
  const log = deps.logger;

  await mkdir(deps.tmpDir, { recursive: true });
  const work = await mkdtemp(join(deps.tmpDir, `segment-${jobId}-`));
  try {
    const inputPath = join(work, "final.mp4");
    try {
      await deps.blobs.getToFile(video.key, inputPath);
    } catch (err) {
      // RenderCompleted is only published after its video was found (render/outcome.ts), and
      // S3 is strongly consistent: an event naming a video that is not there is not the
      // pipeline's. Retrying cannot make it true, and failing the job would let anyone end it.
      if (err instanceof BlobNotFoundError) throw new UntrustedEventError(`no final video at ${video.key}: not a render the pipeline completed`, { cause: err });
      throw err;
    }

    const clips = job.clips ?? DEFAULT_CLIPS;
    const request: SegmentRequest = {
      inputPath,
      outputDir: join(work, "out"),
      hls: { targetSegmentSeconds: HLS_TARGET_SEGMENT_SECONDS },
      clips,
      poster: {},
    };
    let result: SegmentResult;
    const started = Date.now();
    try {
      result = await deps.segmenter.segment(request);
    } catch (err) {
      // A transient FFmpeg failure (killed, timed out, disk full) is retried by the platform;
      // one that comes from the input ends the job with FFmpeg's own words.
      if (err instanceof MediaError && !err.retryable) {
        const reason = ffmpegFailureReason(err);
        // Scratch paths mean nothing to the user: name the file as the job knows it.
        reason.message = reason.message.split(`${work}/`).join("");
        const failed = segmentsFailedEvent(metadata, data, reason);
        log.error("segmenting failed", { code: err.code, message: err.message, stderrTail: err instanceof FfmpegError ? err.stderrTail : undefined });
        await deps.publisher.publish([failed]);
        return { status: "failed", event: failed };
      }
      throw err;
    }
    log.info("segmented", { seconds: (Date.now() - started) / 1000, hlsMode: result.hls.mode, segments: result.hls.segments, clips: result.clips.map((c) => c.mode) });

    // The playlist goes last, so a reader that finds it also finds every segment it names.
    const files = [...result.files].sort((a, b) => Number(a.path.endsWith(".m3u8")) - Number(b.path.endsWith(".m3u8")));
    let next = 0;
    const upload = async () => {
      while (next < files.length) {
        const f = files[next++]!;
        await deps.blobs.putFile(prefix + f.path, join(request.outputDir, f.path), { contentType: f.contentType, cacheControl: cacheControlFor(f.path) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, files.length) }, upload));

    const key = (path: string) => prefix + path;
    const ready: OutgoingEvent<"SegmentsReady"> = {
      type: "SegmentsReady",
      eventId: stableId("seg", metadata.eventId, "SegmentsReady"),
      jobId,
      causationId: metadata.eventId,
      data: {
        job,
        ...versionField(version),
        video: { bucket: video.bucket, key: video.key },
        hls: {
          playlistKey: key(result.hls.playlist),
          segmentKeys: result.files.filter((f) => f.path.startsWith("hls/") && f.path !== result.hls.playlist).map((f) => key(f.path)),
          mode: result.hls.mode,
        },
        clips: result.clips.map((c) => ({ key: key(c.path), startSeconds: c.startSeconds, endSeconds: c.endSeconds, mode: c.mode })),
        posterKey: key(result.poster),
        keys: result.files.map((f) => key(f.path)),
      },
    };
    // Publish only after every key it lists is written.
    await deps.publisher.publish([ready]);
    return { status: "ready", event: ready, result };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
