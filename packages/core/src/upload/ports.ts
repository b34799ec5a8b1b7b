/**
 * The upload half's port: something that turns an upload request into a browser-ready presigned
 * POST. The AWS adapter signs for S3 (adapters/aws/s3-upload-signer.ts); the local runtime uses
 * the same adapter pointed at its S3-compatible endpoint, so the fields are S3's format.
 */
export interface PresignedPostRequest {
  /** The exact object key the browser may write (no prefix wildcard). */
  key: string;
  /** Pinned with an exact condition: the browser must send this Content-Type. */
  contentType: string;
  /** Upper bound of the content-length-range condition (the lower bound is 1 byte). */
  maxBytes: number;
  /** Policy lifetime; signers refuse more than 600 s. */
  expiresInSeconds: number;
  /** User metadata, keys without the `x-amz-meta-` prefix; each pinned with an exact condition. */
  metadata: Record<string, string>;
}

export interface PresignedPost {
  /** Where the browser POSTs the multipart form. */
  url: string;
  /** Form fields to send, in this order, before the file (which must be last). */
  fields: Record<string, string>;
  /** When the policy expires (ISO 8601, from the signed policy itself). */
  expiresAt: string;
}

export interface UploadSigner {
  createPresignedPost(req: PresignedPostRequest): Promise<PresignedPost>;
}
