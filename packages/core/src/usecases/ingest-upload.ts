import { randomUUID } from "node:crypto";
import type { Data, FailureReason, JobParams, S3ObjectCreatedEvent } from "@reelbridge/events";
import { PermanentError, TransientError, permanentReason } from "../errors";
import { cameraMotionFromPrompt } from "../media/camera";
import { normalizeImage } from "../media/image";
import { createJobLedger } from "../jobs/ledger";
import type { JobLedger } from "../jobs/ledger";
import { BlobNotFoundError } from "../ports";
import type { BlobStore, CameraMotion, Clock, EventPublisher, Logger, StepStateStore, VideoGenerator } from "../ports";
import { jobKeys, uploadKey, uploadKeyJobId } from "../upload/keys";
import { decodeJobMetadata } from "../upload/metadata";

/** What the LTX step knows about the clip it stored, from the file itself. */
export interface VideoFacts {
  durationSeconds: number;
  width: number;
  height: number;
  fps: number;
}

export interface IngestUploadDeps {
  blobs: BlobStore;
  generator: VideoGenerator;
  state: StepStateStore;
  publisher: EventPublisher;
  clock: Clock;
  /** Reads duration, size and frame rate from the generated MP4 (readMp4Info in adapters/ltx). */
  probeVideo: (video: Uint8Array) => VideoFacts | Promise<VideoFacts>;
  /** Uploads above this many pixels are refused before decoding (decompression bombs). */
  maxInputPixels: number;
  fps: number;
  model?: string;
  /** Lifetime of the image URL handed to the generator: at least 900 s, to cover LTX's queue. */
  presignExpiresSeconds: number;
  /**
   * How long a claim to submit the job's generation holds (default GENERATION_CLAIM_LEASE_SECONDS).
   * Must outlast one invocation (the Lambda timeout), so a live holder is never taken over.
   */
  claimLeaseSeconds?: number;
}

export interface IngestContext {
  logger: Logger;
  /**
   * True on the queue's last delivery. Informational here: the handler turns a transient
   * failure on the last attempt into VideoBaseFailed(RetriesExhausted) through failUpload.
   */
  lastAttempt?: boolean;
}

export type IngestOutcome =
  | { status: "ready"; data: Data<"VideoBaseReady">; resumed: boolean; replayed: boolean }
  | { status: "deferred"; why: string }
  | { status: "failed"; reason: FailureReason }
  | { status: "ignored"; why: string };

/** The step-state record name holding the generation of a job. */
export const GENERATION_STATE = "generation";

/**
 * Claims on submitting a job's generation are numbered records `generation-claim.1`, `.2`, …,
 * each created with putIfAbsent: creating epoch n is holding the claim. A claim whose lease ran
 * out (its holder died before recording a generation) or that its holder released is taken over
 * by creating epoch n + 1, which again only one delivery can do.
 */
export const GENERATION_CLAIM_STATE = "generation-claim";
export const generationClaimName = (epoch: number) => `${GENERATION_CLAIM_STATE}.${epoch}`;
/** 15 min: longer than one LTX-step invocation (600 s timeout), so a live holder is never taken over. */
export const GENERATION_CLAIM_LEASE_SECONDS = 900;
/** A delivery that finds another one submitting waits this long before it is redelivered. */
export const CLAIM_HELD_RETRY_AFTER_SECONDS = 30;
/** Takeovers of one job's claim before giving up (each needs a holder that died: a handful at most). */
const MAX_CLAIM_EPOCHS = 50;

/** The LTX step's outputs (the one layout: upload/keys.ts). */
export { jobKeys };

export const videoBaseStartedEventId = (jobId: string) => `${jobId}.VideoBaseStarted`;
export const videoBaseReadyEventId = (jobId: string) => `${jobId}.VideoBaseReady`;
export const videoBaseFailedEventId = (jobId: string) => `${jobId}.VideoBaseFailed`;

/** The stored generation record (what onSubmitted and completion write). */
interface GenerationRecord {
  generationId?: string;
  generator?: string;
  submittedAt?: string;
  status?: "submitted" | "completed";
  ready?: Data<"VideoBaseReady">;
}

