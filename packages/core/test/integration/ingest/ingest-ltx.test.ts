import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JobParams, S3ObjectCreatedEvent } from "@reelbridge/events";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import s3Sample from "@reelbridge/events/samples/v1/S3ObjectCreated.json";
import { createLtxVideoGenerator } from "../../../src/adapters/ltx/generator";
import type { LtxVideoGeneratorOptions } from "../../../src/adapters/ltx/generator";
import { readMp4Info } from "../../../src/adapters/ltx/mp4-info";
import { createJsonLogger } from "../../../src/logger";
import { createMemoryPublisher } from "../../../src/publish";
import { encodeJobMetadata } from "../../../src/upload/metadata";
import { GENERATION_STATE, ingestUpload } from "../../../src/usecases/ingest-upload";
import type { IngestUploadDeps } from "../../../src/usecases/ingest-upload";
import { createMemoryBlobStore } from "../../support/memory-blob-store";
import type { MemoryBlobStore } from "../../support/memory-blob-store";
import { createMemoryStepStateStore } from "../../support/memory-step-state";
import { startFakeLtxServer } from "../../support/ltx-server";
import type { FakeLtxServer, FakeLtxServerOptions } from "../../support/ltx-server";

const API_KEY = "ltx_integration_key";
const CLIP = new Uint8Array(readFileSync(new URL("../../unit/ltx/fixtures/base-1080x1920-24fps-2s.mp4", import.meta.url)));
const PHOTO = new Uint8Array(readFileSync(new URL("../../unit/ingest/fixtures/photo-300x400.jpg", import.meta.url)));
const JOB_A = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const JOB_B = "01JD7X8Q2RZ4V6N3K5M9P1T0AC";
const logger = createJsonLogger({}, () => {});

// The media bucket, served over HTTP so the fake LTX can fetch the presigned image URL.
let blobs: MemoryBlobStore;
let bucketServer: Server;
let ltx: FakeLtxServer | undefined;

beforeAll(async () => {
  bucketServer = createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? "/").split("?")[0]!.slice(1));
    const o = blobs?.objects.get(key);
    if (!o) return void res.writeHead(404).end("NoSuchKey");
    res.writeHead(200, { "content-type": o.contentType ?? "application/octet-stream", "content-length": String(o.bytes.byteLength) });
    res.end(o.bytes);
  });
  await new Promise<void>((r) => bucketServer.listen(0, "127.0.0.1", r));
});
afterAll(async () => {
  await new Promise((r) => bucketServer.close(r));
});
afterEach(async () => {
  await ltx?.close();
  ltx = undefined;
});

async function setup(server: Partial<FakeLtxServerOptions> = {}, adapter: Partial<LtxVideoGeneratorOptions> = {}) {
  const port = (bucketServer.address() as AddressInfo).port;
  // "localhost", not 127.0.0.1: LTX refuses image URLs on IP addresses, and so does the fake.
  blobs = createMemoryBlobStore({ bucket: "media", presign: (key, o) => `http://localhost:${port}/${encodeURIComponent(key)}?X-Amz-Expires=${o.expiresInSeconds}` });
  ltx = await startFakeLtxServer({ apiKey: API_KEY, allowHttp: true, pendingMs: 20, processingMs: 40, videoFactory: async () => CLIP, ...server });
  const publisher = createMemoryPublisher();
  const state = createMemoryStepStateStore();
  const generator = (over: Partial<LtxVideoGeneratorOptions> = {}) =>
    createLtxVideoGenerator({ apiKey: API_KEY, baseUrl: ltx!.url, model: "ltx-2-fast", backoffBaseMs: 10, ...adapter, ...over });
  const deps: IngestUploadDeps = {
    blobs,
    state,
    publisher,
    generator: generator(),
    clock: { now: () => new Date() },
    probeVideo: readMp4Info,
    maxInputPixels: 50_000_000,
    fps: 24,
    model: "ltx-2-fast",
    presignExpiresSeconds: 900,
  };
  const upload = (jobId: string, bytes = PHOTO) => {
    const params = { ...structuredClone(readySample.detail.data.job), jobId } as JobParams;
    blobs.seed(`uploads/${jobId}/source`, bytes, { contentType: "image/jpeg", metadata: encodeJobMetadata(params) });
    return params;
  };
  return { deps, publisher, state, generator, upload, ltx: ltx! };
}

