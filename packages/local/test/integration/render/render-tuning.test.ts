// The local renderer's speed settings (issue #15) give the same video as Remotion's defaults:
// the same job rendered with REMOTION_DEFAULT_TUNING (the renderer before) and with today's
// tuning, frame by frame SSIM ≥ 0.98. At scale 0.25, where the base clip is shrunk first.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RenderInputProps } from "@reelbridge/remotion/props";
import type { LocalRenderer } from "../../../src/render";
import { createLocalRenderer, LOCAL_RENDER_TUNING, MediaNotAllowedError, REMOTION_DEFAULT_TUNING } from "../../../src/render";
import { ffprobe, makeClip, makeClipFromPhoto, ssimPerFrame } from "./ffmpeg";

const cacheDir = path.join(tmpdir(), "reelbridge-test-render-cache");
let dir: string;
let clip: string;
let before: LocalRenderer;
let after: LocalRenderer;

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
});

afterAll(async () => {
  await before?.close();
  await after?.close();
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
  it("uses x264 veryfast and shrinks the base clip at preview scale, unlike Remotion's defaults", () => {
    expect(LOCAL_RENDER_TUNING).toMatchObject({ x264Preset: "veryfast", shrinkBaseClip: true });
    expect(REMOTION_DEFAULT_TUNING).toMatchObject({ x264Preset: null, shrinkBaseClip: false, concurrency: null });
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

  it("still refuses a base clip outside the media roots before shrinking it", async () => {
    const outside = path.join(dir, "outside.mp4");
    await makeClip(outside, { seconds: 1, width: 1080, height: 1920 });
    await expect(
      after.render({ compositionId: "ReelVertical", inputProps: props(pathToFileURL(outside).href), outputPath: path.join(dir, "refused.mp4"), scale: 0.25 }),
    ).rejects.toBeInstanceOf(MediaNotAllowedError);
    await expect(ffprobe(path.join(dir, "refused.mp4"))).rejects.toThrow();
  });
});
