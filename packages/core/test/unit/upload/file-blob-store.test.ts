import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFileBlobStore } from "../../../src/adapters/local/file-blob-store";
import { BlobNotFoundError } from "../../../src/ports";

let root: string;
let now = new Date("2026-11-20T10:00:00Z");
const clock = { now: () => now };
const store = () => createFileBlobStore({ root, bucket: "local-media", publicBaseUrl: "http://127.0.0.1:4566/", signingKey: "k", clock });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "file-blob-store-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("file blob store", () => {
  it("stores bytes with type, metadata (lower-cased keys) and an MD5 ETag, readable like S3", async () => {
    const s = store();
    await s.put("jobs/A/base.mp4", new TextEncoder().encode("hello"), { contentType: "video/mp4", metadata: { Job: "x" } });
    expect(await s.head("jobs/A/base.mp4")).toEqual({ sizeBytes: 5, contentType: "video/mp4", metadata: { job: "x" } });
    expect((await s.stat("jobs/A/base.mp4"))?.etag).toBe("5d41402abc4b2a76b9719d911017c592");
    expect(new TextDecoder().decode((await s.get("jobs/A/base.mp4")).bytes)).toBe("hello");
    expect(await readFile(join(root, "local-media", "jobs", "A", "base.mp4"), "utf8")).toBe("hello");
    expect(await s.list("jobs/")).toEqual(["jobs/A/base.mp4"]);
  });

  it("putFile / getToFile / adoptFile move whole files and leave no temp files behind", async () => {
    const s = store();
    const src = join(root, "src.txt");
    await writeFile(src, "frames");
    await s.putFile("jobs/B/final.mp4", src, { contentType: "video/mp4" });
    const out = join(root, "out", "final.mp4");
    expect(await s.getToFile("jobs/B/final.mp4", out)).toMatchObject({ sizeBytes: 6 });
    expect(await readFile(out, "utf8")).toBe("frames");
    const tmp = await s.tempPath();
    await writeFile(tmp, "upload");
    const adopted = await s.adoptFile("uploads/C/source", tmp, { contentType: "image/jpeg", metadata: { "job-version": "1" } });
    expect(adopted).toMatchObject({ sizeBytes: 6, contentType: "image/jpeg", metadata: { "job-version": "1" } });
    expect(await readdir(join(root, ".tmp"))).toEqual([]);
  });

  it("reports absent objects like S3", async () => {
    const s = store();
    expect(await s.head("nope")).toBeUndefined();
    await expect(s.get("nope")).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(s.getToFile("nope", join(root, "x"))).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it.each(["../escape", "/abs", "a//b", "a/./b", "a\\b"])("refuses the key %j", async (key) => {
    await expect(store().put(key, new Uint8Array([1]), { contentType: "text/plain" })).rejects.toMatchObject({ code: "InvalidKey" });
  });

  it("presigns GET URLs that verify until they expire and fail when tampered", async () => {
    const s = store();
    const url = new URL(await s.presignGet("jobs/A/base.mp4", { expiresInSeconds: 60, downloadFileName: "clip é.mp4" }));
    expect(`${url.origin}${url.pathname}`).toBe("http://127.0.0.1:4566/local-media/jobs/A/base.mp4");
    expect(s.checkPresignedGet("jobs/A/base.mp4", url.searchParams)).toBe("ok");
    expect(s.checkPresignedGet("jobs/A/other.mp4", url.searchParams)).toBe("invalid");
    const tampered = new URLSearchParams(url.searchParams);
    tampered.set("response-content-disposition", "inline");
    expect(s.checkPresignedGet("jobs/A/base.mp4", tampered)).toBe("invalid");
    const later = new URLSearchParams(url.searchParams);
    later.set("X-Expires", String(Number(later.get("X-Expires")) + 3600));
    expect(s.checkPresignedGet("jobs/A/base.mp4", later)).toBe("invalid");
    now = new Date(now.getTime() + 61_000);
    expect(s.checkPresignedGet("jobs/A/base.mp4", url.searchParams)).toBe("expired");
  });

  it("cannot presign without a public base URL", async () => {
    const s = createFileBlobStore({ root, bucket: "b", signingKey: "k" });
    await expect(s.presignGet("k", { expiresInSeconds: 60 })).rejects.toThrow(/publicBaseUrl/);
  });
});
