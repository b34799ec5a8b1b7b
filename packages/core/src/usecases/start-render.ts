import type { Data, FailureReason, JobParams, PipelineEvent, VideoInfo } from "@reelbridge/events";
import { jobParamsSchema } from "@reelbridge/events";
import { MUSIC_CATALOG, musicIdSchema } from "@reelbridge/remotion/music";
import { DIMENSIONS, FPS, compositionIdFor, durationInFrames, renderInputPropsSchema } from "@reelbridge/remotion/props";
import { InvalidEventError, PermanentError, TransientError, describeZodError, permanentReason } from "../errors";
import type { BlobStore, Clock, EventPublisher, Logger, OutgoingEvent, RenderRequest, Renderer, StepStateStore } from "../ports";
import type { RenderIndex, RenderStartResult } from "../render/ports";
import type { ExpectedVideo, RenderRecord } from "../render/record";
import { eventIds, parseRenderRecord, reasonMessage, renderStateName, restartClaimName, versionField, versionOf } from "../render/record";
import { scaledSize } from "../render/geometry";
import { finalVideoKeyOf } from "../upload/keys";
import { createJobLedger } from "../jobs/ledger";

/**
 * The render step: VideoBaseReady (version 1) or RenderRequested (a re-render, version N ≥ 2,
 * docs/decisions/0009) → start the branded render (Remotion Lambda, or the local emulator) with
 * a signed webhook → RenderStarted. Each version has its own render record
 * (`renderStateName(version)`), output key and outcome; everything below holds per version.
 *
 * Idempotency (a duplicated VideoBaseReady never starts a second render, even when two copies
 * are processed at the same time):
 *   1. claim: conditional write of the job's "render" record (status "starting"); the loser of
 *      a race sees the claim and backs off (TransientError: SQS redelivers it later);
 *   2. start: call the renderer;
 *   3. record: renderId on the claim (status "started"), the in-flight index entry, then
 *      RenderStarted with a deterministic eventId. A redelivery that finds "started" only
 *      re-does what is missing (index entry, RenderStarted if it was never published).
 *
 * A claim still "starting" after `staleStartSeconds` means the invocation that held it died
 * between 1 and 3. Decision: start again. The alternative, waiting for a renderId that may
 * never come, leaves the job stuck; starting again costs at most one duplicate render when the
 * crash happened after Remotion accepted the first one (a window of milliseconds), and that
 * orphan's webhook is ignored because its renderId is not the one recorded for the job. The
 * re-start is itself claimed (`render-restart:<n>`, conditional write), so only one redelivery
 * takes it over. A transient error from the renderer releases the claim at once (most such
 * errors, throttling above all, mean Remotion did not start anything).
 */

export interface StartRenderDeps {
  blobs: BlobStore;
  renderer: Renderer;
  state: StepStateStore;
  publisher: EventPublisher;
  clock: Clock;
  /** Where the renderer POSTs its webhook (the render-webhook Function URL). */
  webhookUrl: string;
  /** Keyframe interval of the output; the segmenter cuts on it without re-encoding. */
  keyframeIntervalSeconds: number;
  /** In-flight renders for the watchdog; optional so the step works without a watchdog. */
  index?: RenderIndex;
  /** A "starting" claim older than this is a crashed start (default 300 s). */
  staleStartSeconds?: number;
  /** Lifetime of the media URLs handed to the renderer (default 2 h, well past any render). */
  mediaUrlExpiresInSeconds?: number;
  /** Music files live at `<assetsPrefix><catalog file>`, e.g. assets/music/sunrise.m4a. */
  assetsPrefix?: string;
  /** Brand logo in the media bucket; used when present. */
  logoKey?: string;
  /**
   * Remotion's render scale for every render this step starts (default 1, full resolution, as
   * in AWS; the local runtime's `--scale` previews pass theirs). It goes into the request and the
   * render record's expected geometry, so what is announced and recorded is what is rendered.
   */
  scale?: number;
}

