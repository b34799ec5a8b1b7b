import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { PermanentError } from "../../../src/errors";
import { MetadataTooLargeError, S3_METADATA_LIMIT_BYTES, decodeJobMetadata, encodeJobMetadata, metadataSizeBytes } from "../../../src/upload/metadata";
import { JOB_ID, goodParams } from "./fixtures";

describe("job metadata codec", () => {
  it("round-trips any Unicode through ASCII-only metadata", () => {
    const params = goodParams();
    const meta = encodeJobMetadata(params);
    expect(Object.keys(meta).sort()).toEqual(["job", "job-version"]);
    expect(meta["job-version"]).toBe("1");
    for (const v of Object.values(meta)) expect(v).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeJobMetadata(meta)).toEqual(params);
  });

  it("reads metadata as S3 returns it (any case, with or without the x-amz-meta- prefix)", () => {
    const meta = encodeJobMetadata(goodParams());
    expect(decodeJobMetadata({ "X-Amz-Meta-Job": meta.job!, "x-amz-meta-job-version": "1" }).title).toBe(goodParams().title);
  });

  it("fits typical parameters well inside S3's 2 KB", () => {
    const meta = encodeJobMetadata({ ...goodParams(), cameraPrompt: "slow dolly in toward the lantern, golden hour ".repeat(10).slice(0, 500) });
    expect(metadataSizeBytes(meta)).toBeLessThan(S3_METADATA_LIMIT_BYTES);
  });

  it("refuses parameters whose encoding exceeds S3's limit, naming the longest fields", () => {
    // Pseudo-random CJK (3 bytes each in UTF-8) barely compresses: what a long prompt in Chinese costs.
    let seed = 42;
    const cjk = (n: number) =>
      Array.from({ length: n }, () => String.fromCodePoint(0x4e00 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 20_000))).join("");
    const err = (() => {
      try {
        encodeJobMetadata({ ...goodParams(), title: cjk(120), cameraPrompt: cjk(500), subtitle: cjk(200) });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MetadataTooLargeError);
    const e = err as MetadataTooLargeError;
    expect(e.sizeBytes).toBeGreaterThan(S3_METADATA_LIMIT_BYTES);
    expect(e.longestFields.map((f) => f.field).slice(0, 2)).toEqual(["cameraPrompt", "subtitle"]);
    expect(e.message).toContain("cameraPrompt");
  });

  it.each([
    ["missing", {}],
    ["of another version", { job: encodeJobMetadata(goodParams()).job!, "job-version": "2" }],
    ["not base64url", { job: "***", "job-version": "1" }],
    ["not deflate", { job: Buffer.from("hello").toString("base64url"), "job-version": "1" }],
    ["not JSON", { job: deflateRawSync("{nope").toString("base64url"), "job-version": "1" }],
    ["off-contract", { job: deflateRawSync(JSON.stringify({ ...goodParams(), aspect: "4:3" })).toString("base64url"), "job-version": "1" }],
  ])("throws a permanent InvalidUpload when the metadata is %s", (_what, meta) => {
    expect(() => decodeJobMetadata(meta as Record<string, string>)).toThrow(PermanentError);
    try {
      decodeJobMetadata(meta as Record<string, string>);
    } catch (e) {
      expect((e as PermanentError).code).toBe("InvalidUpload");
      expect((e as PermanentError).retryable).toBe(false);
    }
  });

  it("refuses another job's parameters when the expected jobId is given", () => {
    const meta = encodeJobMetadata(goodParams());
    expect(decodeJobMetadata(meta, { jobId: JOB_ID }).jobId).toBe(JOB_ID);
    expect(() => decodeJobMetadata(meta, { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0ZZ" })).toThrow(/belongs to job/);
  });
});
