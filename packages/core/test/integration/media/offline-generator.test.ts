import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFfmpegVideoGenerator, type GenerationRequest } from "../../../src/adapters/ffmpeg/offline-generator";
import { CAMERA_MOTIONS, type CameraMotion } from "../../../src/media/camera";
import { FfmpegError, InvalidMediaRequestError } from "../../../src/media/errors";
import { normalizeImage } from "../../../src/media/image";
import { ffprobe, grayFrames, meanAbsDiff, rate } from "./ffprobe";

const W = 270;
const H = 480;
let dir: string;
let photo: Uint8Array;

/** A photo stand-in with detail everywhere, so any camera move changes the picture. */
async function patternPhoto(): Promise<Uint8Array> {
  const w = 600;
  const h = 900;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const checker = ((x >> 5) + (y >> 5)) % 2 ? 220 : 30;
      raw[i] = Math.round((x / w) * 255);
      raw[i + 1] = Math.round((y / h) * 255);
      raw[i + 2] = checker;
    }
  }
  const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
  return (await normalizeImage(jpeg, { aspect: "9:16", target: { width: W, height: H } })).bytes;
}

function request(cameraMotion: CameraMotion, extra: Partial<GenerationRequest> = {}): GenerationRequest {
  return { jobId: `job-${cameraMotion}`, image: { bytes: photo }, prompt: "test", cameraMotion, durationSeconds: 2, width: W, height: H, fps: 24, ...extra };
}

