import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createS3BlobStore } from "../../../src/adapters/aws/s3-blob-store";
import { BlobNotFoundError } from "../../../src/ports";

/**
 * aws-sdk-client-mock's typings resolve pnpm's hoisted @smithy/types 3.x while SDK 3.1162 uses
 * 4.x, so its generics reject the SDK's classes at compile time (the runtime is fine). A narrow
 * view of the stub keeps the test type-checked without `any`.
 */
interface S3Stub {
  on(command: unknown, input?: Record<string, unknown>): { resolves(output: Record<string, unknown>): unknown; rejects(error: Error): unknown };
  commandCalls(command: unknown): Array<{ args: [{ input: Record<string, unknown> }] }>;
  reset(): void;
}
const s3 = mockClient(S3Client as never) as unknown as S3Stub;
const client = new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "secret" } });
const store = createS3BlobStore(client, { bucket: "media" });

/** A GetObject body as the SDK returns it: a stream with transformToByteArray. */
const body = (bytes: Uint8Array) => Object.assign(Readable.from([Buffer.from(bytes)]), { transformToByteArray: async () => bytes });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "s3-blob-store-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  s3.reset();
});

describe("S3 blob store", () => {
  it("head returns size, type and user metadata, and undefined for a missing object", async () => {
    s3.on(HeadObjectCommand, { Bucket: "media", Key: "uploads/a/source" }).resolves({ ContentLength: 42, ContentType: "image/jpeg", Metadata: { job: "x", "job-version": "1" } });
    s3.on(HeadObjectCommand, { Key: "missing" }).rejects(new NotFound({ message: "Not Found", $metadata: { httpStatusCode: 404 } }));
    expect(await store.head("uploads/a/source")).toEqual({ sizeBytes: 42, contentType: "image/jpeg", metadata: { job: "x", "job-version": "1" } });
    expect(await store.head("missing")).toBeUndefined();
  });

  it("does not hide other failures (they are retried upstream)", async () => {
    s3.on(HeadObjectCommand).rejects(new S3ServiceException({ name: "SlowDown", $fault: "server", $metadata: { httpStatusCode: 503 } }));
    await expect(store.head("k")).rejects.toMatchObject({ name: "SlowDown" });
  });

  it("get returns the bytes, and BlobNotFoundError for NoSuchKey", async () => {
    s3.on(GetObjectCommand, { Key: "k" }).resolves({ Body: body(new Uint8Array([1, 2, 3])), ContentLength: 3, ContentType: "video/mp4" });
    s3.on(GetObjectCommand, { Key: "gone" }).rejects(new NoSuchKey({ message: "no", $metadata: { httpStatusCode: 404 } }));
    expect(await store.get("k")).toMatchObject({ sizeBytes: 3, contentType: "video/mp4", bytes: new Uint8Array([1, 2, 3]) });
    await expect(store.get("gone")).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it("put and putFile send the bytes with type, cache control and metadata", async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.put("jobs/j/base.mp4", new Uint8Array([9]), { contentType: "video/mp4", cacheControl: "max-age=60", metadata: { a: "b" } });
    const file = join(dir, "f.bin");
    await writeFile(file, "hello");
    await store.putFile("jobs/j/final.mp4", file, { contentType: "video/mp4" });
    const calls = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ Bucket: "media", Key: "jobs/j/base.mp4", ContentType: "video/mp4", CacheControl: "max-age=60", Metadata: { a: "b" } });
    expect(calls[1]).toMatchObject({ Bucket: "media", Key: "jobs/j/final.mp4", ContentLength: 5, ContentType: "video/mp4" });
  });

  it("getToFile streams the object to disk", async () => {
    s3.on(GetObjectCommand).resolves({ Body: body(new TextEncoder().encode("frames")), ContentType: "video/mp4", Metadata: {} });
    const out = join(dir, "nested", "out.mp4");
    expect(await store.getToFile("jobs/j/base.mp4", out)).toEqual({ sizeBytes: 6, contentType: "video/mp4", metadata: {} });
    expect(await readFile(out, "utf8")).toBe("frames");
  });

  it("presignGet signs a GET that expires, with a UTF-8 download name", async () => {
    const url = new URL(await store.presignGet("jobs/j/final.mp4", { expiresInSeconds: 900, downloadFileName: "東京.mp4" }));
    expect(url.hostname).toBe("media.s3.eu-west-1.amazonaws.com");
    expect(url.pathname).toBe("/jobs/j/final.mp4");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("response-content-disposition")).toBe(`attachment; filename="__.mp4"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.mp4`);
  });
});
