import { randomUUID } from "node:crypto";
import type { CostLine, Data, FailureReason, JobCost, JobParams, S3ObjectCreatedEvent } from "@reelbridge/events";
import type { LtxModel } from "../adapters/ltx/contract";
import { checkBudgetBeforeGeneration } from "../jobs/budget";
import type { BudgetLimits, BudgetStore } from "../jobs/budget";
import { lambdaCost, ltxCost, quoteJob, sumCost } from "../jobs/cost";
import type { LambdaArch, QuoteConfig } from "../jobs/cost";
import { PermanentError, TransientError, permanentReason } from "../errors";
import { cameraMotionFromPrompt } from "../media/camera";
import { normalizeImage } from "../media/image";
import { createJobLedger } from "../jobs/ledger";
import type { JobLedger } from "../jobs/ledger";
import { BlobNotFoundError } from "../ports";
import type { BlobStore, CameraMotion, Clock, EventPublisher, Logger, StepStateStore, VideoGenerator } from "../ports";
import { jobKeys, uploadKey, uploadKeyJobId } from "../upload/keys";
import { decodeJobMetadata } from "../upload/metadata";
import { GENERATION_STATE } from "./generation-state";

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
  /** A generation not finished this long after it was submitted ends the job (default GENERATION_DEADLINE_SECONDS). */
  generationDeadlineSeconds?: number;
  /**
   * Prices the step's own lines on VideoBaseReady/VideoBaseFailed (`stepCost`): the stage's
   * generator (LTX's seconds × price; the offline one pays nothing) and this function's Lambda
   * GB-s at its architecture's price. Absent: the events carry no stepCost.
   */
  pricing?: { provider: "ltx" | "offline"; model: LtxModel; lambdaArch: LambdaArch; fn: string };
  /**
   * The stage's budget caps (issue #13 item 2), checked once more before a generation is paid
   * for: a job over its per-job cap, or whose owner's day went over the per-day cap since the
   * upload (e.g. the cap was lowered), ends with VideoBaseFailed reason BudgetExceeded.
   */
  budget?: { store?: BudgetStore; limits?: BudgetLimits; quote: QuoteConfig };
  /**
   * The step's own retry budget (default STEP_RETRY_BUDGET): deliveries that may fail before a
   * generation is submitted, and consecutive failed looks at a submitted one, before the job
   * ends with RetriesExhausted. The queue's receive count cannot be the budget, since every
   * look at a generation is a receive.
   */
  retryBudget?: number;
}

export interface IngestContext {
  logger: Logger;
  /** 1-based delivery attempt (the queue's receive count); 1 when unknown. */
  attempt?: number;
  /**
   * True on the queue's last delivery (the backstop of the step's own budget): the handler
   * turns a transient failure then into VideoBaseFailed(RetriesExhausted) through failUpload.
   */
  lastAttempt?: boolean;
  /**
   * The step's Lambda usage for this job so far, this invocation included (the handler
   * wrapper's measurement, core/jobs/lambda-usage.ts), for the Lambda line of the event that
   * ends the step.
   */
  lambdaUsage?: () => Promise<{ invocations: number; gbSeconds: number }>;
}

export type IngestOutcome =
  | { status: "ready"; data: Data<"VideoBaseReady">; resumed: boolean; replayed: boolean }
  /** The generation is submitted and not finished: look again in `checkAfterSeconds` (the handler schedules it). */
  | { status: "checking"; generationId: string; checkAfterSeconds: number; why: "submitted" | "pending" | "replaced" | "another-delivery" }
  | { status: "deferred"; why: string }
  | { status: "failed"; reason: FailureReason }
  | { status: "ignored"; why: string };

export { GENERATION_STATE } from "./generation-state";

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
/**
 * Paying for a replacement of a generation the provider forgot (LTX's 24 h retention, the
 * offline generator's process restarted) is claimed like the first submission:
 * `generation-replacement.{n}` with putIfAbsent, so only one delivery pays for replacement n.
 */
export const GENERATION_REPLACEMENT_STATE = "generation-replacement";
export const MAX_GENERATION_REPLACEMENTS = 2;
/** A generation not finished 30 min after its submission ends the job (LTX: 30–120 s typical, REFERENCE.md §1.6). */
export const GENERATION_DEADLINE_SECONDS = 1_800;
/** Failed deliveries before a submission, or consecutive failed looks after one, before RetriesExhausted. */
export const STEP_RETRY_BUDGET = 5;