/**
 * The queue between deliveries: the same message again after each "checking" (a short real
 * wait here, where SQS would wait the delay the step asked for), until an outcome.
 */
async function deliver(deps: IngestUploadDeps, event: S3ObjectCreatedEvent, maxDeliveries = 200) {
  for (let attempt = 1; attempt <= maxDeliveries; attempt++) {
    const out = await ingestUpload(deps, event, { logger, attempt });
    if (out.status !== "checking") return Object.assign(out, { deliveries: attempt });
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`still checking after ${maxDeliveries} deliveries`);
}

const objectCreated = (jobId: string, id = `s3-${jobId}`): S3ObjectCreatedEvent => {
  const e = structuredClone(s3Sample) as S3ObjectCreatedEvent;
  e.id = id;
  e.detail.bucket.name = "media";
  e.detail.object.key = `uploads/${jobId}/source`;
  return e;
};

describe("LTX step over HTTP: use-case + LTX adapter + fake LTX v2 server", () => {
  it("reports the clip's true duration, size and frame rate, as ffprobe sees them, not the ones asked for", async () => {
    const workDir = await mkdtemp(join(tmpdir(), "ingest-ltx-"));
    try {
      // A provider that does not quite honour the request: 1.6 s at 320×568 and 25 fps, no audio.
      const made = join(workDir, "made.mp4");
      execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=320x568:r=25:d=1.6", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", made]);
      const clip = new Uint8Array(readFileSync(made));
      const { deps, publisher, upload, ltx } = await setup({ videoFactory: async () => clip });
      const params = upload(JOB_A);
      const out = await deliver(deps, objectCreated(JOB_A));
      expect(out.status).toBe("ready");
      expect(publisher.published.map((e) => e.type)).toEqual(["VideoBaseStarted", "VideoBaseReady"]);
      const data = publisher.published[1]!.data as unknown as { baseVideo: Record<string, number>; generator: Record<string, unknown>; job: JobParams };
      expect(data.job).toEqual(params);
      expect(data.baseVideo).toEqual({ bucket: "media", key: `jobs/${JOB_A}/base.mp4`, sizeBytes: clip.byteLength, durationSeconds: 1.6, width: 320, height: 568, fps: 25 });
      expect(data.generator).toMatchObject({ name: "ltx-2", model: "ltx-2-fast", cameraMotion: "dolly_in" });

      // What LTX fetched is the normalised image we stored.
      const job = ltx.jobs.get(data.generator.generationId as string)!;
      expect(job.imageBytes).toBe(blobs.objects.get(`jobs/${JOB_A}/image.jpg`)!.bytes.byteLength);

      // ffprobe agrees with what the event says about the stored clip.
      const file = join(workDir, "base.mp4");
      await writeFile(file, blobs.objects.get(`jobs/${JOB_A}/base.mp4`)!.bytes);
      const probe = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,r_frame_rate,nb_frames:format=duration", "-of", "json", file], { encoding: "utf8" }));
      expect(probe.streams[0]).toMatchObject({ width: 320, height: 568, r_frame_rate: "25/1", nb_frames: "40" });
      expect(Number(probe.format.duration)).toBeCloseTo(data.baseVideo.durationSeconds!, 1);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it("submits in one delivery, looks in later ones (one status GET each), and a duplicate looks instead of paying: one generation paid", async () => {
    const { deps, publisher, state, upload, ltx } = await setup({ pendingMs: 100, processingMs: 400 });
    upload(JOB_A);

    expect(await ingestUpload(deps, objectCreated(JOB_A), { logger })).toMatchObject({ status: "checking", why: "submitted", checkAfterSeconds: 30 });
    const recorded = (await state.get(JOB_A, GENERATION_STATE))!.generationId;
    expect(recorded).toBe([...ltx.jobs.keys()][0]);
    expect(ltx.counts()).toMatchObject({ accepted: 1, statusPolls: 0 });
    // The job reads "generating" meanwhile: VideoBaseStarted names the generation being followed.
    expect(publisher.published).toMatchObject([{ type: "VideoBaseStarted", eventId: `${JOB_A}.VideoBaseStarted`, data: { generator: { name: "ltx-2", generationId: recorded } } }]);

    // Still running: the look is one GET, and the delivery returns asking for the next in 10 s.
    expect(await ingestUpload(deps, objectCreated(JOB_A), { logger, attempt: 2 })).toMatchObject({ status: "checking", why: "pending", checkAfterSeconds: 10 });
    expect(ltx.counts().statusPolls).toBe(1);

    // A duplicate upload event (another S3 notification) looks at the same generation.
    const resumed = await deliver(deps, objectCreated(JOB_A, "s3-duplicate"));
    expect(resumed).toMatchObject({ status: "ready", resumed: true, data: { generator: { generationId: recorded } } });
    expect(ltx.counts().statusPolls).toBe(resumed.deliveries + 1);

    const submitsBefore = ltx.counts().submits;
    const replay = await ingestUpload(deps, objectCreated(JOB_A, "s3-duplicate-2"), { logger });
    expect(replay).toMatchObject({ status: "ready", replayed: true });
    expect(ltx.counts()).toMatchObject({ accepted: 1, submits: submitsBefore });
    expect(publisher.published.map((e) => e.eventId)).toEqual([`${JOB_A}.VideoBaseStarted`, `${JOB_A}.VideoBaseReady`, `${JOB_A}.VideoBaseReady`]);
  });

  it("replaces a recorded generation LTX no longer knows (24 h retention), paying once more, and finishes", async () => {
    const { deps, publisher, state, upload, ltx } = await setup();
    upload(JOB_A);
    await ingestUpload(deps, objectCreated(JOB_A), { logger });
    const first = (await state.get(JOB_A, GENERATION_STATE))!.generationId as string;
    ltx.expire(first);
    const out = await deliver(deps, objectCreated(JOB_A));
    expect(out).toMatchObject({ status: "ready" });
    const second = (await state.get(JOB_A, GENERATION_STATE))!.generationId as string;
    expect(second).not.toBe(first);
    expect(await state.get(JOB_A, GENERATION_STATE)).toMatchObject({ replaces: first, status: "completed" });
    expect(ltx.counts().accepted).toBe(2);
    expect(publisher.published.at(-1)).toMatchObject({ type: "VideoBaseReady", data: { generator: { generationId: second } } });
  });

  it("ends the job with GenerationFailed when LTX fails it, and the next upload still succeeds", async () => {
    const { deps, publisher, upload, ltx } = await setup();
    const params = upload(JOB_A);
    ltx.failJob("Generation failed: content policy");
    expect(await deliver(deps, objectCreated(JOB_A))).toMatchObject({ status: "failed", reason: { code: "GenerationFailed" } });
    expect(publisher.published[1]).toMatchObject({ type: "VideoBaseFailed", data: { job: params, reason: { code: "GenerationFailed", message: expect.stringMatching(/content policy/) } } });

    upload(JOB_B);
    expect((await deliver(deps, objectCreated(JOB_B))).status).toBe("ready");
    expect(publisher.published.map((e) => [e.type, e.jobId])).toEqual([
      ["VideoBaseStarted", JOB_A],
      ["VideoBaseFailed", JOB_A],
      ["VideoBaseStarted", JOB_B],
      ["VideoBaseReady", JOB_B],
    ]);
  });

  it("hands a long concurrency limit back to the queue without recording or publishing anything", async () => {
    const { deps, publisher, state, upload, ltx } = await setup();
    upload(JOB_A);
    ltx.inject("submit", { kind: "status", status: 429, errorType: "concurrency_limit_error", retryAfterSeconds: 300 });
    await expect(ingestUpload(deps, objectCreated(JOB_A), { logger })).rejects.toMatchObject({ retryAfterSeconds: 300 });
    expect(publisher.published).toEqual([]);
    expect(await state.get(JOB_A, GENERATION_STATE)).toBeUndefined();

    expect((await deliver(deps, objectCreated(JOB_A))).status).toBe("ready");
    expect(ltx.counts().accepted).toBe(1);
  });

  it("reports InsufficientCredits with the job's parameters", async () => {
    const { deps, publisher, upload } = await setup({ creditsSeconds: 3 });
    upload(JOB_A);
    expect(await ingestUpload(deps, objectCreated(JOB_A), { logger })).toMatchObject({ status: "failed", reason: { code: "InsufficientCredits" } });
    expect(publisher.published[0]).toMatchObject({ type: "VideoBaseFailed", data: { job: { jobId: JOB_A } } });
  });
});