/**
 * The LTX step (issue #4): an "Object Created" for `uploads/{jobId}/source` becomes a base clip.
 *
 *  1. A job whose generation is recorded as completed, with base.mp4 in place, re-publishes the
 *     same VideoBaseReady (same eventId: consumers dedup it). Re-publishing rather than skipping
 *     covers a crash between storing the clip and publishing.
 *  2. Reads the upload and its signed metadata; the params' jobId must be the key's.
 *  3. normalizeImage: real JPEG/PNG/WebP, pixel budget before decoding, EXIF orientation applied,
 *     metadata stripped, cover-cropped to the aspect's resolution → jobs/{jobId}/image.jpg.
 *  4. Presigns the image and calls the generator. A job with a recorded generation id resumes
 *     it (existingGenerationId). Otherwise the delivery first claims the submission (a
 *     conditional write with a lease, see GENERATION_CLAIM_STATE): only the holder submits, so
 *     two concurrent deliveries of the same upload never pay for two generations. A delivery
 *     that finds the claim held and no generation recorded yet is retried later
 *     (TransientError), when it resumes the holder's generation; on its last attempt it stands
 *     down instead ("deferred"), since the holder's own delivery is still in flight.
 *  5. The generation id is recorded (putIfAbsent) as soon as the provider accepts the job, then
 *     VideoBaseStarted is published (the job reads "generating" meanwhile).
 *  6. Probes the clip, stores jobs/{jobId}/base.mp4, records completion, then publishes
 *     VideoBaseReady (after the write it announces).
 *
 * Permanent errors publish VideoBaseFailed with a stable reason code and return; anything
 * else is thrown for the platform to retry.
 *
 * A key that is not `uploads/{ULID}/source` cannot be tied to a job (presigned POSTs pin that
 * exact key), so it is logged and ignored rather than failing whichever job its prefix names.
 *
 * A job that has ended (its outcome is in the job ledger, jobs/ledger.ts: VideoBaseFailed,
 * RenderFailed or RenderCompleted) is terminal (issue #11 item 2): another upload to its key,
 * e.g. a second POST with the same presigned fields within the policy's lifetime, is ignored:
 * nothing is read, generated, paid for or published (an outcome whose publishing a crash
 * interrupted is published first, with its own eventId). The job is recorded in the ledger with
 * its signed parameters as soon as they are read, and VideoBaseFailed claims the job's outcome
 * before it is published, so it is never followed by a VideoBaseReady.
 */
