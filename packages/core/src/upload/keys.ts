import { decodeS3Key } from "@reelbridge/events";

/** Where browsers upload (the topology's `prefixes.uploads` is this). */
export const UPLOADS_PREFIX = "uploads/" as const;

/** The one key a job's photo may be uploaded to. */
export const uploadKey = (jobId: string): string => `${UPLOADS_PREFIX}${jobId}/source`;

const UPLOAD_KEY = new RegExp(`^${UPLOADS_PREFIX}([0-9A-HJKMNP-TV-Z]{26})/source$`);

/** The jobId of an upload key as S3 events carry it (URL-encoded), or undefined when it is not `uploads/{ULID}/source`. */
export function uploadKeyJobId(rawKey: string): string | undefined {
  let key: string;
  try {
    key = decodeS3Key(rawKey);
  } catch {
    return undefined;
  }
  return UPLOAD_KEY.exec(key)?.[1];
}

/** A ULID as Crockford base32, the only form a jobId takes. */
const ULID = "[0-9A-HJKMNP-TV-Z]{26}";
/** A jobId in a key or path anywhere in a text, e.g. a log line: uploads/{jobId}/… or jobs/{jobId}/…, URL-encoded or not. */
export const JOB_ID_IN_TEXT = new RegExp(`(?:uploads|jobs)(?:/|%2F)(${ULID})(?:/|%2F|\\b)`, "i");

/**
 * The job an EventBridge event concerns, for routing log context and checks: a pipeline event's
 * `detail.metadata.jobId`, else the jobId in an S3 event's object key (uploads/ or jobs/).
 * The one place a jobId is read from an event before it is validated.
 */
export function eventJobId(raw: unknown): string | undefined {
  const d = (raw as { detail?: { metadata?: { jobId?: unknown }; object?: { key?: unknown } } } | null)?.detail;
  const id = d?.metadata?.jobId;
  if (typeof id === "string") return id;
  const key = d?.object?.key;
  if (typeof key !== "string") return undefined;
  let decoded: string;
  try {
    decoded = decodeS3Key(key);
  } catch {
    return undefined;
  }
  return new RegExp(`^(?:${UPLOADS_PREFIX}|${JOBS_PREFIX})(${ULID})/`).exec(decoded)?.[1];
}

/**
 * Image types the pipeline accepts and the default photo limit (15 MB, LTX-2's URL-input
 * limit): defined once in the published HTTP contract, which the web client imports too.
 */
export { DEFAULT_MAX_UPLOAD_BYTES, uploadContentTypes } from "@reelbridge/events/http";
export type { UploadContentType } from "@reelbridge/events/http";
/** Presigned POST policies live at most 10 minutes. */
export const MAX_UPLOAD_EXPIRY_SECONDS = 600;

/**
 * Everything the pipeline writes lives under `jobs/{jobId}/`. Must equal `prefixes.jobs` in
 * packages/functions/src/topology.ts (IAM grants are built from it). This is the one definition
 * of the layout: producers name their outputs with `jobKeys`, consumers check what an event
 * names with `isJobKey` (issue #11 item 3).
 */
export const JOBS_PREFIX = "jobs/" as const;

/** The folder of one job's outputs, with its trailing slash. */
export const jobPrefix = (jobId: string): string => `${JOBS_PREFIX}${jobId}/`;

/** The keys whose names the layout fixes (the segmenter's names come from FFmpeg, under the prefix). */
export const jobKeys = (jobId: string) => ({
  /** The normalised photo the generator animates (LTX step). */
  image: `${jobPrefix(jobId)}image.jpg`,
  /** The animated base clip (LTX step). */
  baseVideo: `${jobPrefix(jobId)}base.mp4`,
  /** The branded final video (render step, written by Remotion). */
  finalVideo: `${jobPrefix(jobId)}final.mp4`,
});

/**
 * The folder of one render version's outputs (docs/decisions/0009): version 1 (the job's first
 * render) writes straight into the job's folder, as it always did; version N ≥ 2 into
 * `jobs/{jobId}/v{N}/`.
 */
export const versionPrefix = (jobId: string, version = 1): string => (version <= 1 ? jobPrefix(jobId) : `${jobPrefix(jobId)}v${version}/`);

/** The final video of one render version. */
export const finalVideoKeyOf = (jobId: string, version = 1): string => `${versionPrefix(jobId, version)}final.mp4`;

/**
 * A key that names one object and nothing else: not empty, at most 1024 bytes, no NUL or
 * backslash, no leading slash, no empty, "." or ".." segment (S3 keeps those literally, but a
 * file store, a URL resolver or a CDN's path normaliser would land somewhere else).
 */
export function isSafeKey(key: string): boolean {
  if (key.length === 0 || Buffer.byteLength(key, "utf8") > 1024) return false;
  if (key.includes("\0") || key.includes("\\") || key.startsWith("/")) return false;
  return key.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

/** Whether `key` is a safe key inside `jobs/{jobId}/` (not the folder itself). */
export const isJobKey = (key: string, jobId: string): boolean => isSafeKey(key) && key.startsWith(jobPrefix(jobId));