async function render(cameraMotion: CameraMotion, extra: Partial<GenerationRequest> = {}) {
  const generator = createFfmpegVideoGenerator({ workDir: join(dir, "work") });
  const events: string[] = [];
  const progress: number[] = [];
  const result = await generator.generate(request(cameraMotion, extra), {
    onSubmitted: async (id) => {
      events.push(`submitted:${id}`);
    },
    onProgress: (f) => {
      if (!events.includes("progress")) events.push("progress");
      progress.push(f);
    },
  });
  const path = join(dir, `${cameraMotion}-${extra.durationSeconds ?? 2}.mp4`);
  await writeFile(path, result.video);
  return { result, path, events, progress };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelbridge-gen-"));
  photo = await patternPhoto();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("offline FFmpeg video generator", () => {
  it("renders a dolly-in clip with LTX's output contract: H.264 high, exact size, fps and duration, no audio, faststart", async () => {
    const { result, path, events, progress } = await render("dolly_in");
    expect(result.generationId).toBe("offline-job-dolly_in");
    expect(result.contentType).toBe("video/mp4");
    expect(events).toEqual(["submitted:offline-job-dolly_in", "progress"]);
    expect(progress.at(-1)).toBe(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    const probe = await ffprobe(path, true);
    expect(probe.streams.filter((s) => s.codec_type === "audio")).toHaveLength(0);
    const [video] = probe.streams;
    expect(video).toMatchObject({ codec_type: "video", codec_name: "h264", profile: "High", width: W, height: H, pix_fmt: "yuv420p", nb_read_frames: "48" });
    expect(rate(video!.avg_frame_rate)).toBe(24);
    expect(Math.abs(Number(probe.format.duration) - 2)).toBeLessThanOrEqual(1 / 24);
    // faststart: the index (moov) comes before the media data (mdat).
    const bytes = Buffer.from(result.video);
    expect(bytes.indexOf("moov")).toBeLessThan(bytes.indexOf("mdat"));

    // Motion happened, and smoothly: the picture changes a little every frame, never in jumps.
    const frames = await grayFrames(path, W, H, [0, 12, 24, 36, 47]);
    expect(meanAbsDiff(frames[0]!, frames[4]!)).toBeGreaterThan(5);
    const steps = [0, 1, 2, 3].map((i) => meanAbsDiff(frames[i]!, frames[i + 1]!));
    for (const step of steps) expect(step).toBeGreaterThan(0.5);
  });

  it("keeps a static clip still: the first and last frame are the same picture", async () => {
    const { path } = await render("static");
    const [first, last] = await grayFrames(path, W, H, [0, 47]);
    expect(meanAbsDiff(first!, last!)).toBeLessThan(1);
  });

  it("renders every LTX camera motion at the exact length", async () => {
    for (const motion of CAMERA_MOTIONS) {
      const { path } = await render(motion, { durationSeconds: 1, fps: 25 });
      const probe = await ffprobe(path, true);
      expect(probe.streams[0], motion).toMatchObject({ codec_name: "h264", width: W, height: H, nb_read_frames: "25" });
    }
  });

  it("moves the camera the way it was asked: dolly left slides the picture right", async () => {
    const { path } = await render("dolly_left");
    const [first, last] = await grayFrames(path, W, H, [0, 47]);
    // Find the horizontal shift that best aligns the last frame onto the first.
    const score = (dx: number) => {
      let sum = 0;
      let n = 0;
      for (let y = 0; y < H; y += 2) for (let x = 40; x < W - 40; x++) {
        sum += Math.abs(first![y * W + x]! - last![y * W + x + dx]!);
        n++;
      }
      return sum / n;
    };
    const shifts = Array.from({ length: 61 }, (_, i) => i - 30);
    const best = shifts.reduce((a, b) => (score(b) < score(a) ? b : a));
    expect(best).toBeGreaterThan(10);
  });

  it("submit/check: submit starts FFmpeg and returns at once; looks say pending, then done when the clip exists; a restart finds it gone", async () => {
    const work = join(dir, "submit-check");
    const generator = createFfmpegVideoGenerator({ workDir: work });
    const req = request("dolly_in", { durationSeconds: 2 });
    const t0 = performance.now();
    const { generationId, model } = await generator.submit(req);
    expect(performance.now() - t0).toBeLessThan(500);
    expect({ generationId, model }).toEqual({ generationId: "offline-job-dolly_in", model: "ffmpeg-offline" });
    expect(await generator.check(generationId)).toMatchObject({ status: "pending" });
    // A second submit of the same job while it runs starts nothing new.
    expect((await generator.submit(req)).generationId).toBe(generationId);

    let done: Awaited<ReturnType<typeof generator.check>> | undefined;
    for (let i = 0; i < 600 && done?.status !== "completed"; i++) {
      done = await generator.check(generationId);
      if (done.status === "pending") await new Promise((r) => setTimeout(r, 50));
    }
    expect(done).toMatchObject({ status: "completed", contentType: "video/mp4", model: "ffmpeg-offline" });
    const path = join(dir, "submit-check.mp4");
    await writeFile(path, (done as { video: Uint8Array }).video);
    const probed = await ffprobe(path, true);
    expect(probed.streams[0]).toMatchObject({ codec_type: "video", width: req.width, height: req.height, nb_read_frames: "48" });

    // The clip was handed over: another process (a restarted runtime) finds nothing running and no clip.
    const restarted = createFfmpegVideoGenerator({ workDir: work });
    expect(await restarted.check(generationId)).toMatchObject({ status: "gone", why: expect.stringMatching(/restarted/) });
  });

  it("submit/check: a failed FFmpeg run is thrown by the next look", async () => {
    const generator = createFfmpegVideoGenerator({ workDir: join(dir, "submit-fail") });
    const { generationId } = await generator.submit(request("dolly_in", { image: { bytes: new TextEncoder().encode("not an image at all") } }));
    let error: unknown;
    for (let i = 0; i < 200 && error === undefined; i++) {
      error = await generator.check(generationId).then((r) => (r.status === "pending" ? undefined : r), (e: unknown) => e);
      if (error === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(error).toBeInstanceOf(FfmpegError);
    expect(error).toMatchObject({ code: "FfmpegFailed", retryable: false });
  });

  it("fails with a permanent FfmpegError carrying FFmpeg's stderr when the image is not an image", async () => {
    const generator = createFfmpegVideoGenerator({ workDir: join(dir, "work") });
    const error = await generator
      .generate(request("dolly_in", { image: { bytes: new TextEncoder().encode("not an image at all") } }), { onSubmitted: async () => {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect(error).toMatchObject({ code: "FfmpegFailed", retryable: false });
    expect((error as FfmpegError).stderrTail.length).toBeGreaterThan(0);
    // Scratch space is cleaned up after failures too.
    expect(await readdir(join(dir, "work"))).toEqual([]);
  });

  it("refuses sizes H.264 4:2:0 cannot encode before running anything", async () => {
    const generator = createFfmpegVideoGenerator({ workDir: join(dir, "work") });
    await expect(generator.generate(request("dolly_in", { width: 271 }), { onSubmitted: async () => {} })).rejects.toBeInstanceOf(InvalidMediaRequestError);
  });

  it("stops promptly when aborted during the simulated latency", async () => {
    const generator = createFfmpegVideoGenerator({ workDir: join(dir, "work"), simulatedLatencyMs: 60_000 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = generator.generate(request("dolly_in"), { onSubmitted: async () => controller.abort(), signal: controller.signal });
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("stops FFmpeg when aborted mid-render", async () => {
    const generator = createFfmpegVideoGenerator({ workDir: join(dir, "work") });
    const controller = new AbortController();
    const pending = generator.generate(request("dolly_in", { durationSeconds: 60, width: 1080, height: 1920 }), {
      onSubmitted: async () => {},
      onProgress: (f) => {
        if (f > 0) controller.abort();
      },
      signal: controller.signal,
    });
    const started = Date.now();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
