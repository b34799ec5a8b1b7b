import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { s3ObjectCreatedEventSchema } from "@reelbridge/events";
import type { S3ObjectCreatedEvent } from "@reelbridge/events";
import { createUpload, newJobId } from "@reelbridge/core/usecases/create-upload";
import { decodeJobMetadata, encodeJobMetadata } from "@reelbridge/core/upload/metadata";
import { MUSIC_IDS } from "@reelbridge/remotion/music";
import { parseErrorXml, startLocalS3 } from "../../../src/s3";
import type { LocalS3 } from "../../../src/s3";

const photo = readFileSync(new URL("../../../../../assets/sample/photo.jpg", import.meta.url));
const MAX_BYTES = 256 * 1024;
const ORIGIN = "http://localhost:5173";

let root: string;
let s3: LocalS3;
const events: S3ObjectCreatedEvent[] = [];
/** The endpoint's clock: real time plus an offset a test can move forward. */
let skewMs = 0;

const request = {
  title: "東京の夜 — ليلة سعيدة 🌃",
  subtitle: "Ça marche, שלום, 🎬",
  cameraPrompt: "slow dolly in toward the neon sign",
  music: MUSIC_IDS[0],
  aspect: "9:16",
  durationSeconds: 6,
  contentType: "image/jpeg",
};

const issue = (over: Record<string, unknown> = {}) =>
  createUpload(
    { signer: s3.signer, clock: { now: () => new Date() }, newJobId, musicIds: MUSIC_IDS, maxBytes: MAX_BYTES, expiresInSeconds: 600, quote: { ltx: { provider: "offline", model: "ltx-2-fast" }, renderer: "remotion-local" } },
    { ...request, ...over },
    { owner: "user-42" },
  );

/** Posts exactly what a browser would: the fields in order, then the file last. */
async function post(url: string, fields: Record<string, string>, file: Uint8Array, type = "image/jpeg") {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([new Uint8Array(file)], { type }), "photo.jpg");
  const res = await fetch(url, { method: "POST", body: form, headers: { origin: ORIGIN } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, error: parseErrorXml(text) };
}

const stored = async () => s3.blobStore.list("uploads/");
const tempFiles = async () => readdir(join(root, ".tmp")).catch(() => []);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "local-s3-"));
  s3 = await startLocalS3({
    root,
    bucket: "reelbridge-local-media",
    credentials: { accessKeyId: "LOCALKEY", secretAccessKey: "local-secret-key" },
    onObjectCreated: (e) => {
      events.push(e);
    },
    corsOrigins: [ORIGIN],
    clock: { now: () => new Date(Date.now() + skewMs) },
  });
});
afterAll(async () => {
  await s3.close();
  await rm(root, { recursive: true, force: true });
});
beforeEach(() => {
  skewMs = 0;
});

