import { readFileSync } from "node:fs";
import sharp from "sharp";
import { describe, expect, it, vi } from "vitest";
import { pipelineEvents } from "@reelbridge/events";
import type { JobParams, S3ObjectCreatedEvent } from "@reelbridge/events";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import s3Sample from "@reelbridge/events/samples/v1/S3ObjectCreated.json";
import { readMp4Info } from "../../../src/adapters/ltx/mp4-info";
import { PermanentError, TransientError } from "../../../src/errors";
import { createJsonLogger } from "../../../src/logger";
import type { GenerationHooks, GenerationRequest, OutgoingEvent, VideoGenerator } from "../../../src/ports";
import { createMemoryPublisher } from "../../../src/publish";
import { encodeJobMetadata } from "../../../src/upload/metadata";
import { GENERATION_STATE, failUpload, generationClaimName, ingestUpload } from "../../../src/usecases/ingest-upload";
import type { IngestUploadDeps } from "../../../src/usecases/ingest-upload";
import { createMemoryBlobStore } from "../../support/memory-blob-store";
import { craftedPng } from "../../support/png";
import { createMemoryStepStateStore } from "../../support/memory-step-state";

const CLIP = new Uint8Array(readFileSync(new URL("../ltx/fixtures/base-1080x1920-24fps-2s.mp4", import.meta.url)));
const JOB_A = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const JOB_B = "01JD7X8Q2RZ4V6N3K5M9P1T0AC";
const JOB_C = "01JD7X8Q2RZ4V6N3K5M9P1T0AD";

const silent = createJsonLogger({}, () => {});
const ctx = { logger: silent };

const params = (jobId: string, over: Partial<JobParams> = {}): JobParams => ({ ...structuredClone(readySample.detail.data.job), jobId, ...over }) as JobParams;

function objectCreated(jobId: string, over: { key?: string; id?: string; size?: number } = {}): S3ObjectCreatedEvent {
  const e = structuredClone(s3Sample) as S3ObjectCreatedEvent;
  e.id = over.id ?? `s3-event-${jobId}`;
  e.detail.bucket.name = "memory-media";
  e.detail.object.key = over.key ?? `uploads/${jobId}/source`;
  e.detail.object.size = over.size ?? 1000;
  return e;
}

interface FakeGenerator extends VideoGenerator {
  submitted: string[];
  calls: Array<{ req: GenerationRequest; existingGenerationId?: string }>;
  /** The next generate() throws this after submitting (a Lambda timing out while polling). */
  failAfterSubmit?: Error;
  /** generate() waits for these before submitting / after submitting (a slow provider). */
  beforeSubmit?: Promise<void>;
  afterSubmit?: Promise<void>;
  video: Uint8Array;
}

function fakeGenerator(): FakeGenerator {
  let n = 0;
  const g: FakeGenerator = {
    name: "fake-ltx",
    submitted: [],
    calls: [],
    video: CLIP,
    async generate(req: GenerationRequest, hooks: GenerationHooks) {
      g.calls.push({ req, ...(hooks.existingGenerationId ? { existingGenerationId: hooks.existingGenerationId } : {}) });
      let id = hooks.existingGenerationId;
      if (!id) {
        await g.beforeSubmit;
        id = `gen-${++n}`;
        g.submitted.push(id);
        await hooks.onSubmitted(id);
        await g.afterSubmit;
      }
      if (g.failAfterSubmit) {
        const e = g.failAfterSubmit;
        delete g.failAfterSubmit;
        throw e;
      }
      return { generationId: id, video: g.video, contentType: "video/mp4", ...(req.model ? { model: req.model } : {}) };
    },
  };
  return g;
}

function setup() {
  const blobs = createMemoryBlobStore({ bucket: "memory-media" });
  const state = createMemoryStepStateStore();
  const publisher = createMemoryPublisher();
  const generator = fakeGenerator();
  let t = Date.parse("2026-11-20T10:00:00.000Z");
  const deps: IngestUploadDeps = {
    blobs,
    state,
    publisher,
    generator,
    clock: { now: () => new Date((t += 1500)) },
    probeVideo: readMp4Info,
    maxInputPixels: 50_000_000,
    fps: 24,
    model: "ltx-2-fast",
    presignExpiresSeconds: 900,
  };
  const upload = (jobId: string, bytes: Uint8Array, p: JobParams = params(jobId)) =>
    blobs.seed(`uploads/${jobId}/source`, bytes, { contentType: "image/jpeg", metadata: encodeJobMetadata(p) });
  return { deps, blobs, state, publisher, generator, upload };
}

