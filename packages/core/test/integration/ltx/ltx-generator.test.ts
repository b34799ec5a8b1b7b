import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo, Server } from "node:net";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLtxVideoGenerator } from "../../../src/adapters/ltx/generator";
import type { LtxVideoGeneratorOptions } from "../../../src/adapters/ltx/generator";
import { PermanentError, TransientError } from "../../../src/errors";
import type { GenerationRequest, VideoGenerator } from "../../../src/ports";
import { startFakeLtxServer } from "../../support/ltx-server";
import type { FakeLtxServer } from "../../support/ltx-server";

const API_KEY = "ltx_test_key_0123456789";
const CLIP = new Uint8Array(readFileSync(new URL("../../unit/ltx/fixtures/base-1080x1920-24fps-2s.mp4", import.meta.url)));

let imageServer: Server;
let imageUrl: string;
let ltx: FakeLtxServer;

beforeAll(async () => {
  const jpeg = await sharp({ create: { width: 1080, height: 1920, channels: 3, background: { r: 200, g: 120, b: 40 } } }).jpeg().toBuffer();
  imageServer = createServer((req, res) => {
    if (req.url?.startsWith("/jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AB/image.jpg")) {
      res.writeHead(200, { "content-type": "image/jpeg", "content-length": String(jpeg.length) });
      res.end(jpeg);
    } else {
      res.writeHead(403).end("AccessDenied");
    }
  });
  await new Promise<void>((r) => imageServer.listen(0, "127.0.0.1", r));
  // A domain name, as a virtual-hosted S3 URL would be: the fake refuses IP addresses like LTX does.
  imageUrl = `http://localhost:${(imageServer.address() as AddressInfo).port}/jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AB/image.jpg?X-Amz-Signature=abc`;
});
afterAll(async () => {
  await new Promise((r) => imageServer.close(r));
});

beforeEach(async () => {
  ltx = await startFakeLtxServer({ apiKey: API_KEY, allowHttp: true, pendingMs: 20, processingMs: 40, videoFactory: async () => CLIP });
});
afterEach(async () => {
  await ltx.close();
});

const request = (over: Partial<GenerationRequest> = {}): GenerationRequest => ({
  jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AB",
  image: { bytes: new Uint8Array([0xff, 0xd8, 0xff]), url: imageUrl },
  prompt: "slow dolly in towards the rooftops",
  cameraMotion: "dolly_in",
  durationSeconds: 6,
  width: 1080,
  height: 1920,
  fps: 24,
  ...over,
});

/** Sleeps 1 ms whatever is asked, and records what was asked. */
function fastSleep() {
  const asked: number[] = [];
  const sleep = async (ms: number) => {
    asked.push(ms);
    await new Promise((r) => setTimeout(r, 1));
  };
  return { asked, sleep };
}

function generator(over: Partial<LtxVideoGeneratorOptions> = {}) {
  const s = fastSleep();
  const gen = createLtxVideoGenerator({
    apiKey: API_KEY,
    baseUrl: ltx.url,
    model: "ltx-2-fast",
    sleep: s.sleep,
    random: () => 0.5,
    backoffBaseMs: 100,
    backoffMaxMs: 400,
    requestTimeoutMs: 2_000,
    ...over,
  });
  return { gen, asked: s.asked };
}

/**
 * What the queue does between the LTX step's deliveries: look, and if still running, look
 * again a little later (real milliseconds here: the fake's job runs for pendingMs + processingMs).
 */
async function untilDone(gen: VideoGenerator, id: string, maxLooks = 200): Promise<{ video: Uint8Array; looks: number; pending: number }> {
  for (let looks = 1; looks <= maxLooks; looks++) {
    const r = await gen.check(id);
    if (r.status === "completed") return { video: r.video, looks, pending: looks - 1 };
    if (r.status === "gone") throw new Error(`gone: ${r.why}`);
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`${id} still running after ${maxLooks} looks`);
}

/** Submits and looks until done: the whole generation, as the step's deliveries make it. */
async function generate(gen: VideoGenerator, req: GenerationRequest = request()) {
  const { generationId, model } = await gen.submit(req);
  const done = await untilDone(gen, generationId);
  return { generationId, model, ...done };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the generation to fail");
}

