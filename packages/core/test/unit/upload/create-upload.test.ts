import { describe, expect, it } from "vitest";
import { createUpload } from "../../../src/usecases/create-upload";
import type { CreateUploadDeps } from "../../../src/usecases/create-upload";
import { UploadValidationError } from "../../../src/upload/errors";
import { decodeJobMetadata } from "../../../src/upload/metadata";
import type { PresignedPostRequest, UploadSigner } from "../../../src/upload/ports";
import { JOB_ID, MUSIC_IDS, goodRequest } from "./fixtures";

/** Records what it was asked to sign; returns S3-looking fields. */
function fakeSigner() {
  const calls: PresignedPostRequest[] = [];
  const signer: UploadSigner = {
    async createPresignedPost(req) {
      calls.push(req);
      return { url: "https://bucket.s3.amazonaws.com/", fields: { key: req.key, "Content-Type": req.contentType }, expiresAt: "2026-11-20T10:10:00Z" };
    },
  };
  return { signer, calls };
}

const deps = (over: Partial<CreateUploadDeps> = {}) => {
  const f = fakeSigner();
  return {
    calls: f.calls,
    deps: {
      signer: f.signer,
      clock: { now: () => new Date("2026-11-20T10:00:00.000Z") },
      newJobId: () => JOB_ID,
      musicIds: MUSIC_IDS,
      maxBytes: 15 * 1024 * 1024,
      expiresInSeconds: 600,
      quote: { ltx: { provider: "ltx", model: "ltx-2-fast" } },
      ...over,
    } satisfies CreateUploadDeps,
  };
};

async function rejection(input: unknown, over: Partial<CreateUploadDeps> = {}): Promise<UploadValidationError> {
  const { deps: d, calls } = deps(over);
  const err = await createUpload(d, input, { owner: "user-123" }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UploadValidationError);
  expect(calls).toHaveLength(0);
  return err as UploadValidationError;
}

describe("createUpload", () => {
  it("issues a job id and a presigned POST for exactly uploads/{jobId}/source, with the parameters as metadata", async () => {
    const { deps: d, calls } = deps();
    const res = await createUpload(d, goodRequest(), { owner: "user-123" });
    expect(res.jobId).toBe(JOB_ID);
    expect(res.statusUrl).toBe(`/jobs/${JOB_ID}`);
    expect(res.upload).toMatchObject({ key: `uploads/${JOB_ID}/source`, maxBytes: 15 * 1024 * 1024, expiresAt: "2026-11-20T10:10:00Z" });
    expect(calls).toEqual([expect.objectContaining({ key: `uploads/${JOB_ID}/source`, contentType: "image/jpeg", maxBytes: 15 * 1024 * 1024, expiresInSeconds: 600 })]);
    const params = decodeJobMetadata(calls[0]!.metadata);
    expect(params).toEqual(res.params);
    expect(params).toMatchObject({ jobId: JOB_ID, owner: "user-123", createdAt: "2026-11-20T10:00:00.000Z", title: "Café 東京 — مرحبا 🎉", music: "sunrise" });
    expect(params).not.toHaveProperty("contentType");
  });

  it("trims text and accepts a request without the optional callback", async () => {
    const { deps: d } = deps();
    const { callbackUrl: _cb, ...req } = goodRequest();
    const res = await createUpload(d, { ...req, title: "  שלום עולם  " }, { owner: "anonymous" });
    expect(res.params.title).toBe("שלום עולם");
    expect(res.params.callbackUrl).toBeUndefined();
  });

  it("never signs for longer than 10 minutes", async () => {
    const { deps: d, calls } = deps({ expiresInSeconds: 3600 });
    await createUpload(d, goodRequest(), { owner: "u" });
    expect(calls[0]!.expiresInSeconds).toBe(600);
  });

  it.each([
    ["music", { music: "not-in-catalog" }, /music catalog/],
    ["aspect", { aspect: "4:3" }, /9:16/],
    ["contentType", { contentType: "image/gif" }, /image\/jpeg/],
    ["title", { title: "   " }, /empty/],
    ["title", { title: "x".repeat(101) }, /100/],
    ["durationSeconds", { durationSeconds: 2.5 }, /int/i],
    ["durationSeconds", { durationSeconds: 60 }, /20/],
    ["callbackUrl", { callbackUrl: "ftp://example.com" }, /./],
    ["subtitle", { subtitle: "bell\u0007" }, /control/],
  ])("rejects a bad %s with a 400-able error naming the field", async (field, patch, message) => {
    const err = await rejection({ ...goodRequest(), ...patch });
    expect(err.code).toBe("InvalidRequest");
    expect(err.details).toContainEqual({ field, message: expect.stringMatching(message) });
  });

  it("names every missing field at once", async () => {
    const err = await rejection({});
    expect(err.details.map((d) => d.field).sort()).toEqual(["aspect", "cameraPrompt", "contentType", "durationSeconds", "music", "subtitle", "title"]);
  });

  it("rejects a body that is not an object", async () => {
    expect((await rejection("hello")).details[0]!.field).toBe("(body)");
  });

  it("rejects parameters too large for S3's 2 KB metadata, naming the longest fields", async () => {
    let seed = 7;
    const cjk = (n: number) => Array.from({ length: n }, () => String.fromCodePoint(0x4e00 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 20_000))).join("");
    const err = await rejection({ ...goodRequest(), title: cjk(100), subtitle: cjk(160), cameraPrompt: cjk(500) });
    expect(err.details.map((d) => d.field)).toEqual(["cameraPrompt", "subtitle"]);
    expect(err.message).toMatch(/2048/);
  });
});