/**
 * Seconds until the next look at a generation that has run `elapsedSeconds`: the generator's
 * interval, stretched to a twentieth of the time it has run so far once that is longer. A quick
 * generation is seen soon after it finishes; one that hangs costs a few dozen looks up to its
 * deadline, not thousands, so the queue's receive count (the backstop) is never reached first.
 */
export function nextCheckSeconds(intervalSeconds: number, elapsedSeconds: number): number {
  return Math.max(intervalSeconds, Math.ceil(Math.max(0, elapsedSeconds) / 20));
}

/** Looks a generation that never finishes gets before its deadline, with this generator interval (first look after `first`). */
export function looksUntilDeadline(interval: { first: number; next: number }, deadlineSeconds = GENERATION_DEADLINE_SECONDS): number {
  let t = interval.first;
  let looks = 0;
  while (t <= deadlineSeconds) {
    looks++;
    t += nextCheckSeconds(interval.next, t);
  }
  return looks + 1;
}

/** The LTX step's outputs (the one layout: upload/keys.ts). */
export { jobKeys };

export const videoBaseStartedEventId = (jobId: string) => `${jobId}.VideoBaseStarted`;
export const videoBaseReadyEventId = (jobId: string) => `${jobId}.VideoBaseReady`;
export const videoBaseFailedEventId = (jobId: string) => `${jobId}.VideoBaseFailed`;

/** What VideoBaseReady repeats from the submission, recorded with it so a look needs nothing else. */
interface SubmittedFacts {
  job: JobParams;
  source: Data<"VideoBaseReady">["source"];
  image: Data<"VideoBaseReady">["image"];
  cameraMotion: CameraMotion;
  /** The request, without the image (jobs/{jobId}/image.jpg), for a replacement. */
  request: { prompt: string; durationSeconds: number; width: number; height: number; fps: number; model?: string };
}

/** The stored generation record (what the submission, the looks and completion write). */
interface GenerationRecord {
  generationId?: string;
  generator?: string;
  submittedAt?: string;
  status?: "submitted" | "completed";
  ready?: Data<"VideoBaseReady">;
  facts?: SubmittedFacts;
  /** Looks that found it still running. */
  checks?: number;
  /** The provider's progress (0–1) at the last look that found it running, when it reports one. */
  progress?: number;
  /** Consecutive looks that failed (throttled, 5xx, timeout): the step's retry budget. */
  checkFailures?: number;
  replacements?: number;
  replaces?: string;
  lastCheckedAt?: string;
  /** The model the provider was asked for (its submit's answer). */
  model?: string;
  /** Set when the job ended while the generation ran: the looks stopped (recordStoppedGeneration). */
  stoppedAt?: string;
}

const hasFacts = (r: GenerationRecord | undefined): r is GenerationRecord & { generationId: string; facts: SubmittedFacts } =>
  typeof r?.generationId === "string" && typeof r.facts === "object" && r.facts !== null;

