import { readFileSync } from "node:fs";
import sharp from "sharp";
import { describe, expect, it, vi } from "vitest";
import { pipelineEvents } from "@reelbridge/events";
import type { Data, DetailType, JobCost, JobParams, PipelineEvent, S3ObjectCreatedEvent } from "@reelbridge/events";
import { reduceEvents, toJobRecord } from "../../../src/jobs/reducer";
import { budgetDay, createMemoryBudgetStore } from "../../../src/jobs/budget";
import { lambdaCost, ltxCost, quoteJob, sumCost } from "../../../src/jobs/cost";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import s3Sample from "@reelbridge/events/samples/v1/S3ObjectCreated.json";
import { readMp4Info } from "../../../src/adapters/ltx/mp4-info";
import { PermanentError, TransientError } from "../../../src/errors";
import { createJsonLogger } from "../../../src/logger";
import type { GenerationRequest, OutgoingEvent, VideoGenerator } from "../../../src/ports";
import { createMemoryPublisher } from "../../../src/publish";
import { encodeJobMetadata } from "../../../src/upload/metadata";
import {
  GENERATION_DEADLINE_SECONDS,
  GENERATION_STATE,
  MAX_GENERATION_REPLACEMENTS,
  STEP_RETRY_BUDGET,
  failUpload,
  generationClaimName,
  ingestUpload,
  looksUntilDeadline,
  nextCheckSeconds,
} from "../../../src/usecases/ingest-upload";
import type { IngestUploadDeps } from "../../../src/usecases/ingest-upload";
import { jobProgress } from "../../../src/usecases/step-progress";
import type { JobRecord } from "../../../src/ports";
import { createMemoryBlobStore } from "../../support/memory-blob-store";
import { craftedPng } from "../../support/png";
import { createMemoryStepStateStore } from "../../support/memory-step-state";

/** An outgoing event as EventBridge delivers it (for the reducer). */
const envelope = (e: { type: string; eventId: string; jobId: string; causationId: string; data: unknown }, time: string) =>
  ({
    version: "0",
    id: `id-${e.eventId}`,
    "detail-type": e.type,
    source: "test",
    account: "111122223333",
    time,
    region: "eu-west-1",
    resources: [],
    detail: { metadata: { schemaVersion: "1", jobId: e.jobId, eventId: e.eventId, causationId: e.causationId, producer: "test", time }, data: e.data },
  }) as unknown as PipelineEvent<DetailType>;

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
  /** Ids of the generations paid for, in order. */
  submitted: string[];
  /** What each submit asked for. */
  submits: GenerationRequest[];
  /** Ids looked at, one entry per look. */
  looks: string[];
  /** Looks of each generation that answer "pending" before it completes. */
  pendingLooks: number;
  /** Thrown by the next looks, in order (a throttle, a 5xx). */
  checkErrors: Error[];
  /** The progress each pending look reports, in order (none: the provider reports none). */
  progress?: number[];
  /** Generations the provider no longer knows. */
  gone: Set<string>;
  /** Generations that fail at the provider, with this error. */
  failing?: Error;
  /** submit waits for these before / after paying (a slow provider). */
  beforeSubmit?: Promise<void>;
  afterSubmit?: Promise<void>;
  submitError?: Error;
  video: Uint8Array;
}

function fakeGenerator(): FakeGenerator {
  let n = 0;
  const seen = new Map<string, number>();
  const g: FakeGenerator = {
    name: "fake-ltx",
    checkIntervalSeconds: { first: 30, next: 10 },
    submitted: [],
    submits: [],
    looks: [],
    pendingLooks: 0,
    checkErrors: [],
    gone: new Set(),
    video: CLIP,
    async submit(req) {
      g.submits.push(req);
      await g.beforeSubmit;
      if (g.submitError) throw g.submitError;
      const id = `gen-${++n}`;
      g.submitted.push(id);
      await g.afterSubmit;
      return { generationId: id, ...(req.model ? { model: req.model } : {}) };
    },
    async check(id) {
      g.looks.push(id);
      const err = g.checkErrors.shift();
      if (err) throw err;
      if (g.gone.has(id)) return { status: "gone", why: `${id} is unknown` };
      if (g.failing) throw g.failing;
      const looks = (seen.get(id) ?? 0) + 1;
      seen.set(id, looks);
      if (looks <= g.pendingLooks) {
        const progress = g.progress?.[looks - 1];
        return { status: "pending", providerStatus: "processing", ...(progress !== undefined ? { progress } : {}) };
      }
      return { status: "completed", video: g.video, contentType: "video/mp4" };
    },
  };
  return g;
}