export interface StartRenderResult {
  renderId?: string;
  /** True when this call started the render; false for a duplicate. */
  started: boolean;
  status: RenderRecord["status"];
}

export const finalVideoKey = (jobId: string, version = 1): string => finalVideoKeyOf(jobId, version);

/** The events the render step starts a render for. */
export type RenderTrigger = PipelineEvent<"VideoBaseReady"> | PipelineEvent<"RenderRequested">;

/**
 * The true output geometry: the composition's (props.ts: duration = base clip + end card) at the
 * render scale, sized as Remotion sizes H.264 (render/geometry.ts: 1080×1920 at 0.3 is 324×576).
 */
export const expectedVideo = (aspect: JobParams["aspect"], baseVideoDurationSeconds: number, scale = 1): ExpectedVideo => ({
  durationSeconds: durationInFrames(baseVideoDurationSeconds) / FPS,
  ...scaledSize(DIMENSIONS[aspect], scale),
  fps: FPS,
});

const startFailed = (message: string, cause?: unknown) => new PermanentError("RenderStartFailed", reasonMessage(message), { cause });

async function buildInputProps(deps: StartRenderDeps, data: { job: JobParams; baseVideo: VideoInfo }, log: Logger): Promise<Record<string, unknown>> {
  const { job, baseVideo } = data;
  const expiresInSeconds = deps.mediaUrlExpiresInSeconds ?? 7_200;
  const music = musicIdSchema.safeParse(job.music);
  if (!music.success) throw startFailed(`music "${job.music}" is not in the music catalog`);
  const musicKey = `${deps.assetsPrefix ?? "assets/"}${MUSIC_CATALOG[music.data].file}`;
  const [musicHead, logoHead] = await Promise.all([deps.blobs.head(musicKey), deps.logoKey ? deps.blobs.head(deps.logoKey) : undefined]);
  const [baseVideoUrl, musicUrl, logoUrl] = await Promise.all([
    deps.blobs.presignGet(baseVideo.key, { expiresInSeconds }),
    musicHead ? deps.blobs.presignGet(musicKey, { expiresInSeconds }) : undefined,
    logoHead && deps.logoKey ? deps.blobs.presignGet(deps.logoKey, { expiresInSeconds }) : undefined,
  ]);
  // The bundle ships every catalog track: without the bucket copy the composition plays it from there.
  if (!musicHead) log.warn("music file missing from the bucket; the composition plays the bundled track", { musicKey });
  const props = {
    title: job.title,
    ...(job.subtitle ? { subtitle: job.subtitle } : {}),
    aspect: job.aspect,
    baseVideoUrl,
    baseVideoDurationSeconds: baseVideo.durationSeconds,
    musicId: music.data,
    ...(musicUrl ? { musicUrl } : {}),
    ...(logoUrl ? { logoUrl } : {}),
  };
  const parsed = renderInputPropsSchema.safeParse(props);
  if (!parsed.success) {
    throw startFailed(`the job does not fit the composition's input props: ${describeZodError(parsed.error)}`, parsed.error);
  }
  return parsed.data as Record<string, unknown>;
}

function renderStartedEvent(record: RenderRecord & { renderId: string }): OutgoingEvent<"RenderStarted"> {
  const data: Data<"RenderStarted"> = {
    job: record.job,
    ...versionField(record.version ?? 1),
    renderId: record.renderId,
    renderer: record.renderer,
    compositionId: record.compositionId,
    baseVideo: record.baseVideo,
    output: record.output,
  };
  return { type: "RenderStarted", data, eventId: eventIds.started(record.job.jobId, record.renderId), jobId: record.job.jobId, causationId: record.causationId };
}

/** Steps 3 for a started render: index entry and RenderStarted, each only if missing. */
async function announceStarted(deps: StartRenderDeps, record: RenderRecord & { renderId: string; startedAt: string }): Promise<void> {
  const version = record.version ?? 1;
  await deps.index?.add({ jobId: record.job.jobId, renderId: record.renderId, startedAt: record.startedAt, ...versionField(version) });
  if (record.startedPublished) return;
  await deps.publisher.publish([renderStartedEvent(record)]);
  await deps.state.update(record.job.jobId, renderStateName(version), { startedPublished: true });
}