function noisy(width: number, height: number) {
  const raw = Buffer.alloc(width * height * 3);
  let seed = 7;
  for (let i = 0; i < raw.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = seed >> 23;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } });
}
/** A PNG that claims 30000×30000 pixels (900 M) in a few kilobytes: IHDR plus the first rows. */
const bombPng = () => new Uint8Array(craftedPng(30_000, 30_000, { bitDepth: 1, colorType: 0, fill: 0, rows: 64 }));
const goodJpeg = async () => new Uint8Array(await noisy(800, 600).jpeg().toBuffer());



async function badInputs(): Promise<Array<[string, Uint8Array, string]>> {
  const jpeg = await goodJpeg();
  const gif = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#08f" } }).gif().toBuffer();
  const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1080" height="1920"><rect width="100%" height="100%" fill="red"/></svg>');
  return [
    ["a text file named .jpg", new TextEncoder().encode("Dear diary, today I uploaded a text file as photo.jpg.\n".repeat(20)), "InvalidImage"],
    ["a truncated JPEG", jpeg.subarray(0, Math.floor(jpeg.byteLength / 2)), "InvalidImage"],
    ["a 0-byte file", new Uint8Array(0), "EmptyFile"],
    ["an SVG", new Uint8Array(svg), "UnsupportedFormat"],
    ["a GIF", new Uint8Array(gif), "UnsupportedFormat"],
    ["a 30000×30000 PNG of a few KB", bombPng(), "ImageTooLarge"],
  ];
}

const only = (published: OutgoingEvent[]) => {
  expect(published).toHaveLength(1);
  return published[0]!;
};
const types = (published: OutgoingEvent[]) => published.map((e) => e.type);
/** The one event of `type` among those published. */
const one = (published: OutgoingEvent[], type: OutgoingEvent["type"]) => only(published.filter((e) => e.type === type));

