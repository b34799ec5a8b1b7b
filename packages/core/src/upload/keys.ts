import { decodeS3Key } from "@reelbridge/events";

/**
 * Where browsers upload. Must equal `prefixes.uploads` in packages/functions/src/topology.ts
 * (core cannot import functions; a test in functions checks they agree).
 */
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

/**
 * Image types the pipeline accepts and the default photo limit (15 MB, LTX-2's URL-input
 * limit): defined once in the published HTTP contract, which the web client imports too.
 */
export { DEFAULT_MAX_UPLOAD_BYTES, uploadContentTypes } from "@reelbridge/events/http";
export type { UploadContentType } from "@reelbridge/events/http";
/** Presigned POST policies live at most 10 minutes. */
export const MAX_UPLOAD_EXPIRY_SECONDS = 600;