export async function startRender(deps: StartRenderDeps, event: RenderTrigger, ctx: { logger: Logger }): Promise<StartRenderResult> {
  const { metadata, data } = event.detail;
  const jobId = metadata.jobId;
  if (data.job.jobId !== jobId) throw new InvalidEventError(`data.job.jobId ${data.job.jobId} differs from metadata.jobId ${jobId}`);
  const version = event["detail-type"] === "RenderRequested" ? versionOf(data) : 1;
  const stateName = renderStateName(version);
  const log = ctx.logger;
  const now = () => deps.clock.now();
  const compositionId = compositionIdFor(data.job.aspect);

  // Duplicates that find the render started or settled return before any other work.
  let existing = parseRenderRecord(await deps.state.get(jobId, stateName));
  if (existing && existing.status !== "starting") return resume(deps, existing, log);

  // Props first: a job that can never render fails permanently without claiming anything.
  const inputProps = await buildInputProps(deps, data, log);

  // A bad scale is configuration, not the job: it throws (retried, then the DLQ) before any claim.
  const expected = expectedVideo(data.job.aspect, data.baseVideo.durationSeconds, deps.scale ?? 1);
  const initial: RenderRecord = {
    status: "starting",
    attempt: 1,
    claimedAt: now().toISOString(),
    renderer: deps.renderer.name,
    compositionId,
    job: data.job,
    baseVideo: data.baseVideo,
    output: { bucket: deps.blobs.bucket, key: finalVideoKey(jobId, version) },
    expected,
    ...(deps.scale !== undefined ? { scale: deps.scale } : {}),
    ...versionField(version),
    causationId: metadata.eventId,
  };
  const claim = await deps.state.putIfAbsent(jobId, stateName, initial);
  let record: RenderRecord = initial;
  if (!claim.created) {
    existing = parseRenderRecord(claim.value);
    if (!existing) throw new TransientError(`the render record of job ${jobId} is unreadable`);
    if (existing.status !== "starting") return resume(deps, existing, log);
    record = await takeOverCrashedStart(deps, existing, log);
  }

  const request: RenderRequest = {
    jobId,
    compositionId,
    inputProps,
    outputKey: record.output.key,
    webhook: { url: deps.webhookUrl, customData: { jobId, ...versionField(version) } },
    keyframeIntervalSeconds: deps.keyframeIntervalSeconds,
    // The claim's scale, also on a re-start: the one `expected` was computed with.
    ...(record.scale !== undefined ? { scale: record.scale } : {}),
  };
  let result: RenderStartResult;
  try {
    result = await deps.renderer.start(request);
  } catch (err) {
    const reason = permanentReason(err);
    if (reason) {
      const failure: FailureReason = { code: "RenderStartFailed", message: reasonMessage(`${deps.renderer.name} refused the render: ${reason.message}`), retryable: false };
      await deps.state.update(jobId, stateName, { status: "start-failed", failure });
      throw new PermanentError("RenderStartFailed", failure.message, { cause: err });
    }
    // Let the next delivery start at once instead of waiting for the claim to go stale.
    await deps.state.update(jobId, stateName, { released: true, lastError: reasonMessage((err as Error)?.message ?? String(err)) });
    throw err;
  }

  const started = {
    ...record,
    status: "started" as const,
    renderId: result.renderId,
    startedAt: now().toISOString(),
    startedEventId: eventIds.started(jobId, result.renderId),
    ...(result.bucketName ? { bucketName: result.bucketName } : {}),
  };
  await deps.state.update(jobId, stateName, {
    status: "started",
    renderId: started.renderId,
    startedAt: started.startedAt,
    startedEventId: started.startedEventId,
    released: false,
    ...(result.bucketName ? { bucketName: result.bucketName } : {}),
  });
  log.info("render started", { renderId: started.renderId, renderer: started.renderer, compositionId, attempt: started.attempt, ...versionField(version) });
  // A cancel that landed while Remotion was being called found no renderId to cancel: this
  // invocation is the only one that knows it, so it cancels the render itself.
  if (await cancelIfCancelled(deps, started, log)) return { renderId: started.renderId, started: true, status: "cancelled" };
  await announceStarted(deps, started);
  return { renderId: started.renderId, started: true, status: "started" };
}