describe("ingestUpload", () => {
  it("turns a good upload into jobs/{jobId}/image.jpg + base.mp4 and publishes VideoBaseReady after storing them", async () => {
    const { deps, blobs, state, publisher, generator, upload } = setup();
    const bytes = await goodJpeg();
    upload(JOB_A, bytes);
    const storedAtPublish: Record<string, string[]> = {};
    const recordedAtPublish: Record<string, unknown> = {};
    const publish = publisher.publish.bind(publisher);
    publisher.publish = async (events) => {
      for (const e of events) {
        storedAtPublish[e.type] = blobs.keys("jobs/");
        recordedAtPublish[e.type] = await state.get(JOB_A, GENERATION_STATE);
      }
      await publish(events);
    };

    const out = await ingestUpload(deps, objectCreated(JOB_A), ctx);

    expect(out.status).toBe("ready");
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseReady"]);
    // VideoBaseStarted once the generation is recorded, before the clip exists.
    expect(storedAtPublish.VideoBaseStarted).toEqual([`jobs/${JOB_A}/image.jpg`]);
    expect(recordedAtPublish.VideoBaseStarted).toMatchObject({ generationId: "gen-1", status: "submitted" });
    const started = publisher.published[0]!;
    expect(started).toMatchObject({ type: "VideoBaseStarted", eventId: `${JOB_A}.VideoBaseStarted`, jobId: JOB_A, causationId: `s3-event-${JOB_A}` });
    expect(started.data).toEqual({
      job: params(JOB_A),
      source: { bucket: "memory-media", key: `uploads/${JOB_A}/source`, sizeBytes: bytes.byteLength },
      image: { bucket: "memory-media", key: `jobs/${JOB_A}/image.jpg`, width: 1080, height: 1920 },
      generator: { name: "fake-ltx", generationId: "gen-1", model: "ltx-2-fast", cameraMotion: "dolly_in" },
    });
    pipelineEvents.VideoBaseStarted.data.parse(started.data);

    expect(storedAtPublish.VideoBaseReady).toEqual([`jobs/${JOB_A}/base.mp4`, `jobs/${JOB_A}/image.jpg`]);
    const event = one(publisher.published, "VideoBaseReady");
    expect(event).toMatchObject({ type: "VideoBaseReady", eventId: `${JOB_A}.VideoBaseReady`, jobId: JOB_A, causationId: `s3-event-${JOB_A}` });
    expect(event.data).toEqual({
      job: params(JOB_A),
      source: { bucket: "memory-media", key: `uploads/${JOB_A}/source`, sizeBytes: bytes.byteLength },
      image: { bucket: "memory-media", key: `jobs/${JOB_A}/image.jpg`, width: 1080, height: 1920 },
      baseVideo: { bucket: "memory-media", key: `jobs/${JOB_A}/base.mp4`, sizeBytes: CLIP.byteLength, durationSeconds: 2, width: 1080, height: 1920, fps: 24 },
      generator: { name: "fake-ltx", generationId: "gen-1", model: "ltx-2-fast", cameraMotion: "dolly_in", seconds: 1.5 },
    });
    pipelineEvents.VideoBaseReady.data.parse(event.data);

    // What the generator was asked for: the normalised image by presigned URL, the job's motion.
    const req = generator.calls[0]!.req;
    expect(req).toMatchObject({ jobId: JOB_A, prompt: "slow dolly in towards the rooftops", cameraMotion: "dolly_in", durationSeconds: 6, width: 1080, height: 1920, fps: 24, model: "ltx-2-fast" });
    expect(req.image.url).toMatch(new RegExp(`^https://memory-media\\..*/jobs/${JOB_A}/image\\.jpg\\?X-Amz-Expires=900`));
    expect(Buffer.from(req.image.bytes).equals(Buffer.from(blobs.objects.get(`jobs/${JOB_A}/image.jpg`)!.bytes))).toBe(true);

    const image = blobs.objects.get(`jobs/${JOB_A}/image.jpg`)!;
    expect(image.contentType).toBe("image/jpeg");
    expect(await sharp(image.bytes).metadata()).toMatchObject({ format: "jpeg", width: 1080, height: 1920 });
    expect(blobs.objects.get(`jobs/${JOB_A}/base.mp4`)!.contentType).toBe("video/mp4");
    expect(await state.get(JOB_A, GENERATION_STATE)).toMatchObject({ generationId: "gen-1", generator: "fake-ltx", status: "completed" });
  });

  it("ends each bad upload with VideoBaseFailed and its reason code, writes nothing, and the next good upload still succeeds", async () => {
    const { deps, blobs, state, publisher, generator, upload } = setup();
    for (const [what, bytes, code] of await badInputs()) {
      publisher.published.length = 0;
      // Each bad upload stands for its own job: a job that failed is terminal (issue #11 item 2).
      state.records.clear();
      upload(JOB_A, bytes);
      const failed = await ingestUpload(deps, objectCreated(JOB_A), ctx);
      expect(failed, what).toMatchObject({ status: "failed", reason: { code } });
      const event = only(publisher.published);
      expect(event, what).toMatchObject({ type: "VideoBaseFailed", eventId: `${JOB_A}.VideoBaseFailed`, jobId: JOB_A, causationId: `s3-event-${JOB_A}` });
      expect(event.data, what).toMatchObject({ job: params(JOB_A), source: { bucket: "memory-media", key: `uploads/${JOB_A}/source` }, reason: { code, retryable: false } });
      expect(blobs.keys("jobs/"), what).toEqual([]);
      expect(generator.calls, what).toEqual([]);
    }

    publisher.published.length = 0;
    upload(JOB_B, await goodJpeg());
    expect((await ingestUpload(deps, objectCreated(JOB_B), ctx)).status).toBe("ready");
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseReady"]);
    expect(one(publisher.published, "VideoBaseReady")).toMatchObject({ jobId: JOB_B });
  });

  it("refuses the decompression bomb from its header, without decoding it", async () => {
    const { deps, upload } = setup();
    const bomb = bombPng();
    expect(bomb.byteLength).toBeLessThan(8 * 1024);
    upload(JOB_A, bomb);
    const started = performance.now();
    const out = await ingestUpload(deps, objectCreated(JOB_A), ctx);
    expect(out).toMatchObject({ status: "failed", reason: { code: "ImageTooLarge" } });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("stores a photo with EXIF orientation 6 upright", async () => {
    const { deps, blobs, upload } = setup();
    // Stored landscape 400×200: left half red, right half blue. Orientation 6 = rotate 90° clockwise
    // to display, so upright it is portrait with red on top and blue at the bottom.
    const raw = Buffer.alloc(400 * 200 * 3);
    for (let y = 0; y < 200; y++)
      for (let x = 0; x < 400; x++) raw.set(x < 200 ? [230, 20, 20] : [20, 20, 230], (y * 400 + x) * 3);
    const photo = await sharp(raw, { raw: { width: 400, height: 200, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(photo).metadata()).orientation).toBe(6);
    upload(JOB_A, new Uint8Array(photo));

    expect((await ingestUpload(deps, objectCreated(JOB_A), ctx)).status).toBe("ready");

    const stored = blobs.objects.get(`jobs/${JOB_A}/image.jpg`)!.bytes;
    const meta = await sharp(stored).metadata();
    expect(meta).toMatchObject({ width: 1080, height: 1920 });
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    const { data, info } = await sharp(stored).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const [rt, , bt] = px(540, 100);
    const [rb, , bb] = px(540, 1820);
    expect(rt! > 180 && bt! < 80).toBe(true); // red on top
    expect(bb! > 180 && rb! < 80).toBe(true); // blue at the bottom
  });

  it("resumes the recorded generation when the event is redelivered after a timeout: one generation paid", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.failAfterSubmit = new TransientError("Lambda timed out while polling");

    await expect(ingestUpload(deps, objectCreated(JOB_A), ctx)).rejects.toBeInstanceOf(TransientError);
    expect(types(publisher.published)).toEqual(["VideoBaseStarted"]);
    expect(await state.get(JOB_A, GENERATION_STATE)).toMatchObject({ generationId: "gen-1", status: "submitted" });

    // The retry comes a minute later: the reported wall time runs from the original submit.
    const { submittedAt } = (await state.get(JOB_A, GENERATION_STATE)) as { submittedAt: string };
    deps.clock = { now: () => new Date(Date.parse(submittedAt) + 60_000) };
    const out = await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, lastAttempt: false });
    expect(out).toMatchObject({ status: "ready", resumed: true });
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(generator.calls[1]!.existingGenerationId).toBe("gen-1");
    // The resumed delivery announces the same generation again under the same eventId (consumers dedup it).
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseStarted", "VideoBaseReady"]);
    expect(publisher.published[1]).toEqual(publisher.published[0]);
    expect(one(publisher.published, "VideoBaseReady")).toMatchObject({ data: { generator: { generationId: "gen-1", seconds: 60 } } });
  });

  it("pays for one generation when a duplicate event arrives while the first is submitting: the duplicate is retried later and then replays", async () => {
    const { deps, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    const gate = Promise.withResolvers<void>();
    generator.beforeSubmit = gate.promise;

    // EventBridge delivered the same "Object Created" twice; both are processed at once.
    const runs = [ingestUpload(deps, objectCreated(JOB_A), ctx), ingestUpload(deps, objectCreated(JOB_A), ctx)];
    const first = await Promise.race(runs.map((p, i) => p.then(() => i, () => i)));
    const loser = runs[first]!;
    const winner = runs[1 - first]!;
    const err = await loser.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ retryAfterSeconds: 30 });
    expect(generator.calls).toHaveLength(1);

    gate.resolve();
    expect(await winner).toMatchObject({ status: "ready", replayed: false });
    expect(generator.submitted).toEqual(["gen-1"]);

    // The queue redelivers the loser later: it re-publishes the same VideoBaseReady, generating nothing.
    const redelivered = await ingestUpload(deps, objectCreated(JOB_A), ctx);
    expect(redelivered).toMatchObject({ status: "ready", replayed: true });
    expect(generator.calls).toHaveLength(1);
    expect(generator.submitted).toEqual(["gen-1"]);
    const readies = publisher.published.filter((e) => e.type === "VideoBaseReady");
    expect(readies).toHaveLength(2);
    expect(readies[1]!.eventId).toBe(`${JOB_A}.VideoBaseReady`);
    expect(readies[1]).toEqual(readies[0]);
  });

  it("a duplicate that arrives once the generation is submitted resumes it instead of paying again", async () => {
    const { deps, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    const gate = Promise.withResolvers<void>();
    generator.afterSubmit = gate.promise;

    const winner = ingestUpload(deps, objectCreated(JOB_A), ctx);
    await vi.waitFor(() => expect(generator.submitted).toEqual(["gen-1"]));
    const dup = await ingestUpload(deps, objectCreated(JOB_A, { id: "s3-event-duplicate" }), ctx);
    expect(dup).toMatchObject({ status: "ready", resumed: true, data: { generator: { generationId: "gen-1" } } });
    gate.resolve();
    expect(await winner).toMatchObject({ status: "ready", data: { generator: { generationId: "gen-1" } } });

    expect(generator.submitted).toEqual(["gen-1"]);
    expect(generator.calls.map((c) => c.existingGenerationId)).toEqual([undefined, "gen-1"]);
    expect(new Set(publisher.published.map((e) => e.eventId))).toEqual(new Set([`${JOB_A}.VideoBaseStarted`, `${JOB_A}.VideoBaseReady`]));
  });

  it("waits for a live claim (retried, or standing down on the last attempt) and takes over one whose holder died", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    // Another delivery claimed the submission a minute ago (the clock starts at 10:00) and is still within its 15-min lease.
    await state.putIfAbsent(JOB_A, generationClaimName(1), { owner: "other", eventId: "s3-event-other", claimedAt: "2026-11-20T09:59:00.000Z", leaseUntil: "2026-11-20T10:14:00.000Z" });

    await expect(ingestUpload(deps, objectCreated(JOB_A), ctx)).rejects.toMatchObject({ name: "TransientError", retryAfterSeconds: 30 });
    // On the queue's last receive, failing the job (RetriesExhausted) would end a job being made.
    expect(await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, lastAttempt: true })).toMatchObject({ status: "deferred" });
    expect(generator.calls).toEqual([]);
    expect(publisher.published).toEqual([]);

    // 16 minutes later the holder has recorded nothing: it died before submitting.
    deps.clock = { now: () => new Date("2026-11-20T10:16:00.000Z") };
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "ready", data: { generator: { generationId: "gen-1" } } });
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(await state.get(JOB_A, generationClaimName(2))).toMatchObject({ eventId: `s3-event-${JOB_A}`, leaseUntil: "2026-11-20T10:31:00.000Z" });
  });

  it("a holder whose lease ran out but who recorded a generation is resumed, not taken over", async () => {
    const { deps, state, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    await state.putIfAbsent(JOB_A, generationClaimName(1), { owner: "other", claimedAt: "2026-11-20T09:00:00.000Z", leaseUntil: "2026-11-20T09:15:00.000Z" });
    await state.putIfAbsent(JOB_A, GENERATION_STATE, { generationId: "gen-other", generator: "fake-ltx", submittedAt: "2026-11-20T09:00:05.000Z", status: "submitted" });
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "ready", resumed: true, data: { generator: { generationId: "gen-other" } } });
    expect(generator.submitted).toEqual([]);
    expect(await state.get(JOB_A, generationClaimName(2))).toBeUndefined();
  });

  it("releases the claim when the generator fails before submitting, so the retry does not wait out the lease", async () => {
    const { deps, state, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    const fake = deps.generator;
    deps.generator = {
      name: "fake-ltx",
      generate: async () => {
        throw new TransientError("LTX 429", { retryAfterSeconds: 5 });
      },
    };
    await expect(ingestUpload(deps, objectCreated(JOB_A), ctx)).rejects.toMatchObject({ retryAfterSeconds: 5 });
    expect(await state.get(JOB_A, generationClaimName(1))).toMatchObject({ releasedAt: expect.any(String) });

    deps.generator = fake;
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "ready" });
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(await state.get(JOB_A, generationClaimName(2))).toMatchObject({ eventId: `s3-event-${JOB_A}` });
  });

  it("re-publishes the same VideoBaseReady for a duplicate event after completion, without generating again", async () => {
    const { deps, blobs, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    await ingestUpload(deps, objectCreated(JOB_A), ctx);
    const putsBefore = blobs.calls.filter((c) => c.op === "put").length;

    const dup = await ingestUpload(deps, objectCreated(JOB_A, { id: "s3-event-duplicate" }), ctx);

    expect(dup).toMatchObject({ status: "ready", replayed: true });
    expect(generator.calls).toHaveLength(1);
    expect(blobs.calls.filter((c) => c.op === "put").length).toBe(putsBefore);
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseReady", "VideoBaseReady"]);
    const [, first, second] = publisher.published;
    expect(second!.eventId).toBe(first!.eventId);
    expect(second!.data).toEqual(first!.data);
  });

  it("regenerates (resuming the same generation) when the record says completed but base.mp4 is gone", async () => {
    const { deps, blobs, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    await ingestUpload(deps, objectCreated(JOB_A), ctx);
    blobs.objects.delete(`jobs/${JOB_A}/base.mp4`);
    expect((await ingestUpload(deps, objectCreated(JOB_A), ctx)).status).toBe("ready");
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(blobs.keys("jobs/")).toContain(`jobs/${JOB_A}/base.mp4`);
  });

  it("records a replacement when the recorded generation was gone at the provider", async () => {
    const { deps, state, upload } = setup();
    upload(JOB_A, await goodJpeg());
    await state.putIfAbsent(JOB_A, GENERATION_STATE, { generationId: "expired-1", generator: "fake-ltx", submittedAt: "2026-11-18T10:00:00.000Z", status: "submitted" });
    deps.generator = {
      name: "fake-ltx",
      async generate(_req, hooks) {
        expect(hooks.existingGenerationId).toBe("expired-1");
        await hooks.onSubmitted("fresh-2");
        return { generationId: "fresh-2", video: CLIP, contentType: "video/mp4" };
      },
    };
    const out = await ingestUpload(deps, objectCreated(JOB_A), ctx);
    expect(out).toMatchObject({ status: "ready", data: { generator: { generationId: "fresh-2" } } });
    expect(await state.get(JOB_A, GENERATION_STATE)).toMatchObject({ generationId: "fresh-2", replaces: "expired-1", status: "completed" });
  });

  it("ends the job on a permanent generation error with the job's parameters, and rethrows transient ones", async () => {
    const { deps, blobs, publisher, upload } = setup();
    upload(JOB_A, await goodJpeg());
    deps.generator = {
      name: "fake-ltx",
      generate: async () => {
        throw new PermanentError("InsufficientCredits", "LTX has no credits left");
      },
    };
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "failed", reason: { code: "InsufficientCredits" } });
    expect(only(publisher.published)).toMatchObject({ type: "VideoBaseFailed", data: { job: { jobId: JOB_A }, reason: { code: "InsufficientCredits", message: "LTX has no credits left" } } });
    expect(blobs.keys("jobs/")).toEqual([`jobs/${JOB_A}/image.jpg`]);

    publisher.published.length = 0;
    upload(JOB_B, await goodJpeg());
    deps.generator = {
      name: "fake-ltx",
      generate: async () => {
        throw new TransientError("LTX 503", { retryAfterSeconds: 5 });
      },
    };
    await expect(ingestUpload(deps, objectCreated(JOB_B), ctx)).rejects.toMatchObject({ retryAfterSeconds: 5 });
    expect(publisher.published).toEqual([]);
  });

  it("fails with GenerationFailed when the generated clip is not a readable MP4, and stores nothing as base.mp4", async () => {
    const { deps, blobs, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.video = new TextEncoder().encode("<Error><Code>AccessDenied</Code></Error>");
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "failed", reason: { code: "GenerationFailed" } });
    expect(blobs.keys("jobs/")).toEqual([`jobs/${JOB_A}/image.jpg`]);
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseFailed"]);
  });

  it("fails with InvalidUpload when the metadata is missing, belongs to another job, or the upload is gone", async () => {
    const { deps, blobs, publisher, upload } = setup();
    blobs.seed(`uploads/${JOB_A}/source`, await goodJpeg(), { contentType: "image/jpeg" });
    upload(JOB_B, await goodJpeg(), params(JOB_C));

    for (const jobId of [JOB_A, JOB_B, JOB_C]) {
      const out = await ingestUpload(deps, objectCreated(jobId), ctx);
      expect(out, jobId).toMatchObject({ status: "failed", reason: { code: "InvalidUpload" } });
    }
    expect(publisher.published.map((e) => [e.type, e.jobId, (e.data as { job?: unknown }).job])).toEqual([
      ["VideoBaseFailed", JOB_A, undefined],
      ["VideoBaseFailed", JOB_B, undefined],
      ["VideoBaseFailed", JOB_C, undefined],
    ]);
    expect(publisher.published[1]!.data).toMatchObject({ reason: { message: expect.stringMatching(JOB_C) } });
  });

  it("ignores an object that is not uploads/{jobId}/source: it cannot be tied to a job", async () => {
    const { deps, publisher } = setup();
    for (const key of [`uploads/${JOB_A}/other.jpg`, "uploads/not-a-job/source", `uploads/${JOB_A}/source/extra`]) {
      expect(await ingestUpload(deps, objectCreated(JOB_A, { key }), ctx)).toMatchObject({ status: "ignored" });
    }
    expect(publisher.published).toEqual([]);
  });

  it("insists on image URLs that outlive LTX's queue (≥ 900 s)", async () => {
    const { deps, upload } = setup();
    upload(JOB_A, await goodJpeg());
    await expect(ingestUpload({ ...deps, presignExpiresSeconds: 300 }, objectCreated(JOB_A), ctx)).rejects.toThrow(/≥ 900/);
  });
});