type Ctx = Parameters<typeof ingestUpload>[2];
/**
 * The queue: the same message delivered again each time the step asks to look later (each
 * delivery is an invocation of its own that returns at once), until an outcome.
 */
async function deliverUntilDone(deps: IngestUploadDeps, event: S3ObjectCreatedEvent, c: Ctx = ctx, maxDeliveries = 30) {
  const outcomes: Array<Awaited<ReturnType<typeof ingestUpload>>> = [];
  for (let attempt = c.attempt ?? 1; outcomes.length < maxDeliveries; attempt++) {
    const out = await ingestUpload(deps, event, { ...c, attempt });
    outcomes.push(out);
    if (out.status !== "checking") return Object.assign(out, { deliveries: outcomes });
  }
  throw new Error(`still checking after ${maxDeliveries} deliveries: ${JSON.stringify(outcomes.at(-1))}`);
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

describe("ingestUpload: the generation's progress for the status API (issue #14 item 3)", () => {
  it("each look that finds it running records the provider's progress; the status API's progress reads it with an estimate of the time left", async () => {
    const { deps, state, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.pendingLooks = 2;
    generator.progress = [0.25, 0.5];
    const seen: Array<Awaited<ReturnType<typeof jobProgress>>> = [];
    const record = { jobId: JOB_A, status: "generating" } as JobRecord;
    for (let attempt = 1; attempt <= 3; attempt++) {
      await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, attempt });
      seen.push(await jobProgress({ state }, record, deps.clock.now()));
    }
    // Submitted: running, no fraction yet (so no estimate).
    const submittedAt = (await state.get(JOB_A, GENERATION_STATE))!.submittedAt as string;
    expect(seen[0]).toEqual({ generation: { startedAt: submittedAt } });
    expect(seen[1]!.generation).toMatchObject({ fraction: 0.25, startedAt: submittedAt });
    expect(seen[2]!.generation).toMatchObject({ fraction: 0.5, startedAt: submittedAt });
    // Half done after the time since submission: about as long again is left, less what passed since the look.
    const g = seen[2]!.generation!;
    const elapsed = (Date.parse(g.measuredAt!) - Date.parse(submittedAt)) / 1000;
    expect(g.secondsLeft).toBeGreaterThan(0);
    expect(g.secondsLeft).toBeLessThanOrEqual(elapsed);
    // Once the clip is stored the generation is no longer running.
    await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, attempt: 4 });
    expect(await jobProgress({ state }, record, deps.clock.now())).toBeUndefined();
  });
});

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

    generator.pendingLooks = 2;
    const out = await deliverUntilDone(deps, objectCreated(JOB_A));

    expect(out.status).toBe("ready");
    // One delivery submits; each later one looks once and hands the message back with the next look's delay.
    expect(out.deliveries.map((d) => (d.status === "checking" ? [d.why, d.checkAfterSeconds] : d.status))).toEqual([["submitted", 30], ["pending", 10], ["pending", 10], "ready"]);
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(generator.looks).toEqual(["gen-1", "gen-1", "gen-1"]);
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
      // From the submission to the clip stored: the test clock moves 1.5 s per reading, over four deliveries.
      generator: { name: "fake-ltx", generationId: "gen-1", model: "ltx-2-fast", cameraMotion: "dolly_in", seconds: 6 },
    });
    pipelineEvents.VideoBaseReady.data.parse(event.data);

    // What the generator was asked for: the normalised image by presigned URL, the job's motion.
    const req = generator.submits[0]!;
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
      expect(generator.submits, what).toEqual([]);
    }

    publisher.published.length = 0;
    upload(JOB_B, await goodJpeg());
    expect((await deliverUntilDone(deps, objectCreated(JOB_B))).status).toBe("ready");
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

    expect((await deliverUntilDone(deps, objectCreated(JOB_A))).status).toBe("ready");

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

  it("resumes after a crash by looking at the recorded generation: one generation paid", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    // The delivery that submits dies right after recording the generation (before VideoBaseStarted).
    const publish = publisher.publish.bind(publisher);
    publisher.publish = async () => {
      throw new Error("the Lambda was killed");
    };
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "checking", generationId: "gen-1" });
    publisher.publish = publish;
    expect(publisher.published).toEqual([]);
    expect(await state.get(JOB_A, GENERATION_STATE)).toMatchObject({ generationId: "gen-1", status: "submitted" });

    // The queue redelivers the message a minute later: the reported wall time runs from the original submit.
    const { submittedAt } = (await state.get(JOB_A, GENERATION_STATE)) as { submittedAt: string };
    deps.clock = { now: () => new Date(Date.parse(submittedAt) + 60_000) };
    const out = await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, attempt: 2 });
    expect(out).toMatchObject({ status: "ready", resumed: true });
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(generator.looks).toEqual(["gen-1"]);
    expect(types(publisher.published)).toEqual(["VideoBaseReady"]);
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
    expect(generator.submits).toHaveLength(1);

    gate.resolve();
    expect(await winner).toMatchObject({ status: "checking", why: "submitted" });
    expect(await deliverUntilDone(deps, objectCreated(JOB_A), { ...ctx, attempt: 2 })).toMatchObject({ status: "ready", replayed: false });
    expect(generator.submitted).toEqual(["gen-1"]);

    // The queue redelivers the loser later: it re-publishes the same VideoBaseReady, generating nothing.
    const redelivered = await ingestUpload(deps, objectCreated(JOB_A), ctx);
    expect(redelivered).toMatchObject({ status: "ready", replayed: true });
    expect(generator.submits).toHaveLength(1);
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
    // The provider has answered but the winner has not recorded it yet: the duplicate finds the claim held.
    await expect(ingestUpload(deps, objectCreated(JOB_A, { id: "s3-event-duplicate" }), ctx)).rejects.toMatchObject({ retryAfterSeconds: 30 });
    gate.resolve();
    expect(await winner).toMatchObject({ status: "checking", generationId: "gen-1" });
    // Redelivered, the duplicate looks at the recorded generation instead of paying again.
    const dup = await ingestUpload(deps, objectCreated(JOB_A, { id: "s3-event-duplicate" }), { ...ctx, attempt: 2 });
    expect(dup).toMatchObject({ status: "ready", resumed: true, data: { generator: { generationId: "gen-1" } } });
    expect(await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, attempt: 2 })).toMatchObject({ status: "ready", replayed: true, data: { generator: { generationId: "gen-1" } } });

    expect(generator.submitted).toEqual(["gen-1"]);
    expect(generator.looks).toEqual(["gen-1"]);
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
    // The step's own budget's last try stands down the same way.
    expect(await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, attempt: STEP_RETRY_BUDGET })).toMatchObject({ status: "deferred" });
    expect(generator.submits).toEqual([]);
    expect(publisher.published).toEqual([]);

    // 16 minutes later the holder has recorded nothing: it died before submitting.
    deps.clock = { now: () => new Date("2026-11-20T10:16:00.000Z") };
    expect(await deliverUntilDone(deps, objectCreated(JOB_A))).toMatchObject({ status: "ready", data: { generator: { generationId: "gen-1" } } });
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(await state.get(JOB_A, generationClaimName(2))).toMatchObject({ eventId: `s3-event-${JOB_A}`, leaseUntil: "2026-11-20T10:31:00.000Z" });
  });

  it("a holder whose lease ran out but who recorded a generation is resumed, not taken over", async () => {
    const { deps, state, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    // Recorded by a version of the step that kept no facts for the looks: they are added from the upload.
    await state.putIfAbsent(JOB_A, generationClaimName(1), { owner: "other", claimedAt: "2026-11-20T09:40:00.000Z", leaseUntil: "2026-11-20T09:55:00.000Z" });
    await state.putIfAbsent(JOB_A, GENERATION_STATE, { generationId: "gen-other", generator: "fake-ltx", submittedAt: "2026-11-20T09:40:05.000Z", status: "submitted" });
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "ready", resumed: true, data: { generator: { generationId: "gen-other" } } });
    expect(generator.submitted).toEqual([]);
    expect(generator.looks).toEqual(["gen-other"]);
    expect(await state.get(JOB_A, generationClaimName(2))).toBeUndefined();
  });

  it("releases the claim when the generator fails before submitting, so the retry does not wait out the lease", async () => {
    const { deps, state, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.submitError = new TransientError("LTX 429", { retryAfterSeconds: 5 });
    await expect(ingestUpload(deps, objectCreated(JOB_A), ctx)).rejects.toMatchObject({ retryAfterSeconds: 5 });
    expect(await state.get(JOB_A, generationClaimName(1))).toMatchObject({ releasedAt: expect.any(String) });

    delete generator.submitError;
    expect(await deliverUntilDone(deps, objectCreated(JOB_A), { ...ctx, attempt: 2 })).toMatchObject({ status: "ready" });
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(await state.get(JOB_A, generationClaimName(2))).toMatchObject({ eventId: `s3-event-${JOB_A}` });
  });

  it("re-publishes the same VideoBaseReady for a duplicate event after completion, without generating again", async () => {
    const { deps, blobs, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    await deliverUntilDone(deps, objectCreated(JOB_A));
    const putsBefore = blobs.calls.filter((c) => c.op === "put").length;

    const dup = await ingestUpload(deps, objectCreated(JOB_A, { id: "s3-event-duplicate" }), ctx);

    expect(dup).toMatchObject({ status: "ready", replayed: true });
    expect(generator.submits).toHaveLength(1);
    expect(generator.looks).toHaveLength(1);
    expect(blobs.calls.filter((c) => c.op === "put").length).toBe(putsBefore);
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseReady", "VideoBaseReady"]);
    const [, first, second] = publisher.published;
    expect(second!.eventId).toBe(first!.eventId);
    expect(second!.data).toEqual(first!.data);
  });

  it("regenerates (resuming the same generation) when the record says completed but base.mp4 is gone", async () => {
    const { deps, blobs, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    await deliverUntilDone(deps, objectCreated(JOB_A));
    blobs.objects.delete(`jobs/${JOB_A}/base.mp4`);
    expect((await ingestUpload(deps, objectCreated(JOB_A), ctx)).status).toBe("ready");
    expect(generator.submitted).toEqual(["gen-1"]);
    expect(generator.looks).toEqual(["gen-1", "gen-1"]);
    expect(blobs.keys("jobs/")).toContain(`jobs/${JOB_A}/base.mp4`);
  });

  it("pays for a replacement, once, when the recorded generation is gone at the provider, and gives up after MAX_GENERATION_REPLACEMENTS", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "checking", generationId: "gen-1" });
    generator.gone.add("gen-1");
    // Two deliveries find it gone at once (a duplicate): only one pays for the replacement.
    const [a, b] = await Promise.all([ingestUpload(deps, objectCreated(JOB_A), ctx), ingestUpload(deps, objectCreated(JOB_A, { id: "s3-dup" }), ctx)]);
    expect([a, b].map((o) => (o.status === "checking" ? o.why : o.status)).sort()).toEqual(["another-delivery", "replaced"]);
    expect(generator.submitted).toEqual(["gen-1", "gen-2"]);
    expect(await state.get(JOB_A, GENERATION_STATE)).toMatchObject({ generationId: "gen-2", replaces: "gen-1", replacements: 1, status: "submitted" });
    // The replacement is asked for with the stored image and the same request.
    expect(generator.submits[1]).toMatchObject({ jobId: JOB_A, cameraMotion: "dolly_in", width: 1080, height: 1920, durationSeconds: 6, model: "ltx-2-fast" });
    expect(generator.submits[1]!.image.url).toMatch(new RegExp(`/jobs/${JOB_A}/image\\.jpg\\?`));

    for (let i = 2; i <= MAX_GENERATION_REPLACEMENTS; i++) {
      generator.gone.add(`gen-${i}`);
      expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "checking", why: "replaced" });
    }
    generator.gone.add(`gen-${MAX_GENERATION_REPLACEMENTS + 1}`);
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "failed", reason: { code: "GenerationExpired" } });
    expect(generator.submitted).toHaveLength(MAX_GENERATION_REPLACEMENTS + 1);
    expect(one(publisher.published, "VideoBaseFailed")).toMatchObject({ data: { job: { jobId: JOB_A }, reason: { code: "GenerationExpired" } } });
  });

  it("ends the job on a permanent generation error with the job's parameters, and rethrows transient ones", async () => {
    const { deps, blobs, publisher, upload } = setup();
    upload(JOB_A, await goodJpeg());
    const generator = deps.generator as FakeGenerator;
    generator.submitError = new PermanentError("InsufficientCredits", "LTX has no credits left");
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "failed", reason: { code: "InsufficientCredits" } });
    expect(only(publisher.published)).toMatchObject({ type: "VideoBaseFailed", data: { job: { jobId: JOB_A }, reason: { code: "InsufficientCredits", message: "LTX has no credits left" } } });
    expect(blobs.keys("jobs/")).toEqual([`jobs/${JOB_A}/image.jpg`]);

    publisher.published.length = 0;
    upload(JOB_B, await goodJpeg());
    generator.submitError = new TransientError("LTX 503", { retryAfterSeconds: 5 });
    await expect(ingestUpload(deps, objectCreated(JOB_B), ctx)).rejects.toMatchObject({ retryAfterSeconds: 5 });
    expect(publisher.published).toEqual([]);
    // On the step's budget's last delivery, nothing paid yet: the job ends visibly.
    expect(await ingestUpload(deps, objectCreated(JOB_B), { ...ctx, attempt: STEP_RETRY_BUDGET })).toMatchObject({ status: "failed", reason: { code: "RetriesExhausted", message: expect.stringMatching(/LTX 503/) } });
    expect(one(publisher.published, "VideoBaseFailed")).toMatchObject({ jobId: JOB_B, data: { job: { jobId: JOB_B }, reason: { code: "RetriesExhausted" } } });
  });

  it("ends the job with GenerationFailed when the provider fails the generation on a later look", async () => {
    const { deps, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.pendingLooks = 1;
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "checking", why: "submitted" });
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "checking", why: "pending" });
    generator.failing = new PermanentError("GenerationFailed", "LTX generation gen-1 failed: content policy");
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "failed", reason: { code: "GenerationFailed" } });
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseFailed"]);
    expect(one(publisher.published, "VideoBaseFailed")).toMatchObject({ data: { job: { jobId: JOB_A }, reason: { message: expect.stringMatching(/content policy/) } } });
  });

  it("counts failed looks in a row against the step's budget (a good look resets it), then ends the job with RetriesExhausted", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.pendingLooks = 100;
    await ingestUpload(deps, objectCreated(JOB_A), ctx);
    const throttle = () => new TransientError("LTX throttled status poll (429 rate_limit_error); retry after 20 s", { retryAfterSeconds: 20 });
    generator.checkErrors.push(throttle(), throttle());
    for (let i = 0; i < 2; i++) await expect(ingestUpload(deps, objectCreated(JOB_A), ctx)).rejects.toMatchObject({ retryAfterSeconds: 20 });
    expect(await state.get(JOB_A, GENERATION_STATE)).toMatchObject({ checkFailures: 2 });
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "checking", why: "pending" });
    expect(await state.get(JOB_A, GENERATION_STATE)).toMatchObject({ checkFailures: 0, checks: 1 });

    for (let i = 1; i < STEP_RETRY_BUDGET; i++) {
      generator.checkErrors.push(throttle());
      await expect(ingestUpload(deps, objectCreated(JOB_A), ctx)).rejects.toBeInstanceOf(TransientError);
    }
    generator.checkErrors.push(throttle());
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "failed", reason: { code: "RetriesExhausted", message: expect.stringMatching(/5 failed looks in a row.*429/) } });
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseFailed"]);
    expect(generator.submitted).toEqual(["gen-1"]);
  });

  it("ends the job when the generation has not finished by its deadline, and stops looking", async () => {
    const { deps, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.pendingLooks = Number.POSITIVE_INFINITY;
    let t = Date.parse("2026-11-20T10:00:00.000Z");
    deps.clock = { now: () => new Date(t) };
    let out = await ingestUpload(deps, objectCreated(JOB_A), ctx);
    // The queue brings the message back after each delay asked for, until the deadline.
    while (out.status === "checking") {
      t += out.checkAfterSeconds * 1000;
      out = await ingestUpload(deps, objectCreated(JOB_A), ctx);
    }
    expect(out).toMatchObject({ status: "failed", reason: { code: "GenerationFailed", message: expect.stringMatching(/did not finish within 30 min/) } });
    expect(t - Date.parse("2026-11-20T10:00:00.000Z")).toBeGreaterThan(GENERATION_DEADLINE_SECONDS * 1000);
    // Looks thin out as the generation runs long: a hung one costs a few dozen looks, not 180.
    expect(generator.looks.length).toBe(looksUntilDeadline(generator.checkIntervalSeconds) - 1);
    expect(generator.looks.length).toBeLessThan(80);
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseFailed"]);
    const looks = generator.looks.length;
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "ignored" });
    expect(generator.looks).toHaveLength(looks);
  });

  it("stops looking once the job ledger shows an outcome (cancelled, failed elsewhere): the message is dropped, and VideoBaseStopped carries what was paid, once", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.pendingLooks = 100;
    await ingestUpload(deps, objectCreated(JOB_A), ctx);
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "checking" });
    // Another step ends the job (the versions helper's cancel records JobCancelled the same way).
    await state.putIfAbsent(JOB_A, "job-outcome", { type: "JobCancelled", eventId: `${JOB_A}.JobCancelled`, event: { type: "JobCancelled" }, published: true, recordedAt: "2026-11-20T10:01:00Z" });
    const looks = generator.looks.length;
    deps.pricing = { provider: "ltx", model: "ltx-2-fast", lambdaArch: "x86_64", fn: "ltx-step" };
    expect(await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, lambdaUsage: async () => ({ invocations: 3, gbSeconds: 0.5 }) })).toMatchObject({ status: "ignored", why: expect.stringMatching(/has ended/) });
    expect(generator.looks).toHaveLength(looks);
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseStopped"]);
    // What was already paid for stays on the generation record: the submitted generation and the Lambda so far.
    const stopped = (await state.get(JOB_A, GENERATION_STATE)) as { stoppedBecause?: string; paid?: JobCost };
    expect(stopped).toMatchObject({ stoppedBecause: "JobCancelled", status: "submitted" });
    expect(stopped.paid!.lines.map((l) => l.item)).toEqual(["ltx-generation", "lambda:ltx-step"]);
    // …and travels on the step's VideoBaseStopped, caused by the outcome, to the job record's cost.
    const stop = publisher.published[1] as OutgoingEvent<"VideoBaseStopped">;
    expect(stop).toMatchObject({ jobId: JOB_A, causationId: `${JOB_A}.JobCancelled`, data: { stoppedBecause: "JobCancelled", stepCost: stopped.paid } });
    expect(stop.data.stepCost!.totalUsd).toBeGreaterThan(0);
    const cancelled = { type: "JobCancelled", eventId: `${JOB_A}.JobCancelled`, jobId: JOB_A, causationId: `${JOB_A}.JobCancelled`, data: { job: stop.data.job, cancelledAt: "2026-11-20T10:01:00.000Z" } };
    const record = toJobRecord(reduceEvents([cancelled, stop].map((e, i) => envelope(e, `2026-11-20T10:0${i + 1}:00.000Z`)))!);
    expect(record.status).toBe("cancelled");
    expect(record.cost!.lines.find((l) => l.item === "ltx-generation")).toMatchObject({ usd: stopped.paid!.lines[0]!.usd });
    // A later delivery stops nothing twice and publishes nothing more.
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "ignored" });
    expect(types(publisher.published)).toEqual(["VideoBaseStarted", "VideoBaseStopped"]);
  });

  it("schedules looks at the generator's interval, stretched to a twentieth of the time run so far", () => {
    expect(nextCheckSeconds(10, 0)).toBe(10);
    expect(nextCheckSeconds(10, 199)).toBe(10);
    expect(nextCheckSeconds(10, 600)).toBe(30);
    expect(nextCheckSeconds(2, 100)).toBe(5);
    // A generation that never finishes: LTX's interval and the offline generator's both stay well under the queue's backstop.
    expect(looksUntilDeadline({ first: 30, next: 10 })).toBeLessThan(80);
    expect(looksUntilDeadline({ first: 2, next: 1 })).toBeLessThan(200);
  });

  it("fails with GenerationFailed when the generated clip is not a readable MP4, and stores nothing as base.mp4", async () => {
    const { deps, blobs, publisher, generator, upload } = setup();
    upload(JOB_A, await goodJpeg());
    generator.video = new TextEncoder().encode("<Error><Code>AccessDenied</Code></Error>");
    expect(await deliverUntilDone(deps, objectCreated(JOB_A))).toMatchObject({ status: "failed", reason: { code: "GenerationFailed" } });
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

describe("the step's cost and the budget (issue #13)", () => {
  const pricing = { provider: "ltx" as const, model: "ltx-2-fast" as const, lambdaArch: "x86_64" as const, fn: "ltx-step" };
  const usage = { invocations: 4, gbSeconds: 1.25 };

  it("puts the LTX line (the clip's seconds × the model's price) and the step's measured Lambda line on VideoBaseReady", async () => {
    const { deps, publisher, upload } = setup();
    deps.pricing = pricing;
    upload(JOB_A, await goodJpeg());
    const out = await deliverUntilDone(deps, objectCreated(JOB_A), { ...ctx, lambdaUsage: async () => usage });
    expect(out.status).toBe("ready");
    const data = one(publisher.published, "VideoBaseReady").data as Data<"VideoBaseReady">;
    pipelineEvents.VideoBaseReady.data.parse(data);
    const ltx = ltxCost({ provider: "ltx", model: "ltx-2-fast", seconds: 2, width: 1080, height: 1920 });
    const lambda = lambdaCost(1.25, "x86_64", { fn: "ltx-step", invocations: 4 });
    expect(data.stepCost).toEqual({ lines: [ltx, lambda], totalUsd: sumCost([ltx, lambda]).totalUsd });
    expect(data.stepCost!.lines[0]).toMatchObject({ item: "ltx-generation", quantity: 2, unit: "s" });
    expect(ltx.usd).toBeGreaterThan(0);
    expect(data.stepCost!.lines[1]).toMatchObject({ item: "lambda:ltx-step", quantity: 1.25, unit: "GB-s" });
  });

  it("a failure after the submission shows what it cost: the estimated generation and the Lambda", async () => {
    const { deps, publisher, generator, upload } = setup();
    deps.pricing = pricing;
    upload(JOB_A, await goodJpeg());
    await ingestUpload(deps, objectCreated(JOB_A), ctx);
    generator.failing = new PermanentError("GenerationFailed", "LTX generation gen-1 failed");
    expect(await ingestUpload(deps, objectCreated(JOB_A), { ...ctx, lambdaUsage: async () => usage })).toMatchObject({ status: "failed" });
    const data = one(publisher.published, "VideoBaseFailed").data as Data<"VideoBaseFailed">;
    pipelineEvents.VideoBaseFailed.data.parse(data);
    expect(data.stepCost!.lines.map((l) => [l.item, l.estimated ?? false])).toEqual([["ltx-generation", true], ["lambda:ltx-step", false]]);
    expect(data.stepCost!.lines[0]!.basis).toMatch(/not delivered/);
    // A bad upload paid for nothing but the Lambda.
    upload(JOB_B, new TextEncoder().encode("not an image"));
    await ingestUpload(deps, objectCreated(JOB_B), { ...ctx, lambdaUsage: async () => ({ invocations: 1, gbSeconds: 0.1 }) });
    const failedB = publisher.published.filter((e) => e.jobId === JOB_B).at(-1)!.data as Data<"VideoBaseFailed">;
    expect(failedB.stepCost!.lines.map((l) => l.item)).toEqual(["lambda:ltx-step"]);
  });

  it("ends the job with BudgetExceeded before paying when the cap was crossed since the upload", async () => {
    const { deps, publisher, generator, upload } = setup();
    const p = params(JOB_A);
    upload(JOB_A, await goodJpeg(), p);
    const store = createMemoryBudgetStore();
    const quote = { ltx: { provider: "ltx" as const, model: "ltx-2-fast" as const }, renderer: "remotion-lambda" as const };
    const cost = quoteJob({ aspect: p.aspect, durationSeconds: p.durationSeconds }, quote).totalUsd;
    // The upload reserved the quote against a $10 day; the cap has since been lowered below the day's spend.
    expect(await store.reserve({ owner: p.owner, day: budgetDay(p.createdAt), usd: cost, limitUsd: 10 })).toMatchObject({ reserved: true });
    deps.budget = { store, limits: { perOwnerPerDayUsd: cost / 2 }, quote };
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "failed", reason: { code: "BudgetExceeded", message: expect.stringMatching(/over the stage's cap/) } });
    expect(generator.submits).toEqual([]);
    expect(one(publisher.published, "VideoBaseFailed")).toMatchObject({ data: { job: { jobId: JOB_A }, reason: { code: "BudgetExceeded" } } });

    // Within the caps, the same check lets the job through.
    upload(JOB_B, await goodJpeg(), params(JOB_B));
    deps.budget = { store, limits: { perJobUsd: cost * 2, perOwnerPerDayUsd: 10 }, quote };
    expect(await ingestUpload(deps, objectCreated(JOB_B), ctx)).toMatchObject({ status: "checking", why: "submitted" });
    deps.budget = { store, limits: { perJobUsd: cost / 2 }, quote };
    upload(JOB_C, await goodJpeg(), params(JOB_C));
    expect(await ingestUpload(deps, objectCreated(JOB_C), ctx)).toMatchObject({ status: "failed", reason: { code: "BudgetExceeded", message: expect.stringMatching(/per job/) } });
    expect(generator.submitted).toEqual(["gen-1"]);
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
    expect(generator.submits).toEqual([]);
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
    expect(generator.submits).toEqual([]);
    expect(await state.get(JOB_A, "job-outcome")).toMatchObject({ type: "VideoBaseFailed", published: true });
  });

  it("a completed job (RenderCompleted recorded) ignores another upload too", async () => {
    const { deps, state, publisher, generator, upload } = setup();
    await state.putIfAbsent(JOB_A, "job-outcome", { type: "RenderCompleted", eventId: "done", event: { type: "RenderCompleted" }, published: true, recordedAt: "2026-11-20T10:05:00Z" });
    upload(JOB_A, await goodJpeg());
    expect(await ingestUpload(deps, objectCreated(JOB_A), ctx)).toMatchObject({ status: "ignored" });
    expect(generator.submits).toEqual([]);
    expect(publisher.published).toEqual([]);
  });
});
