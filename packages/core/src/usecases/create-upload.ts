import { ulid } from "ulid";
import { jobParamsSchema } from "@reelbridge/events";
import type { JobParams } from "@reelbridge/events";
import type { Clock } from "../ports";
import type { UploadSigner } from "../upload/ports";
import { MAX_UPLOAD_EXPIRY_SECONDS, uploadKey } from "../upload/keys";
import { MetadataTooLargeError, encodeJobMetadata } from "../upload/metadata";
import { fieldIssues, uploadRequestSchema } from "../upload/request";
import { UploadValidationError } from "../upload/errors";

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
}

export const newJobId = (): string => ulid();

/**
 * POST /uploads: validates the job parameters (any Unicode, bounded lengths, catalog music),
 * assigns the job id and owner, and returns a presigned POST that lets the browser write exactly
 * `uploads/{jobId}/source` — 1 byte to maxBytes, the declared image type, the parameters as
 * signed metadata — for at most 10 minutes. Throws UploadValidationError (→ 400) naming fields.
 */
export async function createUpload(deps: CreateUploadDeps, input: unknown, caller: { owner: string }): Promise<CreateUploadResult> {
  if (!Number.isInteger(deps.maxBytes) || deps.maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${deps.maxBytes}`);
  if (!(deps.expiresInSeconds >= 1)) throw new RangeError(`expiresInSeconds must be at least 1, got ${deps.expiresInSeconds}`);
  const expiresInSeconds = Math.min(Math.floor(deps.expiresInSeconds), MAX_UPLOAD_EXPIRY_SECONDS);

  const parsed = uploadRequestSchema(deps.musicIds).safeParse(input);
  if (!parsed.success) throw new UploadValidationError("the upload request is invalid", fieldIssues(parsed.error));
  const { contentType, ...requested } = parsed.data;

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

  const key = uploadKey(jobId);
  const post = await deps.signer.createPresignedPost({ key, contentType, maxBytes: deps.maxBytes, expiresInSeconds, metadata });
  return {
    jobId,
    params,
    upload: { url: post.url, fields: post.fields, key, expiresAt: post.expiresAt, maxBytes: deps.maxBytes },
    statusUrl: `/jobs/${jobId}`,
  };
}