describe("failUpload", () => {
  it("publishes VideoBaseFailed with the job's parameters when the metadata can be read", async () => {
    const { deps, publisher, upload } = setup();
    upload(JOB_A, await goodJpeg());
    const reason = { code: "RetriesExhausted" as const, message: "gave up after 5 attempts", retryable: false };
    expect(await failUpload(deps, objectCreated(JOB_A), reason, ctx)).toBe(true);
    expect(only(publisher.published)).toMatchObject({
      type: "VideoBaseFailed",
      eventId: `${JOB_A}.VideoBaseFailed`,
      causationId: `s3-event-${JOB_A}`,
      data: { job: params(JOB_A), source: { key: `uploads/${JOB_A}/source` }, reason },
    });
  });

  it("still fails the job without parameters when the upload is gone, and skips keys that name no job", async () => {
    const { deps, publisher } = setup();
    const reason = { code: "InvalidEvent" as const, message: "bad event", retryable: false };
    expect(await failUpload(deps, { detail: { object: { key: `uploads/${JOB_A}/source` } } }, reason, ctx)).toBe(true);
    expect(only(publisher.published)).toMatchObject({ jobId: JOB_A, causationId: `${JOB_A}.upload`, data: { reason } });
    expect(only(publisher.published).data).not.toHaveProperty("job");
    expect(await failUpload(deps, { detail: { object: { key: "uploads/x/y" } } }, reason, ctx)).toBe(false);
    expect(await failUpload(deps, null, reason, ctx)).toBe(false);
  });
});