/**
 * The LTX step (issue #4; submit/check since issue #13, docs/decisions/0010): an "Object
 * Created" for `uploads/{jobId}/source` becomes a base clip, and no invocation waits for the
 * generation. Each delivery of the upload's message does one of these, then returns:
 *
 *  - The job has ended (its outcome is in the job ledger, jobs/ledger.ts: failed, completed,
 *    cancelled): nothing is read, generated, looked at or published ("ignored"); the message is
 *    deleted, so the looks stop (an outcome whose publishing a crash interrupted is published
 *    first, with its own eventId).
 *  - The generation is recorded as completed, with base.mp4 in place: re-publishes the same
 *    VideoBaseReady (same eventId: consumers dedup it), which covers a crash between storing the
 *    clip and publishing.
 *  - A generation is recorded: one look at it (VideoGenerator.check). Still running →
 *    "checking" (the handler brings the message back in checkIntervalSeconds.next); done →
 *    probe, store jobs/{jobId}/base.mp4, record completion, publish VideoBaseReady; failed →
 *    VideoBaseFailed; gone at the provider → a replacement is paid for at most
 *    MAX_GENERATION_REPLACEMENTS times (each claimed, so once), then GenerationExpired. A look
 *    later than generationDeadlineSeconds after the submission ends the job (GenerationFailed).
 *    This is also the resume after a crash: the redelivered message looks at the known id.
 *  - Nothing recorded: read the upload and its signed metadata (the params' jobId must be the
 *    key's); normalizeImage (real JPEG/PNG/WebP, pixel budget before decoding, EXIF orientation
 *    applied, metadata stripped, cover-cropped) → jobs/{jobId}/image.jpg; claim the submission
 *    (a conditional write with a lease, GENERATION_CLAIM_STATE), so two concurrent deliveries
 *    never pay for two generations; submit; record the id (putIfAbsent) with what a look needs;
 *    publish VideoBaseStarted; "checking" after checkIntervalSeconds.first. A delivery that
 *    finds the claim held and no generation recorded yet is retried later (TransientError); on
 *    its last try it stands down ("deferred"), since the holder's own delivery is in flight.
 *
 * Retries are the step's own budget (retryBudget): a transient failure before a submission on
 * the budget's last delivery, or the budget's worth of consecutive failed looks, ends the job
 * with RetriesExhausted. Permanent errors publish VideoBaseFailed with a stable reason code.
 *
 * A key that is not `uploads/{ULID}/source` cannot be tied to a job (presigned POSTs pin that
 * exact key), so it is logged and ignored rather than failing whichever job its prefix names.
 * The job is recorded in the ledger with its signed parameters as soon as they are read, and
 * VideoBaseFailed claims the job's outcome before it is published, so it is never followed by
 * a VideoBaseReady.
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
  const budget = deps.retryBudget ?? STEP_RETRY_BUDGET;
  const lastTry = ctx.lastAttempt === true || (ctx.attempt ?? 1) >= budget;
  if (event.detail.bucket.name !== deps.blobs.bucket) {
    logger.warn("event names another bucket than the step's blob store", { eventBucket: event.detail.bucket.name, bucket: deps.blobs.bucket });
  }
  const sourceKey = uploadKey(jobId);
  const source = { bucket: deps.blobs.bucket, key: sourceKey };
  const keys = jobKeys(jobId);
  const ledger = createJobLedger(deps.state);
  let params: JobParams | undefined;
  let submitted = false;

  const ended = await terminalOutcome(deps, ledger, jobId, logger);
  if (ended) {
    await recordStoppedGeneration(deps, ctx, jobId, ended, logger);
    return { status: "ignored", why: ended.why };
  }

  /** Re-publishes VideoBaseReady when the job's clip is already stored; false otherwise. */
  const replayCompleted = async (record: GenerationRecord | undefined): Promise<Data<"VideoBaseReady"> | undefined> => {
    if (!(record?.status === "completed" && record.ready && (await deps.blobs.head(keys.baseVideo)))) return undefined;
    logger.info("base clip already stored; re-publishing VideoBaseReady", { generationId: record.generationId });
    await deps.publisher.publish([{ type: "VideoBaseReady", data: record.ready, eventId: videoBaseReadyEventId(jobId), jobId, causationId: event.id }]);
    return record.ready;
  };
  const look = (record: GenerationRecord & { generationId: string; facts: SubmittedFacts }, resumed: boolean) => {
    params = record.facts.job;
    return checkGeneration(deps, { jobId, event, record, budget, resumed, ctx }, logger);
  };

  try {
    let prior = (await deps.state.get(jobId, GENERATION_STATE)) as GenerationRecord | undefined;
    const replayed = await replayCompleted(prior);
    if (replayed) return { status: "ready", data: replayed, resumed: false, replayed: true };
    if (hasFacts(prior)) return await look(prior, true);

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
    logger.info("image normalised", {
      sourceFormat: normalized.sourceFormat,
      sourceWidth: normalized.sourceWidth,
      sourceHeight: normalized.sourceHeight,
      orientation: normalized.orientation,
      width: normalized.width,
      height: normalized.height,
    });

    const cameraMotion = cameraMotionFromPrompt(params.cameraPrompt);
    const facts: SubmittedFacts = {
      job,
      source: { ...source, sizeBytes: upload.sizeBytes },
      image: { bucket: deps.blobs.bucket, key: keys.image, width: normalized.width, height: normalized.height },
      cameraMotion,
      request: {
        prompt: params.cameraPrompt,
        durationSeconds: params.durationSeconds,
        width: normalized.width,
        height: normalized.height,
        fps: deps.fps,
        ...(deps.model !== undefined ? { model: deps.model } : {}),
      },
    };
    /** A generation another delivery (or a previous version of this step) recorded without the facts: add them, then look. */
    const lookAtRecorded = async (recorded: GenerationRecord & { generationId: string }) => {
      const withFacts = { ...recorded, facts: recorded.facts ?? facts };
      if (!recorded.facts) await deps.state.update(jobId, GENERATION_STATE, { facts });
      await publishVideoBaseStarted(deps, { jobId, causationId: event.id, ...facts, generatorName: recorded.generator ?? deps.generator.name, generationId: recorded.generationId }, logger);
      return look(withFacts, true);
    };
    if (typeof prior?.generationId === "string") return await lookAtRecorded(prior as GenerationRecord & { generationId: string });

    // No generation recorded: claim the submission before paying for one.
    const owner = randomUUID();
    const c = await claimGeneration(deps, jobId, { owner, eventId: event.id, leaseSeconds });
    if (c.held) {
      // Another delivery holds the claim: use what it has recorded by now, if anything.
      prior = (await deps.state.get(jobId, GENERATION_STATE)) as GenerationRecord | undefined;
      const ready = await replayCompleted(prior);
      if (ready) return { status: "ready", data: ready, resumed: false, replayed: true };
      if (typeof prior?.generationId === "string") {
        logger.info("another delivery submitted this job's generation; looking at it", { generationId: prior.generationId });
        return await lookAtRecorded(prior as GenerationRecord & { generationId: string });
      }
      const holder = { epoch: c.epoch, holder: c.holder.owner, holderEventId: c.holder.eventId, leaseUntil: c.holder.leaseUntil };
      if (lastTry) {
        // Failing the job now (RetriesExhausted) would end a job that the holder is still making.
        logger.warn("another delivery is submitting this job's generation; standing down on the last attempt", holder);
        return { status: "deferred", why: `another delivery (${String(c.holder.eventId ?? c.holder.owner)}) is submitting the generation` };
      }
      logger.info("another delivery is submitting this job's generation; retrying later", holder);
      throw new TransientError("another delivery is submitting this job's generation", { retryAfterSeconds: CLAIM_HELD_RETRY_AFTER_SECONDS });
    }
    logger.info("generation claimed", { epoch: c.epoch, owner });
    // A holder whose lease ran out may still have recorded a generation after our first read.
    const recorded = (await deps.state.get(jobId, GENERATION_STATE)) as GenerationRecord | undefined;
    if (typeof recorded?.generationId === "string") return await lookAtRecorded(recorded as GenerationRecord & { generationId: string });

    // The cap may have been crossed since the upload reserved this job's quote: check before paying.
    await assertWithinBudget(deps, job);
    let generationId: string;
    let submittedModel: string | undefined;
    try {
      const imageUrl = await deps.blobs.presignGet(keys.image, { expiresInSeconds: deps.presignExpiresSeconds });
      ({ generationId, model: submittedModel } = await deps.generator.submit({ jobId, image: { bytes: normalized.bytes, url: imageUrl }, cameraMotion, ...facts.request }));
      submitted = true;
    } catch (err) {
      // Nothing was submitted: let the retry (or a duplicate) claim at once instead of waiting out the lease.
      await releaseClaim(deps, jobId, c.epoch, logger);
      throw err;
    }
    const at = deps.clock.now().toISOString();
    const record = { generationId, generator: deps.generator.name, submittedAt: at, status: "submitted", facts, checks: 0, checkFailures: 0, ...(submittedModel !== undefined ? { model: submittedModel } : {}) };
    const r = await deps.state.putIfAbsent(jobId, GENERATION_STATE, record);
    if (!r.created && r.value.generationId !== generationId) {
      // Only a holder whose lease ran out while it submitted gets here: both are paid; follow the recorded one.
      logger.warn("a concurrent delivery recorded another generation for this job", { generationId, recorded: r.value.generationId });
    } else {
      logger.info("generation submitted and recorded", { generationId, generator: deps.generator.name });
    }
    const stored = (r.created ? record : r.value) as GenerationRecord & { generationId: string };
    await publishVideoBaseStarted(deps, { jobId, causationId: event.id, ...facts, generatorName: stored.generator ?? deps.generator.name, generationId: stored.generationId }, logger);
    return { status: "checking", generationId: stored.generationId, checkAfterSeconds: deps.generator.checkIntervalSeconds.first, why: "submitted" };
  } catch (err) {
    let reason = permanentReason(err);
    if (!reason && lastTry && !submitted && !(err instanceof CheckBudgetError)) {
      // The step's budget before a submission: nothing is paid for yet, so give up visibly.
      const generation = (await deps.state.get(jobId, GENERATION_STATE).catch(() => undefined)) as GenerationRecord | undefined;
      if (typeof generation?.generationId !== "string") {
        reason = { code: "RetriesExhausted", message: `gave up after ${ctx.attempt ?? 1} attempts: ${err instanceof Error ? err.message : String(err)}`.slice(0, 2000), retryable: false };
      }
    }
    if (err instanceof CheckBudgetError) reason = err.reason;
    if (!reason) throw err;
    logger.warn("upload failed permanently", { code: reason.code, message: reason.message });
    const cost = await failedStepCost(deps, ctx, jobId, logger);
    const published = await publishVideoBaseFailed(deps, { jobId, source, causationId: event.id, reason, ...(params ? { params } : {}), ...(cost ? { stepCost: cost } : {}) }, logger);
    if (!published) return { status: "ignored", why: `job ${jobId} already has an outcome` };
    return { status: "failed", reason };
  }
}