/**
 * When the job (or this render's version) was cancelled (jobs/ledger.ts outcome JobCancelled),
 * asks the renderer to stop the render and marks its record cancelled. Used right after a start
 * and by the render canceller (JobCancelled). Returns whether it cancelled.
 */
export async function cancelIfCancelled(
  deps: Pick<StartRenderDeps, "state" | "renderer" | "index">,
  record: RenderRecord & { renderId: string; startedAt?: string },
  log: Logger,
): Promise<boolean> {
  const version = record.version ?? 1;
  const view = await createJobLedger(deps.state).view(record.job.jobId, { version });
  const cancelled = view.outcome?.type === "JobCancelled" || view.version?.outcome?.type === "JobCancelled";
  if (!cancelled) return false;
  await cancelRender(deps, record, log);
  return true;
}

/** Stops one started render (idempotent): the renderer's cancel, the record `cancelled`, out of the watchdog's index. */
export async function cancelRender(
  deps: Pick<StartRenderDeps, "state" | "renderer" | "index">,
  record: RenderRecord & { renderId: string; startedAt?: string },
  log: Logger,
): Promise<void> {
  const version = record.version ?? 1;
  const fields = { renderId: record.renderId, ...versionField(version) };
  if (deps.renderer.cancel) {
    try {
      await deps.renderer.cancel({ renderId: record.renderId, ...(record.bucketName ? { bucketName: record.bucketName } : {}) });
      log.info("render cancelled", fields);
    } catch (err) {
      // Throttled or unavailable: retried. Refused (a render started before enableCancellation,
      // one that already ended): it runs out, and the ledger drops its outcome either way.
      if (err instanceof TransientError) throw err;
      log.warn("the renderer refused to cancel the render; its outcome will be dropped", { ...fields, error: (err as Error)?.message });
    }
  } else {
    log.warn("the renderer cannot cancel renders; this one runs to its end and its outcome is dropped", { ...fields, renderer: deps.renderer.name });
  }
  await deps.state.update(record.job.jobId, renderStateName(version), { status: "cancelled" });
  if (deps.index && record.startedAt) await deps.index.remove({ jobId: record.job.jobId, startedAt: record.startedAt, ...versionField(version) });
}

async function resume(deps: StartRenderDeps, record: RenderRecord, log: Logger): Promise<StartRenderResult> {
  switch (record.status) {
    case "started":
      if (!record.renderId || !record.startedAt) throw new TransientError("the render record says started but has no renderId");
      log.info("duplicate VideoBaseReady: render already started", { renderId: record.renderId });
      await announceStarted(deps, { ...record, renderId: record.renderId, startedAt: record.startedAt });
      return { renderId: record.renderId, started: false, status: "started" };
    case "start-failed":
      // Rethrown so the handler (re-)emits RenderFailed with the same eventId.
      throw new PermanentError("RenderStartFailed", record.failure?.message ?? "the render could not be started");
    default:
      log.info("duplicate VideoBaseReady: render already settled", { renderId: record.renderId, status: record.status });
      return { renderId: record.renderId, started: false, status: record.status };
  }
}

