import { createHash } from "node:crypto";
import { jobParamsSchema, MAX_RENDER_VERSION } from "@reelbridge/events";
import type { JobParams, VideoInfo } from "@reelbridge/events";
import { idempotencyKeySchema, rerenderRequestSchema } from "@reelbridge/events/http";
import type { FieldIssue } from "@reelbridge/events/http";
import type { BlobStore, Clock, EventPublisher, Logger, OutgoingEvent, StepStateStore } from "../ports";
import { createJobLedger } from "../jobs/ledger";
import type { JobView, RenderVersionRecord } from "../jobs/ledger";
import { parseRenderRecord, renderStateName } from "../render/record";
import { fieldIssues } from "../upload/request";
import { quoteJob } from "../jobs/cost";
import type { JobCost, QuoteConfig } from "../jobs/cost";
import { BudgetExceededError, reserveBudget } from "../jobs/budget";
import type { BudgetLimits, BudgetStore } from "../jobs/budget";

/**
 * POST /jobs/{jobId}/renders: version N ≥ 2 of the job's render, from the stored base clip, with
 * a new title, subtitle, music or aspect (docs/decisions/0009). No generation is paid for.
 *
 *   1. validate the body with the upload request's own field schemas, and the Idempotency-Key;
 *   2. the job must be the caller's (else 404, as in the status API) and its first render must
 *      have ended (RenderCompleted or RenderFailed in the ledger) with a base clip still stored;
 *   3. claim the key's record (conditional write): a repeat of the key answers the version it
 *      numbered (same body) or 422 (another body); while the first request is still numbering, 409;
 *   4. number the version: claim `render-version:N` for N = hint+1, +2, … (conditional writes,
 *      so concurrent requests get distinct numbers and none is lost);
 *   5. publish RenderRequested (deterministic eventId), then record the number on the key.
 *
 * Between 3 and 4 the version's quote (a render, no generation) is reserved against the owner's
 * day like an upload's (jobs/budget.ts): over a cap is BudgetExceededError (→ 402, the upload
 * API's contract), nothing numbered, published or reserved, and the key may be used again.
 */

export const MAX_VERSIONS_PER_JOB = 50;
/** A key whose first request never recorded its version (it crashed) may be taken over after this. */
export const STALE_IDEMPOTENCY_SECONDS = 60;

export interface RerenderDeps {
  state: StepStateStore;
  blobs: Pick<BlobStore, "head">;
  publisher: EventPublisher;
  clock: Clock;
  musicIds: readonly string[];
  logger?: Logger;
  /** How a re-render is priced (the stage's renderer; never a generation). Absent: no quote, nothing reserved. */
  quote?: QuoteConfig;
  /** The stage's caps and the store the owner's day is reserved in (as for uploads). */
  budget?: { limits?: BudgetLimits; store?: BudgetStore };
}

/** Who asks: undefined on open stages (anyone may act on any job), like the status API. */
export type JobCaller = { owner: string } | undefined;

/** A refused re-render or cancel request: its HTTP status, a stable code and a sentence. */
export class JobRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 422,
    readonly code: string,
    message: string,
    readonly details?: FieldIssue[],
  ) {
    super(message);
    this.name = "JobRequestError";
  }
}

