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

/** Image types the pipeline accepts (the browser sends file.type; the policy pins it). */
export const uploadContentTypes = ["image/jpeg", "image/png", "image/webp"] as const;
export type UploadContentType = (typeof uploadContentTypes)[number];

/** S3 and LTX-2's URL-input limit agree on nothing but this default (15 MB). */
export const DEFAULT_MAX_UPLOAD_BYTES = 15 * 1024 * 1024;
/** Presigned POST policies live at most 10 minutes. */
export const MAX_UPLOAD_EXPIRY_SECONDS = 600;