export async function ingestUpload(deps: IngestUploadDeps, event: S3ObjectCreatedEvent, ctx: IngestContext): Promise<IngestOutcome> {
  const { logger } = ctx;
  const jobId = uploadKeyJobId(event.detail.object.key);
  if (!jobId) {
    logger.error("ignoring an object that is not uploads/{jobId}/source", { key: event.detail.object.key, eventId: event.id });
    return { status: "ignored", why: `key ${event.detail.object.key} is not uploads/{jobId}/source` };
  }
  if (deps.presignExpiresSeconds < 900) throw new Error(`presignExpiresSeconds must be ≥ 900 (LTX may queue the job), got ${deps.presignExpiresSeconds}`);
  const leaseSeconds = deps.claimLeaseSeconds ?? GENERATION_CLAIM_LEASE_SECONDS;
  if (!(leaseSeconds > 0)) throw new Error(`claimLeaseSeconds must be positive, got ${leaseSeconds}`);
  if (event.detail.bucket.name !== deps.blobs.bucket) {
    logger.warn("event names another bucket than the step's blob store", { eventBucket: event.detail.bucket.name, bucket: deps.blobs.bucket });
  }
  const sourceKey = uploadKey(jobId);
  const source = { bucket: deps.blobs.bucket, key: sourceKey };
  const keys = jobKeys(jobId);
  const ledger = createJobLedger(deps.state);
  let params: JobParams | undefined;

  const ended = await terminalOutcome(deps, ledger, jobId, logger);
  if (ended) return { status: "ignored", why: ended };

  /** Re-publishes VideoBaseReady when the job's clip is already stored; false otherwise. */
  const replayCompleted = async (record: GenerationRecord | undefined): Promise<Data<"VideoBaseReady"> | undefined> => {
    if (!(record?.status === "completed" && record.ready && (await deps.blobs.head(keys.baseVideo)))) return undefined;
    logger.info("base clip already stored; re-publishing VideoBaseReady", { generationId: record.generationId });
    await deps.publisher.publish([{ type: "VideoBaseReady", data: record.ready, eventId: videoBaseReadyEventId(jobId), jobId, causationId: event.id }]);
    return record.ready;
  };

  try {
    let prior = (await deps.state.get(jobId, GENERATION_STATE)) as GenerationRecord | undefined;
    const replayed = await replayCompleted(prior);
    if (replayed) return { status: "ready", data: replayed, resumed: false, replayed: true };

    let upload: Awaited<ReturnType<BlobStore["get"]>>;
    try {
      upload = await deps.blobs.get(sourceKey);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new PermanentError("InvalidUpload", "The upload no longer exists (deleted or expired before it was processed)", { cause: err });
      throw err;
    }
    params = decodeJobMetadata(upload.metadata, { jobId });
    const job = params;
    await ledger.recordStarted(jobId, job, { at: deps.clock.now().toISOString(), causationId: event.id });

    const normalized = await normalizeImage(upload.bytes, { aspect: params.aspect, maxInputPixels: deps.maxInputPixels });
    await deps.blobs.put(keys.image, normalized.bytes, { contentType: normalized.contentType, metadata: { jobid: jobId } });
    const imageUrl = await deps.blobs.presignGet(keys.image, { expiresInSeconds: deps.presignExpiresSeconds });
    logger.info("image normalised", {
      sourceFormat: normalized.sourceFormat,
      sourceWidth: normalized.sourceWidth,
      sourceHeight: normalized.sourceHeight,
      orientation: normalized.orientation,
      width: normalized.width,
      height: normalized.height,
    });

    const cameraMotion = cameraMotionFromPrompt(params.cameraPrompt);
    const image = { bucket: deps.blobs.bucket, key: keys.image, width: normalized.width, height: normalized.height };
    const publishStarted = (generationId: string, generatorName: string) =>
      publishVideoBaseStarted(deps, { jobId, causationId: event.id, job, source: { ...source, sizeBytes: upload.sizeBytes }, image, generatorName, generationId, cameraMotion }, logger);

    // No generation recorded: claim the submission before paying for one.
    let claim: number | undefined;
    if (typeof prior?.generationId !== "string") {
      const owner = randomUUID();
      const c = await claimGeneration(deps, jobId, { owner, eventId: event.id, leaseSeconds });
      if (c.held) {
        // Another delivery holds the claim: use what it has recorded by now, if anything.
        prior = (await deps.state.get(jobId, GENERATION_STATE)) as GenerationRecord | undefined;
        const ready = await replayCompleted(prior);
        if (ready) return { status: "ready", data: ready, resumed: false, replayed: true };
        if (typeof prior?.generationId !== "string") {
          const holder = { epoch: c.epoch, holder: c.holder.owner, holderEventId: c.holder.eventId, leaseUntil: c.holder.leaseUntil };
          if (ctx.lastAttempt) {
            // Failing the job now (RetriesExhausted) would end a job that the holder is still making.
            logger.warn("another delivery is submitting this job's generation; standing down on the last attempt", holder);
            return { status: "deferred", why: `another delivery (${String(c.holder.eventId ?? c.holder.owner)}) is submitting the generation` };
          }
          logger.info("another delivery is submitting this job's generation; retrying later", holder);
          throw new TransientError("another delivery is submitting this job's generation", { retryAfterSeconds: CLAIM_HELD_RETRY_AFTER_SECONDS });
        }
        logger.info("another delivery submitted this job's generation; resuming it", { generationId: prior.generationId });
      } else {
        claim = c.epoch;
        logger.info("generation claimed", { epoch: c.epoch, owner });
        // A holder whose lease ran out may still have recorded a generation after our first read.
        const recorded = (await deps.state.get(jobId, GENERATION_STATE)) as GenerationRecord | undefined;
        if (typeof recorded?.generationId === "string") prior = recorded;
      }
    }

    const existingGenerationId = typeof prior?.generationId === "string" ? prior.generationId : undefined;
    let submittedAt = typeof prior?.submittedAt === "string" ? prior.submittedAt : undefined;
    // Resuming: announce the generation again (same eventId) in case a crash lost the first one.
    if (existingGenerationId !== undefined) await publishStarted(existingGenerationId, typeof prior?.generator === "string" ? prior.generator : deps.generator.name);
    let submitted = false;
    let result: Awaited<ReturnType<VideoGenerator["generate"]>>;
    try {
      result = await deps.generator.generate(
        {
          jobId,
          image: { bytes: normalized.bytes, url: imageUrl },
          prompt: params.cameraPrompt,
          cameraMotion,
          durationSeconds: params.durationSeconds,
          width: normalized.width,
          height: normalized.height,
          fps: deps.fps,
          ...(deps.model !== undefined ? { model: deps.model } : {}),
        },
        {
          ...(existingGenerationId !== undefined ? { existingGenerationId } : {}),
          onSubmitted: async (generationId) => {
            submitted = true;
            const at = deps.clock.now().toISOString();
            const record = { generationId, generator: deps.generator.name, submittedAt: at, status: "submitted" };
            const r = await deps.state.putIfAbsent(jobId, GENERATION_STATE, record);
            if (r.created || r.value.generationId === generationId) {
              submittedAt = (r.value.submittedAt as string | undefined) ?? at;
              logger.info("generation recorded", { generationId, generator: deps.generator.name });
              await publishStarted(generationId, deps.generator.name);
              return;
            }
            if (existingGenerationId !== undefined && r.value.generationId === existingGenerationId) {
              // The recorded generation was gone at the provider: this one replaces it.
              await deps.state.update(jobId, GENERATION_STATE, { ...record, replaces: existingGenerationId });
              submittedAt = at;
              logger.warn("recorded generation was gone; replaced it", { generationId, replaced: existingGenerationId });
              await publishStarted(generationId, deps.generator.name);
              return;
            }
            // Only two deliveries replacing the same vanished generation get here (a new
            // submission is always claimed first): both are paid; finish ours.
            logger.warn("a concurrent delivery recorded another generation for this job", { generationId, recorded: r.value.generationId });
          },
        },
      );
    } catch (err) {
      // Nothing was submitted: let the retry (or a duplicate) claim at once instead of waiting out the lease.
      if (claim !== undefined && !submitted) await releaseClaim(deps, jobId, claim, logger);
      throw err;
    }

    let facts: VideoFacts;
    try {
      facts = await deps.probeVideo(result.video);
    } catch (cause) {
      throw new PermanentError("GenerationFailed", `The generated clip cannot be read as an MP4: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    await deps.blobs.put(keys.baseVideo, result.video, { contentType: "video/mp4", metadata: { jobid: jobId, generationid: result.generationId } });
    const storedAt = deps.clock.now();
    const since = submittedAt ? Date.parse(submittedAt) : NaN;
    const data: Data<"VideoBaseReady"> = {
      job: params,
      source: { ...source, sizeBytes: upload.sizeBytes },
      image,
      baseVideo: {
        bucket: deps.blobs.bucket,
        key: keys.baseVideo,
        sizeBytes: result.video.byteLength,
        durationSeconds: facts.durationSeconds,
        width: facts.width,
        height: facts.height,
        fps: facts.fps,
      },
      generator: {
        name: deps.generator.name,
        generationId: result.generationId,
        ...((result.model ?? deps.model) !== undefined ? { model: result.model ?? deps.model } : {}),
        cameraMotion,
        seconds: Number.isFinite(since) ? Math.max(0, (storedAt.getTime() - since) / 1000) : 0,
      },
    };
    if (facts.width !== normalized.width || facts.height !== normalized.height) {
      logger.warn("the clip's size differs from the requested one", { requested: `${normalized.width}x${normalized.height}`, got: `${facts.width}x${facts.height}` });
    }
    await deps.state.update(jobId, GENERATION_STATE, { generationId: result.generationId, status: "completed", completedAt: storedAt.toISOString(), ready: data });
    // A concurrent delivery (another upload to the same key) may have ended the job meanwhile.
    const endedMeanwhile = await terminalOutcome(deps, ledger, jobId, logger);
    if (endedMeanwhile) return { status: "ignored", why: endedMeanwhile };
    await deps.publisher.publish([{ type: "VideoBaseReady", data, eventId: videoBaseReadyEventId(jobId), jobId, causationId: event.id }]);
    logger.info("VideoBaseReady published", { generationId: result.generationId, baseVideo: data.baseVideo, seconds: data.generator.seconds });
    return { status: "ready", data, resumed: existingGenerationId !== undefined, replayed: false };
  } catch (err) {
    const reason = permanentReason(err);
    if (!reason) throw err;
    logger.warn("upload failed permanently", { code: reason.code, message: reason.message });
    const published = await publishVideoBaseFailed(deps, { jobId, source, causationId: event.id, reason, ...(params ? { params } : {}) }, logger);
    if (!published) return { status: "ignored", why: `job ${jobId} already has an outcome` };
    return { status: "failed", reason };
  }
}

/** A claim record: who holds the right to submit the job's generation, until when. */
interface ClaimRecord {
  owner?: string;
  eventId?: string;
  claimedAt?: string;
  leaseUntil?: string;
  releasedAt?: string;
}

/**
 * Claims the submission of a job's generation: creates the first free `generation-claim.{n}`,
 * walking past claims whose lease ran out or that were released. `held` when a live claim is
 * in the way.
 */
async function claimGeneration(
  deps: Pick<IngestUploadDeps, "state" | "clock">,
  jobId: string,
  me: { owner: string; eventId: string; leaseSeconds: number },
): Promise<{ held: false; epoch: number } | { held: true; epoch: number; holder: ClaimRecord }> {
  for (let epoch = 1; epoch <= MAX_CLAIM_EPOCHS; epoch++) {
    const now = deps.clock.now();
    const mine = { owner: me.owner, eventId: me.eventId, claimedAt: now.toISOString(), leaseUntil: new Date(now.getTime() + me.leaseSeconds * 1000).toISOString() };
    const r = await deps.state.putIfAbsent(jobId, generationClaimName(epoch), mine);
    const holder = r.value as ClaimRecord;
    if (r.created || holder.owner === me.owner) return { held: false, epoch };
    // An unreadable lease counts as expired: a claim nobody can ever take over would block the job.
    const until = Date.parse(String(holder.leaseUntil));
    if (until > now.getTime()) return { held: true, epoch, holder };
  }
  throw new TransientError(`job ${jobId}: more than ${MAX_CLAIM_EPOCHS} abandoned generation claims`);
}

/** Ends our claim early (it is ours until its lease ends, so an unconditional write is safe). */
async function releaseClaim(deps: Pick<IngestUploadDeps, "state" | "clock">, jobId: string, epoch: number, logger: Logger): Promise<void> {
  const at = deps.clock.now().toISOString();
  try {
    await deps.state.update(jobId, generationClaimName(epoch), { leaseUntil: at, releasedAt: at });
  } catch (err) {
    // The lease ends on its own; the retry just waits for it.
    logger.warn("could not release the generation claim", { epoch, error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Publishes VideoBaseStarted. Best effort: the event only lets the job read "generating"
 * meanwhile, and failing here would abandon a paid generation's polling for a redelivery.
 */
async function publishVideoBaseStarted(
  deps: Pick<IngestUploadDeps, "publisher" | "model">,
  s: {
    jobId: string;
    causationId: string;
    job: JobParams;
    source: Data<"VideoBaseStarted">["source"];
    image: Data<"VideoBaseStarted">["image"];
    generatorName: string;
    generationId: string;
    cameraMotion: CameraMotion;
  },
  logger: Logger,
): Promise<void> {
  const data: Data<"VideoBaseStarted"> = {
    job: s.job,
    source: s.source,
    image: s.image,
    generator: { name: s.generatorName, generationId: s.generationId, ...(deps.model !== undefined ? { model: deps.model } : {}), cameraMotion: s.cameraMotion },
  };
  try {
    await deps.publisher.publish([{ type: "VideoBaseStarted", data, eventId: videoBaseStartedEventId(s.jobId), jobId: s.jobId, causationId: s.causationId }]);
  } catch (err) {
    logger.error("could not publish VideoBaseStarted; the job reads uploaded until the clip is ready", { generationId: s.generationId, error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * The job's outcome, when it has one: the job is terminal. An outcome that was claimed but not
 * published (a crash between the two) is published now. Returns why the job is terminal.
 */
async function terminalOutcome(deps: Pick<IngestUploadDeps, "publisher">, ledger: JobLedger, jobId: string, logger: Logger): Promise<string | undefined> {
  const { outcome } = await ledger.view(jobId);
  if (!outcome) return undefined;
  if (!outcome.published) {
    await deps.publisher.publish([outcome.event]);
    await ledger.markPublished(jobId);
  }
  logger.warn("the job has ended; ignoring another upload of it (a job is never restarted)", { outcome: outcome.type, outcomeEventId: outcome.eventId });
  return `job ${jobId} has ended (${outcome.type}); a job is never restarted`;
}

/** Claims the job's outcome, then publishes VideoBaseFailed; false when the job already had another outcome. */
async function publishVideoBaseFailed(
  deps: Pick<IngestUploadDeps, "publisher" | "state" | "clock">,
  f: { jobId: string; source: { bucket: string; key: string }; causationId: string; reason: FailureReason; params?: JobParams },
  logger: Logger,
): Promise<boolean> {
  const ledger = createJobLedger(deps.state);
  const event = {
    type: "VideoBaseFailed" as const,
    data: { ...(f.params ? { job: f.params } : {}), source: f.source, reason: f.reason },
    eventId: videoBaseFailedEventId(f.jobId),
    jobId: f.jobId,
    causationId: f.causationId,
  };
  const claim = await ledger.claimOutcome(event, deps.clock.now().toISOString());
  if (!claim.ours) {
    logger.warn("not publishing VideoBaseFailed: the job already has another outcome", { outcome: claim.outcome.type, outcomeEventId: claim.outcome.eventId });
    return false;
  }
  await deps.publisher.publish([claim.outcome.event]);
  await ledger.markPublished(f.jobId);
  return true;
}

/**
 * Ends a job whose upload event could not be processed (invalid event, retries exhausted):
 * publishes VideoBaseFailed with the job parameters when the upload's metadata can still be
 * read. Does nothing for a key that is not `uploads/{ULID}/source`. For the handler's `fail`.
 */
export async function failUpload(
  deps: Pick<IngestUploadDeps, "blobs" | "publisher" | "state" | "clock">,
  raw: { id?: unknown; detail?: { object?: { key?: unknown } } } | null | undefined,
  reason: FailureReason,
  ctx: IngestContext,
): Promise<boolean> {
  const rawKey = raw?.detail?.object?.key;
  const jobId = typeof rawKey === "string" ? uploadKeyJobId(rawKey) : undefined;
  if (!jobId) {
    ctx.logger.error("cannot fail a job for this event: no uploads/{jobId}/source key", { reason });
    return false;
  }
  const sourceKey = uploadKey(jobId);
  let params: JobParams | undefined;
  try {
    const head = await deps.blobs.head(sourceKey);
    if (head) params = decodeJobMetadata(head.metadata, { jobId });
  } catch (err) {
    ctx.logger.warn("job parameters unavailable for VideoBaseFailed", { error: err instanceof Error ? err.message : String(err) });
  }
  const causationId = typeof raw?.id === "string" && raw.id.length > 0 ? raw.id.slice(0, 128) : `${jobId}.upload`;
  return publishVideoBaseFailed(deps, { jobId, source: { bucket: deps.blobs.bucket, key: sourceKey }, causationId, reason, ...(params ? { params } : {}) }, ctx.logger);
}