describe("a job that ended is terminal (issue #11 item 2)", () => {
  it("a second upload with the same presigned fields after VideoBaseFailed generates nothing and publishes nothing", async () => {
    const { deps, publisher, generator, upload, blobs } = setup();
    upload(JOB_A, new TextEncoder().encode("not an image at all"));
    expect(await ingestUpload(deps, objectCreated(JOB_A, { id: "s3-first" }), ctx)).toMatchObject({ status: "failed", reason: { code: "InvalidImage" } });
    expect(types(publisher.published)).toEqual(["VideoBaseFailed"]);

    // The same fields POSTed again within the policy's lifetime, now with a real photo.
    upload(JOB_A, await goodJpeg());
    const again = await ingestUpload(deps, objectCreated(JOB_A, { id: "s3-second" }), ctx);
    expect(again).toMatchObject({ status: "ignored", why: expect.stringMatching(/has ended \(VideoBaseFailed\)/) });
    expect(generator.calls).toEqual([]);
    expect(blobs.keys("jobs/")).toEqual([]);
    expect(types(publisher.published)).toEqual(["VideoBaseFailed"]);
  });

  it("a job whose VideoBaseFailed was claimed but not published (a crash) publishes it, still without generating", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    upload(JOB_A, new TextEncoder().encode("not an image at all"));
    const crashing = { ...deps, publisher: { publish: async () => { throw new Error("PutEvents down"); } } };
    await expect(ingestUpload(crashing, objectCreated(JOB_A), ctx)).rejects.toThrow(/PutEvents down/);
    upload(JOB_A, await goodJpeg());
    expect(await ingestUpload(deps, objectCreated(JOB_A, { id: "s3-second" }), ctx)).toMatchObject({ status: "ignored" });
    expect(publisher.published).toMatchObject([{ type: "VideoBaseFailed", eventId: `${JOB_A}.VideoBaseFailed`, data: { reason: { code: "InvalidImage" } } }]);
    expect(generator.calls).toEqual([]);
    expect(await state.get(JOB_A, "job-outcome")).toMatchObject({ type: "VideoBaseFailed", published: true });
  });

  it("a completed job (RenderCompleted recorded) ignores another upload too", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    await state.putIfAbsent(JOB_A, "job-outcome", { type: "RenderCompleted", eventId: "done", event: { type: "RenderCompleted" }, published: true, recordedAt: "2026-11-20T10:05:00Z" });
    upload(JOB_A, await goodJpeg());
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "ignored" });
    expect(generator.calls).toEqual([]);
    expect(publisher.published).toEqual([]);
  });
});
