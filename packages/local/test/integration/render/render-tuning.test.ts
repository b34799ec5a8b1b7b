// The local renderer's speed settings (issue #15) give the same video as Remotion's defaults:
// the same job rendered with REMOTION_DEFAULT_TUNING (the renderer before: Remotion draws the clip
// in the page) and with today's tuning (the composite: Remotion draws the other layers, FFmpeg the
// clip under them, each distinct overlay captured once; decision 0016), frame by frame
// SSIM ≥ 0.98, at full size and at scale 0.25; and capturing each distinct overlay once gives
// exactly the video that capturing every frame gives.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RenderInputProps } from "@reelbridge/remotion/props";
import type { LocalRenderer } from "../../../src/render";
import { createLocalRenderer, LOCAL_RENDER_TUNING, MediaNotAllowedError, REMOTION_DEFAULT_TUNING } from "../../../src/render";
import { ffprobe, frameHashes, keyframeTimes, makeClip, makeClipFromPhoto, meanVolume, ssimPerFrame } from "./ffmpeg";

const cacheDir = path.join(tmpdir(), "reelbridge-test-render-cache");
let dir: string;
let clip: string;
let before: LocalRenderer;
let after: LocalRenderer;
let everyFrame: LocalRenderer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "reelbridge-render-tuning-"));
  clip = path.join(dir, "media", "base.mp4");
  await mkdir(path.dirname(clip), { recursive: true });
  // Full size, as the LTX step delivers it (the renderer has something to shrink), from the
  // project's sample photo: footage with real-world detail. (A synthetic pattern of one-pixel
  // lines, testsrc2, scores ~0.95: FFmpeg's and Chromium's downscaling differ in such detail.)
  await makeClipFromPhoto(clip, path.resolve(import.meta.dirname, "../../../../../assets/sample/photo.jpg"), { seconds: 1, width: 1080, height: 1920 });
  before = createLocalRenderer({ cacheDir, tuning: REMOTION_DEFAULT_TUNING });
  after = createLocalRenderer({ cacheDir, mediaRoots: [path.dirname(clip)] });
  everyFrame = createLocalRenderer({ cacheDir, tuning: { captureDistinctOnly: false } });
});

afterAll(async () => {
  await before?.close();
  await after?.close();
  await everyFrame?.close();
  await rm(dir, { recursive: true, force: true });
});

const props = (baseVideoUrl: string): RenderInputProps => ({
  title: "Golden hour over the harbour",
  subtitle: "A still photo, brought to life",
  aspect: "9:16",
  baseVideoUrl,
  baseVideoDurationSeconds: 1,
  musicId: "sunrise",
});

describe("local render tuning", () => {
  it("uses x264 veryfast and the composite, capturing each distinct overlay once, unlike Remotion's defaults", () => {
    expect(LOCAL_RENDER_TUNING).toMatchObject({ x264Preset: "veryfast", baseLayer: "composite", captureDistinctOnly: true });
    expect(REMOTION_DEFAULT_TUNING).toMatchObject({ x264Preset: null, shrinkBaseClip: false, concurrency: null, baseLayer: "page", captureDistinctOnly: false });
  });

  it("renders the same frames as Remotion drawing the clip in the page at full size (SSIM ≥ 0.98 on every frame), with the same audio", async () => {
    const a = path.join(dir, "page-full.mp4");
    const b = path.join(dir, "composite-full.mp4");
    const job = { compositionId: "ReelVertical", inputProps: props(pathToFileURL(clip).href) };
    await before.render({ ...job, outputPath: a });
    const result = await after.render({ ...job, outputPath: b });
    expect(result).toMatchObject({ width: 1080, height: 1920, durationSeconds: 3 });
    const [pageStreams, compositeStreams] = [(await ffprobe(a)).streams, (await ffprobe(b)).streams];
    const video = compositeStreams.find((s) => s.codec_type === "video");
    // Full range, like Remotion's own output (its frames are JPEGs).
    expect(video).toMatchObject({ codec_name: "h264", width: 1080, height: 1920, pix_fmt: pageStreams.find((s) => s.codec_type === "video")?.pix_fmt });
    expect(compositeStreams.find((s) => s.codec_type === "audio")).toMatchObject({ codec_name: "aac" });
    expect(Math.abs((await meanVolume(b)) - (await meanVolume(a)))).toBeLessThan(0.5);
    expect(await keyframeTimes(b)).toEqual([0, 2]);

    const ssim = await ssimPerFrame(b, a, path.join(dir, "ssim-full.log"));
    expect(ssim).toHaveLength(90);
    for (const frame of [0, 6, 15, 29, 30, 45, 60, 89]) expect(ssim[frame]).toBeGreaterThanOrEqual(0.98);
    expect(Math.min(...ssim)).toBeGreaterThanOrEqual(0.98);
  });

  it("gives exactly the video of capturing every frame when it captures each distinct overlay once", async () => {
    const a = path.join(dir, "every-frame.mp4");
    const b = path.join(dir, "distinct.mp4");
    const job = { compositionId: "ReelVertical", inputProps: props(pathToFileURL(clip).href), scale: 0.25 };
    await everyFrame.render({ ...job, outputPath: a });
    await after.render({ ...job, outputPath: b });
    const [fa, fb] = [await frameHashes(a), await frameHashes(b)];
    expect(fa).toHaveLength(90);
    expect(fb).toEqual(fa);
  });

  it("renders the same frames as Remotion's default settings at scale 0.25 (SSIM ≥ 0.98 on every frame)", async () => {
    const a = path.join(dir, "before.mp4");
    const b = path.join(dir, "after.mp4");
    const job = { compositionId: "ReelVertical", inputProps: props(pathToFileURL(clip).href), scale: 0.25 };
    await before.render({ ...job, outputPath: a });
    const result = await after.render({ ...job, outputPath: b });
    expect(result).toMatchObject({ width: 270, height: 480, durationSeconds: 3 });
    const video = (await ffprobe(b)).streams.find((s) => s.codec_type === "video");
    expect(video).toMatchObject({ codec_name: "h264", width: 270, height: 480 });

    const ssim = await ssimPerFrame(b, a, path.join(dir, "ssim.log"));
    expect(ssim).toHaveLength(90);
    // The title fading in over the clip, the clip under the title, its last frame, the end card.
    for (const frame of [6, 15, 29, 60, 89]) expect(ssim[frame]).toBeGreaterThanOrEqual(0.98);
    expect(Math.min(...ssim)).toBeGreaterThanOrEqual(0.98);
  });

  it("still refuses a base clip outside the media roots before reading it", async () => {
    const outside = path.join(dir, "outside.mp4");
    await makeClip(outside, { seconds: 1, width: 1080, height: 1920 });
    await expect(
      after.render({ compositionId: "ReelVertical", inputProps: props(pathToFileURL(outside).href), outputPath: path.join(dir, "refused.mp4"), scale: 0.25 }),
    ).rejects.toBeInstanceOf(MediaNotAllowedError);
    await expect(ffprobe(path.join(dir, "refused.mp4"))).rejects.toThrow();
  });
});
