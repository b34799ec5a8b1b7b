import { deflateRawSync, inflateRawSync } from "node:zlib";
import { jobParamsSchema } from "@reelbridge/events";
import type { JobParams } from "@reelbridge/events";
import { PermanentError } from "../errors";

/**
 * Job parameters travel from the upload form to the LTX step as signed S3 object metadata
 * (ARCHITECTURE.md, principle 3). S3 user metadata is ASCII-only and at most 2 KB, and users type
 * accents, CJK, RTL and emoji, so the parameters go as JSON, deflate-raw compressed, base64url:
 *
 *   x-amz-meta-job          base64url(deflateRaw(utf8(JSON(params))))
 *   x-amz-meta-job-version  "1"
 *
 * The presigned POST pins both with exact conditions, so any edit in the browser breaks the
 * policy and S3 (or the local endpoint) refuses the upload.
 */
export const JOB_METADATA_KEY = "job";
export const JOB_METADATA_VERSION_KEY = "job-version";
export const JOB_METADATA_VERSION = "1";
/** S3's limit on user metadata: UTF-8 bytes of every key and value, summed. */
export const S3_METADATA_LIMIT_BYTES = 2048;
const META_PREFIX = "x-amz-meta-";
/** Guard against a corrupt (or hostile) value inflating to something huge. */
const MAX_INFLATED_BYTES = 64 * 1024;

/** Size as S3 counts it, conservatively with the `x-amz-meta-` prefix on each key. */
export function metadataSizeBytes(meta: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(meta)) n += Buffer.byteLength(META_PREFIX + k, "utf8") + Buffer.byteLength(v, "utf8");
  return n;
}

export class MetadataTooLargeError extends Error {
  readonly code = "MetadataTooLarge";
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
    /** The user's text fields, longest (in UTF-8 bytes) first: what to shorten. */
    readonly longestFields: Array<{ field: string; bytes: number }>,
  ) {
    super(
      `the job parameters take ${sizeBytes} bytes as upload metadata, over S3's ${limitBytes}-byte limit; shorten ${longestFields
        .slice(0, 2)
        .map((f) => f.field)
        .join(" or ")}`,
    );
    this.name = "MetadataTooLargeError";
  }
}

const textFields = ["title", "subtitle", "cameraPrompt", "callbackUrl"] as const;

/** Encodes job parameters as user metadata (keys without the x-amz-meta- prefix). */
export function encodeJobMetadata(params: JobParams): Record<string, string> {
  const json = JSON.stringify(params);
  const value = deflateRawSync(Buffer.from(json, "utf8"), { level: 9 }).toString("base64url");
  const meta = { [JOB_METADATA_KEY]: value, [JOB_METADATA_VERSION_KEY]: JOB_METADATA_VERSION };
  const size = metadataSizeBytes(meta);
  if (size > S3_METADATA_LIMIT_BYTES) {
    const longest = textFields
      .map((field) => ({ field, bytes: Buffer.byteLength(params[field] ?? "", "utf8") }))
      .filter((f) => f.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes);
    throw new MetadataTooLargeError(size, S3_METADATA_LIMIT_BYTES, longest);
  }
  return meta;
}

const invalid = (message: string, cause?: unknown) => new PermanentError("InvalidUpload", `upload metadata ${message}`, { cause });

/**
 * Decodes the job parameters from an object's user metadata (BlobHead.metadata: keys
 * lower-case; an `x-amz-meta-` prefix is tolerated). Throws PermanentError("InvalidUpload")
 * when they are missing, of an unknown version, corrupt, or do not satisfy the contract; with
 * `expect.jobId`, also when they belong to another job.
 */
export function decodeJobMetadata(meta: Record<string, string> | undefined, expect: { jobId?: string } = {}): JobParams {
  const lookup = new Map<string, string>();
  for (const [k, v] of Object.entries(meta ?? {})) {
    const key = k.toLowerCase();
    lookup.set(key.startsWith(META_PREFIX) ? key.slice(META_PREFIX.length) : key, v);
  }
  const value = lookup.get(JOB_METADATA_KEY);
  const version = lookup.get(JOB_METADATA_VERSION_KEY);
  if (value === undefined) throw invalid(`has no "${JOB_METADATA_KEY}" entry (not uploaded through the upload API?)`);
  if (version !== JOB_METADATA_VERSION) throw invalid(`version ${JSON.stringify(version ?? null)} is not supported (expected "${JOB_METADATA_VERSION}")`);
  if (!/^[A-Za-z0-9_-]+$/.test(value)) throw invalid("is not base64url");
  let parsed: unknown;
  try {
    const json = inflateRawSync(Buffer.from(value, "base64url"), { maxOutputLength: MAX_INFLATED_BYTES }).toString("utf8");
    parsed = JSON.parse(json);
  } catch (err) {
    throw invalid("is corrupt", err);
  }
  const result = jobParamsSchema.safeParse(parsed);
  if (!result.success) {
    const first = result.error.issues[0];
    throw invalid(`does not satisfy the job contract: ${first ? `${first.path.join(".") || "(root)"}: ${first.message}` : "invalid"}`, result.error);
  }
  if (expect.jobId !== undefined && result.data.jobId !== expect.jobId) {
    throw invalid(`belongs to job ${result.data.jobId}, not ${expect.jobId}`);
  }
  return result.data;
}