describe("local S3 upload endpoint (presigned POST)", () => {
  it("stores a good JPEG, answers like S3 and emits the Object Created event with decodable job params", async () => {
    const { jobId, upload } = await issue();
    expect(upload.url).toBe(`${s3.url}/reelbridge-local-media`);
    const res = await post(upload.url, upload.fields, photo);
    expect(res.status).toBe(204);
    const md5 = (await s3.blobStore.stat(upload.key))!.etag;
    expect(res.headers.get("etag")).toBe(`"${md5}"`);
    expect(res.headers.get("location")).toBe(`${s3.url}/reelbridge-local-media/uploads/${jobId}/source`);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);

    const head = await s3.blobStore.head(upload.key);
    expect(head).toMatchObject({ sizeBytes: photo.byteLength, contentType: "image/jpeg" });
    const params = decodeJobMetadata(head!.metadata, { jobId });
    expect(params).toMatchObject({ jobId, owner: "user-42", title: request.title, subtitle: request.subtitle, music: MUSIC_IDS[0] });

    expect(events).toHaveLength(1);
    const event = s3ObjectCreatedEventSchema.parse(events[0]);
    expect(event).toMatchObject({
      version: "0",
      "detail-type": "Object Created",
      source: "aws.s3",
      region: "us-east-1",
      resources: ["arn:aws:s3:::reelbridge-local-media"],
      detail: { version: "0", bucket: { name: "reelbridge-local-media" }, object: { key: upload.key, size: photo.byteLength, etag: md5 }, reason: "POST Object" },
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.detail.object.sequencer).toMatch(/^[0-9A-F]+$/);
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  describe("rejects bad uploads with S3's status and error code, storing nothing", () => {
    let before: string[];
    beforeEach(async () => {
      before = await stored();
      events.length = 0;
    });

    const expectNothingStored = async () => {
      expect(await stored()).toEqual(before);
      expect(events).toEqual([]);
      expect(await tempFiles()).toEqual([]);
    };

    it("a file above the size limit → 400 EntityTooLarge", async () => {
      const { upload } = await issue();
      const res = await post(upload.url, upload.fields, new Uint8Array(MAX_BYTES + 1));
      expect(res.status).toBe(400);
      expect(res.error).toMatchObject({ code: "EntityTooLarge", ProposedSize: String(MAX_BYTES + 1), MaxSizeAllowed: String(MAX_BYTES) });
      await expectNothingStored();
    });

    it("a 0-byte file → 400 EntityTooSmall", async () => {
      const { upload } = await issue();
      const res = await post(upload.url, upload.fields, new Uint8Array(0));
      expect(res.status).toBe(400);
      expect(res.error).toMatchObject({ code: "EntityTooSmall", ProposedSize: "0", MinSizeAllowed: "1" });
      await expectNothingStored();
    });

    it("a wrong content type → 403 AccessDenied naming the Content-Type condition", async () => {
      const { upload } = await issue();
      const res = await post(upload.url, { ...upload.fields, "Content-Type": "image/gif" }, photo, "image/gif");
      expect(res.status).toBe(403);
      expect(res.error.code).toBe("AccessDenied");
      expect(res.error.message).toBe('Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/jpeg"]');
      await expectNothingStored();
    });

    it("an expired policy → 403 AccessDenied 'Policy expired.'", async () => {
      const { upload } = await issue();
      skewMs = 11 * 60_000;
      const res = await post(upload.url, upload.fields, photo);
      expect(res.status).toBe(403);
      expect(res.error).toMatchObject({ code: "AccessDenied", message: "Invalid according to Policy: Policy expired." });
      await expectNothingStored();
    });

    it("a tampered signature → 403 SignatureDoesNotMatch", async () => {
      const { upload } = await issue();
      const sig = upload.fields["X-Amz-Signature"]!;
      const tampered = (sig[0] === "a" ? "b" : "a") + sig.slice(1);
      const res = await post(upload.url, { ...upload.fields, "X-Amz-Signature": tampered }, photo);
      expect(res.status).toBe(403);
      expect(res.error).toMatchObject({ code: "SignatureDoesNotMatch", SignatureProvided: tampered });
      await expectNothingStored();
    });

    it("a policy edited after signing → 403 SignatureDoesNotMatch", async () => {
      const { upload } = await issue();
      const policy = JSON.parse(Buffer.from(upload.fields.Policy!, "base64").toString("utf8")) as { conditions: unknown[] };
      policy.conditions = policy.conditions.map((c) => (Array.isArray(c) && c[0] === "content-length-range" ? ["content-length-range", 1, 10 * MAX_BYTES] : c));
      const res = await post(upload.url, { ...upload.fields, Policy: Buffer.from(JSON.stringify(policy)).toString("base64") }, photo);
      expect(res.status).toBe(403);
      expect(res.error.code).toBe("SignatureDoesNotMatch");
      await expectNothingStored();
    });

    it("a key outside the job's prefix → 403 AccessDenied naming the key condition", async () => {
      const { upload } = await issue();
      const other = await issue();
      const res = await post(upload.url, { ...upload.fields, key: other.upload.key }, photo);
      expect(res.status).toBe(403);
      expect(res.error.code).toBe("AccessDenied");
      expect(res.error.message).toContain(`"$key", "${upload.key}"`);
      await expectNothingStored();
    });

    it("metadata edited after signing → 403 AccessDenied", async () => {
      const { upload, params } = await issue();
      const edited = encodeJobMetadata({ ...params, title: "not what was signed" });
      const res = await post(upload.url, { ...upload.fields, "x-amz-meta-job": edited.job! }, photo);
      expect(res.status).toBe(403);
      expect(res.error.code).toBe("AccessDenied");
      expect(res.error.message).toContain('"$x-amz-meta-job"');
      await expectNothingStored();
    });

    it("an extra metadata field the policy does not mention → 403 AccessDenied", async () => {
      const { upload } = await issue();
      const res = await post(upload.url, { ...upload.fields, "x-amz-meta-owner": "someone-else" }, photo);
      expect(res.status).toBe(403);
      expect(res.error).toMatchObject({ code: "AccessDenied", message: "Invalid according to Policy: Extra input fields: x-amz-meta-owner" });
      await expectNothingStored();
    });

    it("a missing metadata field → 403 AccessDenied", async () => {
      const { upload } = await issue();
      const { "x-amz-meta-job": _drop, ...fields } = upload.fields;
      const res = await post(upload.url, fields, photo);
      expect(res.status).toBe(403);
      expect(res.error.code).toBe("AccessDenied");
      await expectNothingStored();
    });

    it("a form without a file → 400 InvalidArgument", async () => {
      const { upload } = await issue();
      const form = new FormData();
      for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
      const res = await fetch(upload.url, { method: "POST", body: form });
      expect(res.status).toBe(400);
      expect(parseErrorXml(await res.text()).code).toBe("InvalidArgument");
      await expectNothingStored();
    });
  });

  it("still accepts the next good upload after all those rejections", async () => {
    events.length = 0;
    const { upload, jobId } = await issue({ title: "Encore 🎉", contentType: "image/webp" });
    const res = await post(upload.url, upload.fields, photo, "image/webp");
    expect(res.status).toBe(204);
    expect(decodeJobMetadata((await s3.blobStore.head(upload.key))!.metadata).title).toBe("Encore 🎉");
    expect((await s3.blobStore.head(upload.key))!.contentType).toBe("image/webp");
    expect(events.map((e) => e.detail.object.key)).toEqual([`uploads/${jobId}/source`]);
  });

  it("answers the browser's CORS preflight for allowed origins only", async () => {
    const ok = await fetch(`${s3.url}/reelbridge-local-media`, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "POST" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
    const no = await fetch(`${s3.url}/reelbridge-local-media`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(no.status).toBe(403);
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("local S3 presigned GET", () => {
  it("serves whole objects, byte ranges and HEAD; refuses expired or tampered links", async () => {
    await s3.blobStore.put("jobs/X/final.mp4", new TextEncoder().encode("0123456789"), { contentType: "video/mp4" });
    const url = await s3.blobStore.presignGet("jobs/X/final.mp4", { expiresInSeconds: 60, downloadFileName: "vidéo.mp4" });

    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(await whole.text()).toBe("0123456789");
    expect(whole.headers.get("content-type")).toBe("video/mp4");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(whole.headers.get("content-disposition")).toContain("filename*=UTF-8''vid%C3%A9o.mp4");

    const part = await fetch(url, { headers: { range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(await part.text()).toBe("2345");
    const tail = await fetch(url, { headers: { range: "bytes=-3" } });
    expect(await tail.text()).toBe("789");
    const open = await fetch(url, { headers: { range: "bytes=7-" } });
    expect(await open.text()).toBe("789");
    const beyond = await fetch(url, { headers: { range: "bytes=10-" } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */10");
    await beyond.text();

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("10");

    const u = new URL(url);
    u.pathname = u.pathname.replace("final.mp4", "other.mp4");
    const tampered = await fetch(u);
    expect(tampered.status).toBe(403);
    expect(parseErrorXml(await tampered.text()).code).toBe("SignatureDoesNotMatch");

    const unsigned = await fetch(url.split("?")[0]!);
    expect(unsigned.status).toBe(403);
    expect(parseErrorXml(await unsigned.text()).code).toBe("AccessDenied");

    skewMs = 61_000;
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(parseErrorXml(await expired.text())).toMatchObject({ code: "AccessDenied", message: "Request has expired" });
  });
});
