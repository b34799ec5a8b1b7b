import { z } from "zod";

/**
 * S3's "Object Created" event as EventBridge delivers it (source aws.s3, default bus), for an
 * object written by a browser's presigned POST (`reason: "POST Object"`). Every object is loose:
 * AWS adds keys over time (e.g. `detail.event-version`), and a contract that rejected them would
 * drop real uploads. See REFERENCE.md §5 and docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html.
 */
export const S3_SOURCE = "aws.s3" as const;
export const OBJECT_CREATED = "Object Created" as const;

export const s3ObjectCreatedDetailSchema = z.looseObject({
  version: z.string(),
  bucket: z.looseObject({ name: z.string().min(1) }),
  object: z.looseObject({
    key: z.string().min(1),
    size: z.number().int().nonnegative(),
    etag: z.string().optional(),
    "version-id": z.string().optional(),
    sequencer: z.string().optional(),
  }),
  "request-id": z.string().optional(),
  requester: z.string().optional(),
  "source-ip-address": z.string().optional(),
  /** "PutObject" | "POST Object" | "CopyObject" | "CompleteMultipartUpload" (kept open). */
  reason: z.string().optional(),
});

export const s3ObjectCreatedEventSchema = z.looseObject({
  version: z.string(),
  id: z.string().min(1),
  "detail-type": z.literal(OBJECT_CREATED),
  source: z.literal(S3_SOURCE),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: s3ObjectCreatedDetailSchema,
});
export type S3ObjectCreatedEvent = z.infer<typeof s3ObjectCreatedEventSchema>;

/**
 * S3 gives keys URL-encoded in event notifications (spaces as "+"). Keys we issue are
 * `uploads/{ULID}/source`, so this matters only for keys written by someone else.
 */
export const decodeS3Key = (key: string): string => decodeURIComponent(key.replace(/\+/g, " "));
