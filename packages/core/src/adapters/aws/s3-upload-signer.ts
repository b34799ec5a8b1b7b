import type { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import type { PresignedPost, PresignedPostRequest, UploadSigner } from "../../upload/ports";
import { MAX_UPLOAD_EXPIRY_SECONDS } from "../../upload/keys";

type Condition = ["eq", string, string] | ["content-length-range", number, number];

/**
 * Presigned POST for S3 (SigV4, signed locally by the SDK: no request is made). The policy pins
 * everything the browser sends: the exact key, 1..maxBytes, the exact Content-Type and every
 * x-amz-meta-* value, so editing any field in the browser breaks it. The local runtime uses this
 * same adapter with an S3Client pointed at its endpoint (forcePathStyle), so the fields it hands
 * out are byte-for-byte S3's format.
 */
export function createS3UploadSigner(client: S3Client, opts: { bucket: string }): UploadSigner {
  return {
    async createPresignedPost(req: PresignedPostRequest): Promise<PresignedPost> {
      if (!Number.isInteger(req.expiresInSeconds) || req.expiresInSeconds < 1 || req.expiresInSeconds > MAX_UPLOAD_EXPIRY_SECONDS) {
        throw new RangeError(`expiresInSeconds must be an integer in 1..${MAX_UPLOAD_EXPIRY_SECONDS}, got ${req.expiresInSeconds}`);
      }
      if (!Number.isInteger(req.maxBytes) || req.maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${req.maxBytes}`);
      const metaFields: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.metadata)) metaFields[`x-amz-meta-${k.toLowerCase()}`] = v;
      const fields = { "Content-Type": req.contentType, ...metaFields };
      const conditions: Condition[] = [
        ["content-length-range", 1, req.maxBytes],
        ["eq", "$key", req.key],
        ...Object.entries(fields).map(([k, v]): Condition => ["eq", `$${k}`, v]),
      ];
      const post = await createPresignedPost(client, {
        Bucket: opts.bucket,
        Key: req.key,
        Conditions: conditions,
        Fields: fields,
        Expires: req.expiresInSeconds,
      });
      const policy = JSON.parse(Buffer.from(post.fields.Policy ?? "", "base64").toString("utf8")) as { expiration: string };
      return { url: post.url, fields: post.fields, expiresAt: policy.expiration };
    },
  };
}
