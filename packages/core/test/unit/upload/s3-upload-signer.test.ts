import { createHmac } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createS3UploadSigner } from "../../../src/adapters/aws/s3-upload-signer";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const request = { key: "uploads/01JD7X8Q2RZ4V6N3K5M9P1T0AB/source", contentType: "image/png", maxBytes: 1234, expiresInSeconds: 600, metadata: { job: "abc_-123", "job-version": "1" } };

const decodePolicy = (b64: string) => JSON.parse(Buffer.from(b64, "base64").toString("utf8")) as { expiration: string; conditions: unknown[] };
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

describe("S3 upload signer (presigned POST)", () => {
  const client = new S3Client({ region: "eu-west-1", credentials });
  const signer = createS3UploadSigner(client, { bucket: "media-bucket" });

  it("pins key, size range, content type and every metadata value in the signed policy", async () => {
    const before = Date.now();
    const post = await signer.createPresignedPost(request);
    expect(post.url).toBe("https://media-bucket.s3.eu-west-1.amazonaws.com/");
    expect(post.fields).toMatchObject({
      key: request.key,
      "Content-Type": "image/png",
      "x-amz-meta-job": "abc_-123",
      "x-amz-meta-job-version": "1",
      bucket: "media-bucket",
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    });
    const policy = decodePolicy(post.fields.Policy!);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ["content-length-range", 1, 1234],
        ["eq", "$key", request.key],
        ["eq", "$Content-Type", "image/png"],
        ["eq", "$x-amz-meta-job", "abc_-123"],
        ["eq", "$x-amz-meta-job-version", "1"],
        { bucket: "media-bucket" },
      ]),
    );
    // No starts-with: nothing the browser sends is left open.
    expect(policy.conditions.filter((c) => Array.isArray(c) && c[0] === "starts-with")).toEqual([]);
    expect(post.expiresAt).toBe(policy.expiration);
    const ttl = Date.parse(policy.expiration) - before;
    expect(ttl).toBeGreaterThan(598_000);
    expect(ttl).toBeLessThanOrEqual(601_000);
  });

  it("signs the policy with the SigV4 key derived from the credential scope", async () => {
    const post = await signer.createPresignedPost(request);
    const [akid, date, region, service, term] = post.fields["X-Amz-Credential"]!.split("/");
    expect([akid, region, service, term]).toEqual(["AKIDEXAMPLE", "eu-west-1", "s3", "aws4_request"]);
    expect(post.fields["X-Amz-Date"]!.slice(0, 8)).toBe(date);
    const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date!), region!), "s3"), "aws4_request");
    expect(post.fields["X-Amz-Signature"]).toBe(hmac(key, post.fields.Policy!).toString("hex"));
  });

  it("uses a path-style URL for an S3-compatible local endpoint", async () => {
    const local = createS3UploadSigner(new S3Client({ region: "us-east-1", endpoint: "http://127.0.0.1:9999", forcePathStyle: true, credentials }), { bucket: "local-media" });
    const post = await local.createPresignedPost(request);
    expect(post.url).toBe("http://127.0.0.1:9999/local-media");
  });

  it.each([0, 601, 3600])("refuses an expiry of %i seconds", async (expiresInSeconds) => {
    await expect(signer.createPresignedPost({ ...request, expiresInSeconds })).rejects.toThrow(RangeError);
  });
});