export interface RerenderResult {
  jobId: string;
  version: number;
  status: "requested";
  /** True when an earlier request with the same key numbered this version. */
  replayed: boolean;
  /** The version's parameters (for its quote). */
  params?: JobParams;
  /** What the version costs (a render, no generation); reserved against the owner's day when the stage caps it. */
  quote?: JobCost;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

interface IdempotencyRecord {
  fingerprint: string;
  claimedAt: string;
  version?: number;
  /** The request was refused (over budget) before numbering: the key may be used again at once. */
  refused?: boolean;
}

/** The job, if the caller may act on it; 404 otherwise (another owner's job looks like no job). */
export function ownedJob(view: JobView, caller: JobCaller): JobParams {
  const job = view.job;
  if (!view.known || !job || (caller !== undefined && job.owner !== caller.owner)) throw new JobRequestError(404, "JobNotFound", `no job ${view.jobId}`);
  return job;
}

export async function requestRerender(
  deps: RerenderDeps,
  req: { jobId: string; caller: JobCaller; idempotencyKey: string | undefined; body: unknown },
): Promise<RerenderResult> {
  const key = idempotencyKeySchema.safeParse(req.idempotencyKey);
  if (req.idempotencyKey === undefined) throw new JobRequestError(400, "MissingIdempotencyKey", "an Idempotency-Key header is required: the same key returns the same version");
  if (!key.success) throw new JobRequestError(400, "InvalidIdempotencyKey", `the Idempotency-Key ${key.error.issues[0]?.message ?? "is invalid"}`);
  const body = rerenderRequestSchema(deps.musicIds).safeParse(req.body);
  if (!body.success) throw new JobRequestError(400, "InvalidRerenderRequest", "the re-render request is invalid", fieldIssues(body.error));

  const ledger = createJobLedger(deps.state);
  const view = await ledger.view(req.jobId);
  const job = ownedJob(view, req.caller);
  const outcome = view.outcome?.type;
  if (!outcome) throw new JobRequestError(409, "JobInProgress", `job ${req.jobId} is still in progress; re-render it once it has finished`);
  if (outcome === "JobCancelled") throw new JobRequestError(409, "JobCancelled", `job ${req.jobId} was cancelled`);
  if (outcome === "VideoBaseFailed") throw new JobRequestError(409, "NoBaseClip", `job ${req.jobId} has no base clip to re-render: its generation failed`);
  const baseVideo = await storedBaseClip(deps, req.jobId);

  // The version's parameters: the job's own, with what the request changes. Checked as a whole.
  const params = jobParamsSchema.safeParse({ ...job, ...body.data });
  if (!params.success) throw new JobRequestError(400, "InvalidRerenderRequest", "the re-render request is invalid", fieldIssues(params.error));

  const now = deps.clock.now();
  const keyHash = sha256(`${job.owner}\n${key.data}`);
  const fingerprint = sha256(JSON.stringify(Object.entries(body.data).sort(([a], [b]) => (a < b ? -1 : 1))));
  const keyName = `render-request:${keyHash}`;
  const claim = await deps.state.putIfAbsent(req.jobId, keyName, { fingerprint, claimedAt: now.toISOString() } satisfies IdempotencyRecord);
  const quote = deps.quote ? quoteJob({ aspect: params.data.aspect, durationSeconds: params.data.durationSeconds }, { ...deps.quote, generation: false }) : undefined;
  if (!claim.created) {
    const prior = claim.value as unknown as IdempotencyRecord;
    if (prior.refused) {
      // Refused before: nothing was numbered under this key, so it starts afresh (any body).
      await deps.state.update(req.jobId, keyName, { fingerprint, claimedAt: now.toISOString(), refused: false });
    } else if (prior.fingerprint !== fingerprint) throw new JobRequestError(422, "IdempotencyKeyReused", "this Idempotency-Key was used for a different re-render of this job; use a new key");
    else if (typeof prior.version === "number") {
      await republishIfNeeded(deps, req.jobId, prior.version);
      return { jobId: req.jobId, version: prior.version, status: "requested", replayed: true, params: params.data, ...(quote ? { quote } : {}) };
    } else {
      const ageSeconds = (now.getTime() - Date.parse(prior.claimedAt)) / 1000;
      if (!(ageSeconds >= STALE_IDEMPOTENCY_SECONDS)) throw new JobRequestError(409, "RequestInProgress", "a request with this Idempotency-Key is still being processed; retry in a moment");
      deps.logger?.warn("taking over an Idempotency-Key whose first request never finished", { jobId: req.jobId, ageSeconds: Math.round(ageSeconds) });
    }
  }

  // The version's render is paid for like an upload's job: reserved against the owner's day.
  const decision = quote ? await reserveBudget(deps.budget?.store, deps.budget?.limits, { owner: job.owner, at: now, quoteUsd: quote.totalUsd }) : undefined;
  if (decision && !decision.ok) {
    await deps.state.update(req.jobId, keyName, { refused: true });
    deps.logger?.warn("re-render refused: over budget", { jobId: req.jobId, owner: job.owner, limit: decision.limit, limitUsd: decision.limitUsd, quoteUsd: decision.costUsd, spentTodayUsd: decision.spentTodayUsd });
    throw new BudgetExceededError(decision, quote);
  }
  let version: RenderVersionRecord;
  try {
    version = await numberVersion(deps, req.jobId, { job: params.data, baseVideo, keyHash, at: now.toISOString() });
  } catch (err) {
    // Nothing will be rendered: give the reservation back (best effort).
    if (decision?.ok && decision.reservedUsd > 0 && deps.budget?.store) {
      await deps.budget.store.release({ owner: job.owner, day: decision.day, usd: decision.reservedUsd }).catch(() => undefined);
    }
    throw err;
  }
  await publishRequested(deps, req.jobId, version);
  await deps.state.update(req.jobId, keyName, { version: version.version });
  deps.logger?.info("re-render requested", { jobId: req.jobId, version: version.version });
  return { jobId: req.jobId, version: version.version, status: "requested", replayed: false, params: version.job, ...(quote ? { quote } : {}) };
}

/** The base clip as the render step recorded it for the job's first render, if it is still stored. */
async function storedBaseClip(deps: Pick<RerenderDeps, "state" | "blobs">, jobId: string): Promise<VideoInfo> {
  const first = parseRenderRecord(await deps.state.get(jobId, renderStateName(1)));
  if (!first) throw new JobRequestError(409, "NoBaseClip", `job ${jobId} has no recorded base clip to re-render`);
  const head = await deps.blobs.head(first.baseVideo.key);
  if (!head) throw new JobRequestError(409, "NoBaseClip", `the base clip of job ${jobId} is no longer stored`);
  return first.baseVideo;
}

/** Claims the next free version number (conditional writes: concurrent requests get distinct ones). */
async function numberVersion(
  deps: Pick<RerenderDeps, "state">,
  jobId: string,
  v: { job: JobParams; baseVideo: VideoInfo; keyHash: string; at: string },
): Promise<RenderVersionRecord> {
  const ledger = createJobLedger(deps.state);
  const hint = (await deps.state.get(jobId, "render-versions"))?.latest;
  let n = typeof hint === "number" && Number.isInteger(hint) && hint >= 1 ? hint + 1 : 2;
  for (; n <= Math.min(MAX_VERSIONS_PER_JOB, MAX_RENDER_VERSION); n++) {
    const record: RenderVersionRecord = {
      version: n,
      job: v.job,
      baseVideo: v.baseVideo,
      requestedAt: v.at,
      requestEventId: `${jobId}:render-requested:v${n}`,
      published: false,
      idempotencyKeyHash: v.keyHash,
    };
    if (await ledger.recordVersion(jobId, record)) {
      // A hint only (never read as the truth): claims below it are all taken.
      await deps.state.update(jobId, "render-versions", { latest: n });
      return record;
    }
  }
  throw new JobRequestError(409, "TooManyVersions", `job ${jobId} has ${MAX_VERSIONS_PER_JOB - 1} re-renders, the most a job may have`);
}

function requestedEvent(jobId: string, v: RenderVersionRecord): OutgoingEvent<"RenderRequested"> {
  return {
    type: "RenderRequested",
    eventId: v.requestEventId,
    jobId,
    causationId: v.requestEventId,
    data: { job: v.job, version: v.version, baseVideo: v.baseVideo, requestedAt: v.requestedAt },
  };
}

async function publishRequested(deps: Pick<RerenderDeps, "state" | "publisher">, jobId: string, v: RenderVersionRecord): Promise<void> {
  await deps.publisher.publish([requestedEvent(jobId, v)]);
  await createJobLedger(deps.state).markVersionPublished(jobId, v.version);
}

/** A replayed request whose first attempt numbered the version but died before publishing publishes it now. */
async function republishIfNeeded(deps: Pick<RerenderDeps, "state" | "publisher">, jobId: string, version: number): Promise<void> {
  const view = await createJobLedger(deps.state).view(jobId, { version });
  const record = view.version?.record;
  if (record && !record.published) await publishRequested(deps, jobId, record);
}
