import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RenderInputProps } from "@reelbridge/remotion/props";
import type { LocalRenderer } from "../../../src/render";
import { createLocalRenderer, ensureBundle, InvalidRenderInputError, RenderAbortedError } from "../../../src/render";
import { ffprobe, grabGray, keyframeTimes, makeClip, meanDiff, meanVolume } from "./ffmpeg";

// One renderer for the file: the bundle is built (or taken from the cache) once.
const cacheDir = path.join(tmpdir(), "reelbridge-test-render-cache");
let dir: string;
let renderer: LocalRenderer;
let baseClip: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "reelbridge-render-"));
  baseClip = path.join(dir, "base.mp4");
  // Same aspect as the 9:16 composition at scale 0.25, so frames line up pixel for pixel.
  await makeClip(baseClip, { seconds: 2, width: 270, height: 480 });
  renderer = createLocalRenderer({ cacheDir, concurrency: 2 });
});

afterAll(async () => {
  await renderer?.close();
  await rm(dir, { recursive: true, force: true });
});

const props = (over: Partial<RenderInputProps> = {}): RenderInputProps => ({
  title: "Golden hour over the harbour",
  subtitle: "A still photo, brought to life",
  aspect: "9:16",
  baseVideoUrl: pathToFileURL(baseClip).href,
  baseVideoDurationSeconds: 2,
  musicId: "sunrise",
  ...over,
});

describe("local renderer", () => {
  it("renders the vertical reel: h264 + aac, base clip length plus end card, title over the footage, keyframes every 2 s", async () => {
    const out = path.join(dir, "out", "reel.mp4");
    const progress: number[] = [];
    const result = await renderer.render({
      compositionId: "ReelVertical",
      inputProps: props(),
      outputPath: out,
      scale: 0.25,
      onProgress: (p) => progress.push(p.progress),
    });

    expect(result).toMatchObject({ outputPath: out, width: 270, height: 480, fps: 30, durationSeconds: 4 });
    expect(result.sizeBytes).toBeGreaterThan(10_000);
    expect(progress.at(-1)).toBe(1);

    const probe = await ffprobe(out);
    const video = probe.streams.find((s) => s.codec_type === "video");
    const audio = probe.streams.find((s) => s.codec_type === "audio");
    expect(video).toMatchObject({ codec_name: "h264", width: 270, height: 480, avg_frame_rate: "30/1" });
    expect(audio).toMatchObject({ codec_name: "aac", channels: 2 });
    expect(Number(probe.format.duration)).toBeCloseTo(4, 0);

    // The music bed is audible mid-clip and fades: the last half second is much quieter.
    const middle = await meanVolume(out, 1.5, 1);
    expect(middle).toBeGreaterThan(-40);
    expect(await meanVolume(out, 3.6, 0.35)).toBeLessThan(middle - 6);

    expect(await keyframeTimes(out)).toEqual([0, 2]);

    // At 1 s: the lower third (title) differs clearly from the base clip, the clear band above it does not.
    const [w, h] = [270, 480];
    const frame = await grabGray(out, 1, w, h);
    const base = await grabGray(baseClip, 1, w, h);
    const titleBand = meanDiff(frame, base, w, h, 0.62, 0.8);
    const clearBand = meanDiff(frame, base, w, h, 0.2, 0.35);
    expect(titleBand).toBeGreaterThan(25);
    expect(clearBand).toBeLessThan(8);

    // The end card replaces the footage.
    const endCard = await grabGray(out, 3.5, w, h);
    const lastBase = await grabGray(baseClip, 1.9, w, h);
    expect(meanDiff(endCard, lastBase, w, h, 0, 1)).toBeGreaterThan(25);
  });

  it("renders a long right-to-left title with emoji in 16:9 without letting text reach the frame's edges", async () => {
    const plain = path.join(dir, "plain.mp4");
    await makeClip(plain, { seconds: 1, width: 480, height: 270, source: "color=c=0x336699:s=480x270:r=30:d=1" });
    const out = path.join(dir, "landscape.mp4");
    const title = "غروب الشمس الذهبي فوق الميناء القديم حيث تعود قوارب الصيد إلى ديارها بعد يوم طويل في البحر 🌅🚤";
    const result = await renderer.render({
      compositionId: "ReelLandscape",
      inputProps: props({ aspect: "16:9", title, subtitle: "שקיעה זהובה מעל הנמל 🌊", baseVideoUrl: pathToFileURL(plain).href, baseVideoDurationSeconds: 1 }),
      outputPath: out,
      scale: 0.25,
    });
    expect(result).toMatchObject({ width: 480, height: 270, durationSeconds: 3 });

    const [w, h] = [480, 270];
    // At 0.5 s the title and subtitle are fully in (they fade out over the clip's last 8 frames).
    const frame = await grabGray(out, 0.5, w, h);
    // The footage is one flat colour and the scrim only varies from top to bottom, so without
    // text every row is uniform: the outer 5 % on each side must match the row's edge pixel.
    const edge = Math.round(w * 0.05);
    let worst = 0;
    for (let y = 0; y < h; y++) {
      const ref = frame[y * w]!;
      for (const x of [...Array(edge).keys(), ...Array.from({ length: edge }, (_, i) => w - 1 - i)]) {
        worst = Math.max(worst, Math.abs(frame[y * w + x]! - ref));
      }
    }
    expect(worst).toBeLessThan(12);
    // ...while the text is there, inside.
    let inside = 0;
    for (let y = Math.floor(h * 0.4); y < h; y++) {
      for (let x = edge; x < w - edge; x++) inside = Math.max(inside, Math.abs(frame[y * w + x]! - frame[y * w]!));
    }
    expect(inside).toBeGreaterThan(100);
  });

  it("rejects props the composition cannot render, before opening anything", async () => {
    await expect(
      renderer.render({ compositionId: "ReelLandscape", inputProps: props(), outputPath: path.join(dir, "x.mp4") }),
    ).rejects.toBeInstanceOf(InvalidRenderInputError);
    await expect(
      renderer.render({ compositionId: "ReelVertical", inputProps: props({ title: "" }), outputPath: path.join(dir, "x.mp4") }),
    ).rejects.toBeInstanceOf(InvalidRenderInputError);
  });

  it("stops when aborted and leaves no file behind", async () => {
    const out = path.join(dir, "aborted.mp4");
    const controller = new AbortController();
    const pending = renderer.render({
      compositionId: "ReelVertical",
      inputProps: props(),
      outputPath: out,
      scale: 0.25,
      onProgress: (p) => {
        if (p.renderedFrames > 5) controller.abort();
      },
      signal: controller.signal,
    });
    await expect(pending).rejects.toBeInstanceOf(RenderAbortedError);
    await expect(ffprobe(out)).rejects.toThrow();
  });

  it("reuses the bundle on disk across renderers and processes", async () => {
    const started = performance.now();
    const first = await ensureBundle({ cacheDir });
    const second = await ensureBundle({ cacheDir });
    expect(second).toBe(first);
    expect(performance.now() - started).toBeLessThan(5_000);
    await writeFile(path.join(dir, "touch"), "");
  });
});