/** Consecutive failed looks used the step's budget up: ends the job with this reason. */
class CheckBudgetError extends Error {
  constructor(readonly reason: FailureReason) {
    super(reason.message);
    this.name = "CheckBudgetError";
  }
}

/** One look at the recorded generation, and what follows from it (see ingestUpload). */
async function checkGeneration(
  deps: IngestUploadDeps,
  s: { jobId: string; event: S3ObjectCreatedEvent; record: GenerationRecord & { generationId: string; facts: SubmittedFacts }; budget: number; resumed: boolean; ctx: IngestContext },
  logger: Logger,
): Promise<IngestOutcome> {
  const { jobId, record } = s;
  const { generationId, facts } = record;
  const keys = jobKeys(jobId);
  const now = deps.clock.now();
  const deadlineSeconds = deps.generationDeadlineSeconds ?? GENERATION_DEADLINE_SECONDS;
  const since = typeof record.submittedAt === "string" ? Date.parse(record.submittedAt) : NaN;
  if (Number.isFinite(since) && (now.getTime() - since) / 1000 > deadlineSeconds) {
    throw new PermanentError("GenerationFailed", `generation ${generationId} did not finish within ${Math.round(deadlineSeconds / 60)} min of its submission (${record.checks ?? 0} looks); giving up on it`);
  }
  let found: Awaited<ReturnType<VideoGenerator["check"]>>;
  try {
    found = await deps.generator.check(generationId);
  } catch (err) {
    if (permanentReason(err)) throw err;
    const failures = (record.checkFailures ?? 0) + 1;
    await deps.state.update(jobId, GENERATION_STATE, { checkFailures: failures, lastCheckedAt: now.toISOString() });
    if (failures >= s.budget) {
      throw new CheckBudgetError({ code: "RetriesExhausted", message: `gave up looking at generation ${generationId} after ${failures} failed looks in a row: ${err instanceof Error ? err.message : String(err)}`.slice(0, 2000), retryable: false });
    }
    logger.warn("looking at the generation failed; the queue brings it back", { generationId, failures, budget: s.budget, error: err instanceof Error ? err.message : String(err) });
    throw err;
  }

  if (found.status === "pending") {
    const checks = (record.checks ?? 0) + 1;
    // The provider's progress, when it reports one, for the status API (job-status.ts stepProgress).
    const progress = typeof found.progress === "number" && Number.isFinite(found.progress) ? { progress: Math.min(1, Math.max(0, found.progress)) } : {};
    await deps.state.update(jobId, GENERATION_STATE, { checks, checkFailures: 0, lastCheckedAt: now.toISOString(), ...progress });
    const checkAfterSeconds = nextCheckSeconds(deps.generator.checkIntervalSeconds.next, Number.isFinite(since) ? (now.getTime() - since) / 1000 : 0);
    logger.info("generation still running; looking again later", { generationId, providerStatus: found.providerStatus, checks, checkAfterSeconds });
    return { status: "checking", generationId, checkAfterSeconds, why: "pending" };
  }

  if (found.status === "gone") {
    const n = (record.replacements ?? 0) + 1;
    if (n > MAX_GENERATION_REPLACEMENTS) {
      throw new PermanentError("GenerationExpired", `${found.why}; the clip could not be stored before the provider dropped it (${n - 1} replacement(s) already paid for)`);
    }
    const claim = await deps.state.putIfAbsent(jobId, `${GENERATION_REPLACEMENT_STATE}.${n}`, { replaces: generationId, eventId: s.event.id, at: now.toISOString() });
    if (!claim.created && claim.value.eventId !== s.event.id) {
      logger.info("another delivery is replacing the vanished generation; looking again later", { generationId, replacement: n });
      return { status: "checking", generationId, checkAfterSeconds: deps.generator.checkIntervalSeconds.next, why: "another-delivery" };
    }
    logger.warn("the recorded generation is gone at the provider; paying for a replacement", { generationId, replacement: n, why: found.why });
    const image = await deps.blobs.get(keys.image);
    const url = await deps.blobs.presignGet(keys.image, { expiresInSeconds: deps.presignExpiresSeconds });
    const { generationId: replacement } = await deps.generator.submit({ jobId, image: { bytes: image.bytes, url }, cameraMotion: facts.cameraMotion, ...facts.request });
    await deps.state.update(jobId, GENERATION_STATE, {
      generationId: replacement,
      generator: deps.generator.name,
      submittedAt: deps.clock.now().toISOString(),
      status: "submitted",
      replaces: generationId,
      replacements: n,
      checks: 0,
      checkFailures: 0,
    });
    await publishVideoBaseStarted(deps, { jobId, causationId: s.event.id, ...facts, generatorName: deps.generator.name, generationId: replacement }, logger);
    return { status: "checking", generationId: replacement, checkAfterSeconds: deps.generator.checkIntervalSeconds.first, why: "replaced" };
  }

  let probed: VideoFacts;
  try {
    probed = await deps.probeVideo(found.video);
  } catch (cause) {
    throw new PermanentError("GenerationFailed", `The generated clip cannot be read as an MP4: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  await deps.blobs.put(keys.baseVideo, found.video, { contentType: "video/mp4", metadata: { jobid: jobId, generationid: generationId } });
  const storedAt = deps.clock.now();
  const model = found.model ?? record.model ?? facts.request.model;
  const data: Data<"VideoBaseReady"> = {
    job: facts.job,
    source: facts.source,
    image: facts.image,
    baseVideo: {
      bucket: deps.blobs.bucket,
      key: keys.baseVideo,
      sizeBytes: found.video.byteLength,
      durationSeconds: probed.durationSeconds,
      width: probed.width,
      height: probed.height,
      fps: probed.fps,
    },
    generator: {
      name: record.generator ?? deps.generator.name,
      generationId,
      ...(model !== undefined ? { model } : {}),
      cameraMotion: facts.cameraMotion,
      seconds: Number.isFinite(since) ? Math.max(0, (storedAt.getTime() - since) / 1000) : 0,
    },
  };
  const cost = await stepCost(deps, s.ctx, { seconds: Math.round(probed.durationSeconds), width: probed.width, height: probed.height, generations: (record.replacements ?? 0) + 1, ...(model !== undefined ? { model } : {}) }, logger);
  if (cost) data.stepCost = cost;
  if (probed.width !== facts.image.width || probed.height !== facts.image.height) {
    logger.warn("the clip's size differs from the requested one", { requested: `${facts.image.width}x${facts.image.height}`, got: `${probed.width}x${probed.height}` });
  }
  await deps.state.update(jobId, GENERATION_STATE, { generationId, status: "completed", completedAt: storedAt.toISOString(), ready: data });
  // The job may have ended meanwhile (a concurrent delivery failed it, or it was cancelled).
  const ledger = createJobLedger(deps.state);
  const endedMeanwhile = await terminalOutcome(deps, ledger, jobId, logger);
  if (endedMeanwhile) {
    // The clip was made and paid for, but nothing follows it: the cost goes on VideoBaseStopped.
    await publishVideoBaseStopped(deps, { jobId, job: data.job, ended: endedMeanwhile, generationId, stoppedAt: storedAt.toISOString(), ...(data.stepCost ? { stepCost: data.stepCost } : {}) });
    return { status: "ignored", why: endedMeanwhile.why };
  }
  await deps.publisher.publish([{ type: "VideoBaseReady", data, eventId: videoBaseReadyEventId(jobId), jobId, causationId: s.event.id }]);
  logger.info("VideoBaseReady published", { generationId, baseVideo: data.baseVideo, seconds: data.generator.seconds, looks: (record.checks ?? 0) + 1 });
  return { status: "ready", data, resumed: s.resumed, replayed: false };
}

/** Ends the job with BudgetExceeded when the stage's caps no longer admit it (jobs/budget.ts). */
async function assertWithinBudget(deps: IngestUploadDeps, job: JobParams): Promise<void> {
  const b = deps.budget;
  if (!b?.limits || (b.limits.perJobUsd === undefined && b.limits.perOwnerPerDayUsd === undefined)) return;
  const quote = quoteJob({ aspect: job.aspect, durationSeconds: job.durationSeconds }, b.quote);
  const decision = await checkBudgetBeforeGeneration(b.store, b.limits, { owner: job.owner, createdAt: job.createdAt, costUsd: quote.totalUsd });
  if (!decision.ok) throw new PermanentError("BudgetExceeded", `not generating: ${decision.message}`);
}

/**
 * The step's own cost lines: the generation (seconds of output × the model's price, once per
 * generation paid for, replacements included) and this function's Lambda GB-s so far. Pricing
 * that fails (a model/tier LTX does not sell) is logged and the line left out: a cost line must
 * never stop a job.
 */
async function stepCost(
  deps: Pick<IngestUploadDeps, "pricing">,
  ctx: Pick<IngestContext, "lambdaUsage">,
  generated: { seconds: number; width: number; height: number; generations: number; model?: string; submittedOnly?: boolean } | undefined,
  logger: Logger,
): Promise<JobCost | undefined> {
  const p = deps.pricing;
  if (!p) return undefined;
  const lines: CostLine[] = [];
  try {
    if (generated) {
      const model = (generated.model ?? p.model) as LtxModel;
      const line = ltxCost({ provider: p.provider, model, seconds: generated.seconds * generated.generations, width: generated.width, height: generated.height, ...(generated.submittedOnly ? { estimated: true } : {}) });
      const notes = [
        generated.generations > 1 ? `${generated.generations} generations paid for (replacements of ones the provider dropped)` : "",
        generated.submittedOnly ? "submitted but not delivered: whether LTX bills it is not documented, so this is an estimate" : "",
      ].filter(Boolean);
      lines.push(notes.length ? { ...line, basis: `${line.basis}; ${notes.join("; ")}` } : line);
    }
    const usage = ctx.lambdaUsage ? await ctx.lambdaUsage() : undefined;
    if (usage) lines.push(lambdaCost(usage.gbSeconds, p.lambdaArch, { fn: p.fn, invocations: usage.invocations }));
  } catch (err) {
    logger.warn("could not price the step's cost lines; leaving them out", { error: err instanceof Error ? err.message : String(err) });
  }
  return lines.length ? sumCost(lines) : undefined;
}

/** The cost lines of a step that failed: the Lambda's, and the generation's when one was submitted. */
async function failedStepCost(deps: Pick<IngestUploadDeps, "pricing" | "state">, ctx: Pick<IngestContext, "lambdaUsage">, jobId: string, logger: Logger): Promise<JobCost | undefined> {
  if (!deps.pricing) return undefined;
  const record = (await deps.state.get(jobId, GENERATION_STATE).catch(() => undefined)) as GenerationRecord | undefined;
  const generated =
    hasFacts(record) && record.status === "submitted"
      ? { seconds: record.facts.request.durationSeconds, width: record.facts.image.width, height: record.facts.image.height, generations: (record.replacements ?? 0) + 1, submittedOnly: true, ...(record.model ?? record.facts.request.model ? { model: record.model ?? record.facts.request.model } : {}) }
      : undefined;
  return stepCost(deps, ctx, generated, logger);
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
 * meanwhile; the recorded generation is looked at whether or not it was announced.
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
async function terminalOutcome(deps: Pick<IngestUploadDeps, "publisher">, ledger: JobLedger, jobId: string, logger: Logger): Promise<{ why: string; type: string; eventId: string } | undefined> {
  const { outcome } = await ledger.view(jobId);
  if (!outcome) return undefined;
  if (!outcome.published) {
    await deps.publisher.publish([outcome.event]);
    await ledger.markPublished(jobId);
  }
  logger.warn("the job has ended: no generation, no look, nothing published for this delivery (a job is never restarted)", { outcome: outcome.type, outcomeEventId: outcome.eventId });
  return { type: outcome.type, eventId: outcome.eventId, why: `job ${jobId} has ended (${outcome.type}); a job is never restarted` };
}

/**
 * A job that ended (cancelled, or failed elsewhere) while its generation was still running:
 * the looks stop here, and the generation record keeps what was already paid for (the step's
 * cost lines as of now), once.
 */
async function recordStoppedGeneration(deps: IngestUploadDeps, ctx: IngestContext, jobId: string, ended: { type: string; eventId: string }, logger: Logger): Promise<void> {
  const record = (await deps.state.get(jobId, GENERATION_STATE)) as GenerationRecord | undefined;
  if (!hasFacts(record) || record.status !== "submitted" || record.stoppedAt) return;
  const paid = await failedStepCost(deps, ctx, jobId, logger);
  const stoppedAt = deps.clock.now().toISOString();
  // What was paid reaches the job record (its cost) through the step's own event; published
  // before the record says "stopped", so a crash in between publishes it again (same eventId).
  await publishVideoBaseStopped(deps, { jobId, job: record.facts.job, ended, generationId: record.generationId, stoppedAt, ...(paid ? { stepCost: paid } : {}) });
  await deps.state.update(jobId, GENERATION_STATE, { stoppedAt, stoppedBecause: ended.type, ...(paid ? { paid } : {}) });
  logger.info("stopped looking at the generation: the job has ended", { generationId: record.generationId, outcome: ended.type, paidUsd: paid?.totalUsd, paid: paid?.lines.map((l) => `${l.item} ${l.usd}`) });
}

export const videoBaseStoppedEventId = (jobId: string) => `${jobId}:video-base-stopped`;

/** VideoBaseStopped: the step stood down for the job's outcome, with what it had paid (issue #13). */
async function publishVideoBaseStopped(
  deps: Pick<IngestUploadDeps, "publisher">,
  f: { jobId: string; job: JobParams; ended: { type: string; eventId: string }; generationId?: string; stoppedAt: string; stepCost?: JobCost },
): Promise<void> {
  await deps.publisher.publish([
    {
      type: "VideoBaseStopped",
      eventId: videoBaseStoppedEventId(f.jobId),
      jobId: f.jobId,
      causationId: f.ended.eventId,
      data: { job: f.job, stoppedBecause: f.ended.type, ...(f.generationId ? { generationId: f.generationId } : {}), stoppedAt: f.stoppedAt, ...(f.stepCost?.lines.length ? { stepCost: f.stepCost } : {}) },
    },
  ]);
}

/** Claims the job's outcome, then publishes VideoBaseFailed; false when the job already had another outcome. */
async function publishVideoBaseFailed(
  deps: Pick<IngestUploadDeps, "publisher" | "state" | "clock">,
  f: { jobId: string; source: { bucket: string; key: string }; causationId: string; reason: FailureReason; params?: JobParams; stepCost?: JobCost },
  logger: Logger,
): Promise<boolean> {
  const ledger = createJobLedger(deps.state);
  const event = {
    type: "VideoBaseFailed" as const,
    data: { ...(f.params ? { job: f.params } : {}), source: f.source, reason: f.reason, ...(f.stepCost ? { stepCost: f.stepCost } : {}) },
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
  deps: Pick<IngestUploadDeps, "blobs" | "publisher" | "state" | "clock" | "pricing">,
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
  const cost = await failedStepCost(deps, ctx, jobId, ctx.logger);
  return publishVideoBaseFailed(deps, { jobId, source: { bucket: deps.blobs.bucket, key: sourceKey }, causationId, reason, ...(params ? { params } : {}), ...(cost ? { stepCost: cost } : {}) }, ctx.logger);
}