describe("LTX-2 adapter over HTTP (fake LTX v2 server)", () => {
  it("submits the documented request and returns the id at once, without looking at the job", async () => {
    const { gen } = generator();
    const { generationId, model } = await gen.submit(request());
    expect(model).toBe("ltx-2-fast");
    expect(ltx.counts()).toMatchObject({ submits: 1, accepted: 1, statusPolls: 0, downloads: 0 });
    expect(ltx.jobs.get(generationId)!.request).toEqual({
      image_uri: imageUrl,
      prompt: "slow dolly in towards the rooftops",
      model: "ltx-2-fast",
      duration: 6,
      resolution: "1080x1920",
      fps: 24,
      generate_audio: false,
      camera_motion: "dolly_in",
    });
  });

  it("a look is one status GET: pending while LTX works, then completed with the clip downloaded", async () => {
    await ltx.close();
    ltx = await startFakeLtxServer({ apiKey: API_KEY, allowHttp: true, pendingMs: 150, processingMs: 150, videoFactory: async () => CLIP });
    const { gen } = generator();
    const { generationId } = await gen.submit(request());
    expect(await gen.check(generationId)).toEqual({ status: "pending", providerStatus: "pending" });
    expect(ltx.counts()).toMatchObject({ statusPolls: 1, downloads: 0 });
    const done = await untilDone(gen, generationId);
    expect(done.pending).toBeGreaterThan(0);
    expect(ltx.counts().statusPolls).toBe(1 + done.looks);
    expect(ltx.counts()).toMatchObject({ accepted: 1, downloads: 1 });
    expect(Buffer.from(done.video).equals(Buffer.from(CLIP))).toBe(true);
    // The key goes to the API only, never to the host serving the result.
    expect(ltx.requests.filter((r) => r.route === "video").every((r) => !r.hadAuthorization)).toBe(true);
    expect(ltx.requests.filter((r) => r.route !== "video").every((r) => r.hadAuthorization)).toBe(true);
  });

  it("waits a short Retry-After on 429 in the invocation and then succeeds, paying for one generation", async () => {
    ltx.inject("submit", { kind: "status", status: 429, errorType: "concurrency_limit_error", retryAfterSeconds: 2 }, 2);
    ltx.inject("status", { kind: "status", status: 429, errorType: "rate_limit_error", retryAfterSeconds: 1 });
    const { gen, asked } = generator();
    const out = await generate(gen);
    expect(out.video.byteLength).toBe(CLIP.byteLength);
    expect(asked.filter((ms) => ms >= 1000)).toEqual([2000, 2000, 1000]);
    expect(ltx.counts()).toMatchObject({ submits: 3, accepted: 1 });
  });

  it("hands a long or persistent 429 back to the queue as a TransientError with retryAfterSeconds, so no invocation sits it out", async () => {
    ltx.inject("submit", { kind: "status", status: 429, errorType: "concurrency_limit_error", retryAfterSeconds: 20 });
    const { gen, asked } = generator();
    const err = await rejection(gen.submit(request()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ retryAfterSeconds: 20 });
    expect(err.message).toMatch(/concurrency_limit_error/);
    expect(asked).toEqual([]);

    const { generationId } = await gen.submit(request());
    ltx.inject("status", { kind: "status", status: 429, retryAfterSeconds: 1 }, 10);
    const again = await rejection(generator({ maxThrottleRetries: 2 }).gen.check(generationId));
    expect(again).toBeInstanceOf(TransientError);
    expect(again).toMatchObject({ retryAfterSeconds: 1 });
    expect(ltx.counts().accepted).toBe(1);
  });

  it("retries 5xx and dropped connections with jittered exponential backoff, then succeeds", async () => {
    ltx.inject("submit", { kind: "status", status: 503 });
    ltx.inject("status", { kind: "reset" });
    ltx.inject("status", { kind: "status", status: 500 }, 2);
    const { gen, asked } = generator({ random: () => 0.999 });
    const out = await generate(gen);
    expect(out.video.byteLength).toBe(CLIP.byteLength);
    // Full jitter: random × min(cap, base × 2^(n-1)); the failure streak is counted per request.
    expect(asked).toEqual([99, 99, 199, 399]);
    expect(ltx.counts().accepted).toBe(1);
  });

  it("gives up on persistent 5xx with a TransientError (the step counts it against its budget)", async () => {
    const { gen } = generator({ maxAttempts: 3 });
    const { generationId } = await gen.submit(request());
    ltx.inject("status", { kind: "status", status: 502 }, 100);
    const err = await rejection(gen.check(generationId));
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/failed after 3 attempts: HTTP 502/);
  });

  it("retries a response slower than the request timeout", async () => {
    const { gen } = generator({ requestTimeoutMs: 200 });
    const { generationId } = await gen.submit(request());
    ltx.inject("status", { kind: "delay", ms: 1_000 });
    const out = await untilDone(gen, generationId);
    expect(out.video.byteLength).toBe(CLIP.byteLength);
    expect(ltx.counts().statusPolls).toBeGreaterThanOrEqual(2);
  });

  it("reports a bad API key as a permanent Internal error an operator can act on, without the key", async () => {
    const err = await rejection(generator({ apiKey: "ltx_wrong_key_secret" }).gen.submit(request()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: "Internal" });
    expect(err.message).toMatch(/invalid LTX API key/);
    expect(err.message).not.toMatch(/ltx_wrong_key_secret/);
  });

  it("maps 402 to InsufficientCredits and 400 to GenerationRejected", async () => {
    ltx.setCredits(0);
    const broke = await rejection(generator().gen.submit(request()));
    expect(broke).toMatchObject({ code: "InsufficientCredits", retryable: false });
    ltx.setCredits(1000);

    // LTX refuses image URLs on IP addresses: a path-style/IP URL is a permanent rejection.
    const ip = await rejection(generator().gen.submit(request({ image: { bytes: new Uint8Array(1), url: imageUrl.replace("localhost", "127.0.0.1") } })));
    expect(ip).toMatchObject({ code: "GenerationRejected", retryable: false });
    expect(ip.message).toMatch(/IP address/);

    ltx.inject("submit", { kind: "status", status: 422, errorType: "invalid_request_error", message: "prompt violates policy" });
    const rejected = await rejection(generator().gen.submit(request()));
    expect(rejected).toMatchObject({ code: "GenerationRejected" });
    expect(rejected.message).toMatch(/prompt violates policy/);
    expect(ltx.counts().accepted).toBe(0);
  });

  it("ends with GenerationFailed when LTX fails the job", async () => {
    ltx.failJob("Generation failed: NSFW content detected");
    const err = await rejection(generate(generator().gen));
    expect(err).toMatchObject({ code: "GenerationFailed", retryable: false });
    expect(err.message).toMatch(/NSFW content detected/);
  });

  it("reports gone when LTX no longer knows the job or its result URL expired (the step decides about a replacement)", async () => {
    const { gen } = generator();
    const done = await generate(gen);
    // A later look at a finished job downloads it again (a crash between download and storing).
    expect((await gen.check(done.generationId)).status).toBe("completed");
    expect(ltx.counts()).toMatchObject({ accepted: 1, downloads: 2 });

    ltx.inject("video", { kind: "status", status: 404, errorType: "not_found_error" });
    expect(await gen.check(done.generationId)).toMatchObject({ status: "gone", why: expect.stringMatching(/video_url answered 404/) });
    ltx.expire(done.generationId);
    expect(await gen.check(done.generationId)).toMatchObject({ status: "gone", why: expect.stringMatching(/status is 404/) });
    expect(ltx.counts().accepted).toBe(1);
  });

  it("brings the request inside the model's limits", async () => {
    const { generationId } = await generator({ model: "ltx-2-pro" }).gen.submit(request({ durationSeconds: 3, width: 1920, height: 1080, cameraMotion: "jib_up" }));
    expect(ltx.jobs.get(generationId)!.request).toMatchObject({ model: "ltx-2-pro", duration: 6, resolution: "1920x1080", camera_motion: "jib_up" });
  });
});

