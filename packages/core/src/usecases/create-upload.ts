import { ulid } from "ulid";
import { jobParamsSchema } from "@reelbridge/events";
import type { JobParams } from "@reelbridge/events";
import type { Clock, StepStateStore } from "../ports";
import { createJobLedger } from "../jobs/ledger";
import type { UploadSigner } from "../upload/ports";
import { MAX_UPLOAD_EXPIRY_SECONDS, uploadKey } from "../upload/keys";
import { MetadataTooLargeError, encodeJobMetadata } from "../upload/metadata";
import { fieldIssues, uploadRequestSchema } from "../upload/request";
import { UploadValidationError } from "../upload/errors";
import { quoteJob } from "../jobs/cost";
import type { JobCost, QuoteConfig } from "../jobs/cost";
import { BudgetExceededError, reserveBudget } from "../jobs/budget";
import type { BudgetDecision, BudgetLimits, BudgetStore } from "../jobs/budget";

export interface CreateUploadDeps {
  signer: UploadSigner;
  clock: Clock;
  /** A new ULID per call (`newJobId` below in production). */
  newJobId: () => string;
  /** The music catalog's ids (remotion/src/music.ts). */
  musicIds: readonly string[];
  /** Largest photo accepted, bytes (stage config; 15 MB by default, LTX-2's URL-input limit). */
  maxBytes: number;
  /** Policy lifetime; capped at 600 s. */
  expiresInSeconds: number;
  /** What the quote prices (the stage's generator and renderer). */
  quote: QuoteConfig;
  /** The stage's caps (stage config `budget`) and the store the per-day cap is reserved in. */
  budget?: { limits?: BudgetLimits; store?: BudgetStore };
  /**
   * The job ledger's store (jobs/ledger.ts): the signed job (owner, parameters) is recorded before
   * the POST is handed out, so its owner can cancel it while it waits for the LTX step.
   */
  state?: StepStateStore;
  /**
   * This invocation of the upload API so far (the handler wrapper's meter): signed into the job's
   * parameters (`uploadInvocation`), the upload API's line of the job's cost. Absent: not measured.
   */
  invocation?: () => NonNullable<JobParams["uploadInvocation"]> | undefined;
}

export interface CreateUploadResult {
  jobId: string;
  /** The parameters as they will reach the pipeline (trimmed, with owner and createdAt). */
  params: JobParams;
  upload: {
    /** POST a multipart form here: `fields` in order, then the file as the last field "file". */
    url: string;
    fields: Record<string, string>;
    key: string;
    expiresAt: string;
    maxBytes: number;
  };
  statusUrl: string;
  /** What the job will cost (every line estimated), reserved against the owner's day when the stage caps it. */
  quote: JobCost;
  budget: Extract<BudgetDecision, { ok: true }>;
}

export const newJobId = (): string => ulid();

/**
 * POST /uploads: validates the job parameters (any Unicode, bounded lengths, catalog music),
 * assigns the job id and owner, and returns a presigned POST that lets the browser write exactly
 * `uploads/{jobId}/source` — 1 byte to maxBytes, the declared image type, the parameters as
 * signed metadata — for at most 10 minutes. Throws UploadValidationError (→ 400) naming fields.
 *
 * Before the POST is signed, the job is quoted (jobs/cost.ts quoteJob) and the quote is held
 * against the caller's `maxCostUsd`, the stage's per-job cap and, atomically, the owner's daily
 * cap (jobs/budget.ts): over any of them throws BudgetExceededError (→ 402) and nothing is
 * reserved or paid for.
 */
export async function createUpload(deps: CreateUploadDeps, input: unknown, caller: { owner: string }): Promise<CreateUploadResult> {
  if (!Number.isInteger(deps.maxBytes) || deps.maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${deps.maxBytes}`);
  if (!(deps.expiresInSeconds >= 1)) throw new RangeError(`expiresInSeconds must be at least 1, got ${deps.expiresInSeconds}`);
  const expiresInSeconds = Math.min(Math.floor(deps.expiresInSeconds), MAX_UPLOAD_EXPIRY_SECONDS);

  const parsed = uploadRequestSchema(deps.musicIds).safeParse(input);
  if (!parsed.success) throw new UploadValidationError("the upload request is invalid", fieldIssues(parsed.error));
  const { contentType, maxCostUsd, ...requested } = parsed.data;

  const jobId = deps.newJobId();
  const full = jobParamsSchema.safeParse({ ...requested, jobId, owner: caller.owner, createdAt: deps.clock.now().toISOString() });
  // Only server-side values can fail here (e.g. an owner over 256 characters): still a 400, named.
  if (!full.success) throw new UploadValidationError("the upload request is invalid", fieldIssues(full.error));
  const params = full.data;

  let metadata: Record<string, string>;
  try {
    metadata = encodeJobMetadata(params);
  } catch (err) {
    if (err instanceof MetadataTooLargeError) {
      throw new UploadValidationError(
        err.message,
        err.longestFields.slice(0, 2).map((f) => ({ field: f.field, message: `${f.bytes} bytes in UTF-8; the job parameters must fit in ${err.limitBytes} bytes of upload metadata` })),
      );
    }
    throw err;
  }

  const quote = quoteJob(params, deps.quote);
  const decision = await reserveBudget(deps.budget?.store, deps.budget?.limits, {
    owner: params.owner,
    at: new Date(params.createdAt),
    quoteUsd: quote.totalUsd,
    ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
  });
  if (!decision.ok) throw new BudgetExceededError(decision, quote);

  const key = uploadKey(jobId);
  // The upload API's own invocation, measured up to here (the signing is local and brief), goes
  // with the signed parameters; parameters too close to S3's metadata limit go without it.
  const invocation = deps.invocation?.();
  let signed: JobParams = params;
  if (invocation) {
    try {
      metadata = encodeJobMetadata({ ...params, uploadInvocation: invocation });
      signed = { ...params, uploadInvocation: invocation };
    } catch (err) {
      if (!(err instanceof MetadataTooLargeError)) throw err;
    }
  }
  let post: Awaited<ReturnType<UploadSigner["createPresignedPost"]>>;
  try {
    if (deps.state) await createJobLedger(deps.state).recordSigned(jobId, signed, params.createdAt);
    post = await deps.signer.createPresignedPost({ key, contentType, maxBytes: deps.maxBytes, expiresInSeconds, metadata });
  } catch (err) {
    // No upload can happen: give the reservation back (best effort; the error is what matters).
    if (decision.reservedUsd > 0 && deps.budget?.store) {
      await deps.budget.store.release({ owner: params.owner, day: decision.day, usd: decision.reservedUsd }).catch(() => undefined);
    }
    throw err;
  }
  return {
    jobId,
    params: signed,
    upload: { url: post.url, fields: post.fields, key, expiresAt: post.expiresAt, maxBytes: deps.maxBytes },
    statusUrl: `/jobs/${jobId}`,
    quote,
    budget: decision,
  };
}