async function takeOverCrashedStart(deps: StartRenderDeps, existing: RenderRecord, log: Logger): Promise<RenderRecord> {
  const jobId = existing.job.jobId;
  const version = existing.version ?? 1;
  const staleMs = (deps.staleStartSeconds ?? 300) * 1000;
  const ageMs = deps.clock.now().getTime() - Date.parse(existing.claimedAt);
  const released = existing.released === true;
  if (!released && ageMs < staleMs) {
    throw new TransientError(`a start of job ${jobId}'s render is in progress`, { retryAfterSeconds: Math.ceil((staleMs - ageMs) / 1000) });
  }
  const attempt = existing.attempt + 1;
  const taken = await deps.state.putIfAbsent(jobId, restartClaimName(attempt, version), { claimedAt: deps.clock.now().toISOString() });
  if (!taken.created) throw new TransientError(`another delivery is re-starting job ${jobId}'s render`, { retryAfterSeconds: 30 });
  const claimedAt = deps.clock.now().toISOString();
  await deps.state.update(jobId, renderStateName(version), { attempt, claimedAt, released: false });
  log.warn("re-starting a render whose start never completed", { attempt, previousClaimAt: existing.claimedAt, released });
  return { ...existing, attempt, claimedAt };
}

/**
 * What the render step's handler does when the job cannot be rendered (a permanent error, or
 * transient errors until the queue's last receive): RenderFailed, unless a render is already
 * running or settled for the job, whose own outcome then decides.
 */
export async function failRenderStart(
  deps: { state: StepStateStore; publisher: EventPublisher; rendererName: string; clock?: Clock },
  raw: unknown,
  reason: FailureReason,
  ctx: { logger: Logger },
): Promise<{ emitted: boolean }> {
  const detail = (raw as { detail?: { metadata?: { eventId?: unknown; jobId?: unknown }; data?: { job?: unknown; version?: unknown } } } | null)?.detail;
  const type = (raw as { "detail-type"?: unknown } | null)?.["detail-type"];
  const version = type === "RenderRequested" ? versionOf(detail?.data) : 1;
  // The job is the one the envelope names, with the parameters the pipeline recorded for it
  // (jobs/ledger.ts), never those of an event that may be forged or inconsistent.
  const claimed = jobParamsSchema.safeParse(detail?.data?.job);
  const jobId = typeof detail?.metadata?.jobId === "string" ? detail.metadata.jobId : claimed.success ? claimed.data.jobId : undefined;
  if (!jobId) {
    ctx.logger.error("cannot emit RenderFailed: the event names no job", { reason });
    return { emitted: false };
  }
  const ledger = createJobLedger(deps.state);
  const view = await ledger.view(jobId, { version });
  // A version's parameters are the ones the jobs API recorded for it.
  const job = version > 1 ? view.version?.record?.job : (view.job ?? (claimed.success && claimed.data.jobId === jobId ? claimed.data : undefined));
  if (!job) {
    ctx.logger.error("cannot emit RenderFailed: no readable job parameters", { reason });
    return { emitted: false };
  }
  const stateName = renderStateName(version);
  const record = parseRenderRecord(await deps.state.get(jobId, stateName));
  if (record && record.status !== "starting" && record.status !== "start-failed") {
    ctx.logger.warn("not failing the job: a render is already running or settled", { renderId: record.renderId, status: record.status, reason });
    return { emitted: false };
  }
  if (record) await deps.state.update(jobId, stateName, { status: "start-failed", failure: reason });
  const causationId = typeof detail?.metadata?.eventId === "string" ? detail.metadata.eventId : jobId;
  const event: OutgoingEvent<"RenderFailed"> = {
    type: "RenderFailed",
    data: { job, ...versionField(version), renderer: record?.renderer ?? deps.rendererName, reason },
    eventId: eventIds.failed(jobId, undefined, version),
    jobId,
    causationId,
  };
  const claim = await ledger.claimOutcome(event, (deps.clock ?? { now: () => new Date() }).now().toISOString());
  if (!claim.ours) {
    ctx.logger.warn("not emitting RenderFailed: the job already has another outcome", { outcome: claim.outcome.type, outcomeEventId: claim.outcome.eventId, reason });
    return { emitted: false };
  }
  await deps.publisher.publish([claim.outcome.event]);
  await ledger.markPublished(jobId, version);
  return { emitted: true };
}