describe("fake LTX server contract", () => {
  const post = (body: unknown, key = API_KEY) =>
    fetch(`${ltx.url}/v2/image-to-video`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const valid = () => ({ image_uri: imageUrl, prompt: "dolly in", model: "ltx-2-fast", duration: 6, resolution: "1080x1920" });

  it("validates auth, fields and enums with LTX's error envelope", async () => {
    const unauth = await post(valid(), "nope");
    expect(unauth.status).toBe(401);
    expect(await unauth.json()).toEqual({ type: "error", error: { type: "authentication_error", message: "Invalid API key" } });
    for (const bad of [
      { ...valid(), resolution: "1000x1000" },
      { ...valid(), model: "ltx-9" },
      { ...valid(), camera_motion: "barrel_roll" },
      { ...valid(), fps: 30 },
      { ...valid(), duration: 12 }, // fast > 10 s only at 25 fps
      { ...valid(), model: "ltx-2-pro", duration: 12, fps: 25 },
      { ...valid(), image_uri: "ftp://example.com/a.jpg" },
      { prompt: "x", model: "ltx-2-fast", duration: 6, resolution: "1080x1920" },
    ]) {
      const r = await post(bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect((await r.json()).error.type).toBe("invalid_request_error");
    }
    expect(ltx.counts().accepted).toBe(0);
  });

  it("fetches the image with a timeout and refuses what is not an image", async () => {
    await ltx.close();
    ltx = await startFakeLtxServer({ apiKey: API_KEY, allowHttp: true, imageFetchTimeoutMs: 300, videoFactory: async () => CLIP });
    const hang = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
    try {
      const slow = await post({ ...valid(), image_uri: `http://localhost:${(hang.address() as AddressInfo).port}/x.jpg` });
      expect(slow.status).toBe(400);
      expect((await slow.json()).error.message).toMatch(/timed out/);
    } finally {
      hang.closeAllConnections?.();
      await new Promise((r) => hang.close(r));
    }
    const denied = await post({ ...valid(), image_uri: imageUrl.replace("image.jpg", "other.jpg") });
    expect(denied.status).toBe(400);
    const ok = await post(valid());
    expect(ok.status).toBe(202);
    const { id, created_at } = (await ok.json()) as { id: string; created_at: string };
    expect(typeof id).toBe("string");
    expect(Number.isNaN(Date.parse(created_at))).toBe(false);
    const st = await fetch(`${ltx.url}/v2/image-to-video/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(["pending", "processing"]).toContain(((await st.json()) as { status: string }).status);
  });
});
