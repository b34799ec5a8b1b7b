// Local render throughput for the default 9:16 job (a 2 s base clip + the 2 s end card = 120
// frames), at preview scale (0.5) and full resolution, and the step's overhead: the local
// renderer's render() against a bare selectComposition + renderMedia call on the same bundle,
// browser and encoder settings (target < 5 %). The bundle comes from the cache (built once).
// Prints one JSON line per figure: {"name","value","unit"}. Takes 3-5 minutes on 2 cores.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { RenderInputProps } from "@reelbridge/remotion/props";
import { COMPOSITIONS } from "@reelbridge/remotion/props";
import { ensureBundle } from "@reelbridge/local/render/bundle-cache";
import { startMediaServer } from "@reelbridge/local/render/media-server";
import { makeCancelSignal, openBrowser, renderMedia, selectComposition } from "@reelbridge/local/render/remotion-renderer";
import { CHROMIUM_OPTIONS, DEFAULT_BROWSER_EXECUTABLE, GOP_SIZE, LOCAL_RENDER_TUNING, createLocalRenderer, fixedKeyframes } from "@reelbridge/local/render/renderer";

const exec = promisify(execFile);
const print = (name: string, value: number, unit: string) => console.log(JSON.stringify({ name, value: Math.round(value * 100) / 100, unit }));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cacheDir = process.env.REELBRIDGE_CACHE_DIR ?? path.join(tmpdir(), "reelbridge-render-cache");
const concurrency = Number(process.env.RENDER_CONCURRENCY ?? 2);
const dir = await mkdtemp(path.join(tmpdir(), "reelbridge-bench-render-"));
// Like for like: the bare call gets the renderer's encoder setting, and the renderer does not
// shrink the clip at 0.5 (bench/render-speed.ts measures that).
const renderer = createLocalRenderer({ cacheDir, concurrency, tuning: { shrinkBaseClip: false } });
const browser = await openBrowser("chrome", { browserExecutable: DEFAULT_BROWSER_EXECUTABLE, chromiumOptions: CHROMIUM_OPTIONS, chromeMode: "chrome-for-testing" });
const media = await startMediaServer();
try {
  const base = path.join(dir, "base.mp4");
  await exec("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1080x1920:r=30:d=2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", base]);
  const props: RenderInputProps = {
    title: "Golden hour over the harbour",
    subtitle: "A still photo, brought to life",
    aspect: "9:16",
    baseVideoUrl: pathToFileURL(base).href,
    baseVideoDurationSeconds: 2,
    musicId: "sunrise",
  };
  const compositionId = COMPOSITIONS["9:16"];

  let t = performance.now();
  const serveUrl = await ensureBundle({ cacheDir });
  print("render.bundle.ensure_ms", performance.now() - t, "ms");

  const local = async (scale: number, name: string) => {
    const r = await renderer.render({ compositionId, inputProps: props, outputPath: path.join(dir, `${name}.mp4`), scale });
    return { ms: r.timeToFinishMs, frames: r.durationSeconds * r.fps };
  };
  const bare = async (scale: number, name: string) => {
    const started = performance.now();
    const url = await media.register(base);
    const inputProps = { ...props, baseVideoUrl: url };
    const common = { serveUrl, inputProps, puppeteerInstance: browser, browserExecutable: DEFAULT_BROWSER_EXECUTABLE, chromiumOptions: CHROMIUM_OPTIONS, chromeMode: "chrome-for-testing" as const, logLevel: "error" as const };
    const composition = await selectComposition({ ...common, id: compositionId });
    await renderMedia({
      ...common, composition, codec: "h264", audioCodec: "aac", enforceAudioTrack: true, gopSize: GOP_SIZE, ffmpegOverride: fixedKeyframes, x264Preset: LOCAL_RENDER_TUNING.x264Preset,
      scale, concurrency, outputLocation: path.join(dir, `${name}.mp4`), overwrite: true, cancelSignal: makeCancelSignal().cancelSignal,
    });
    media.unregister(url);
    return { ms: performance.now() - started, frames: composition.durationInFrames };
  };

  // Warm both paths once (browser pages, compositor, OS caches), then alternate.
  await local(0.25, "warm-local");
  await bare(0.25, "warm-bare");
  const localRuns: number[] = [];
  const bareRuns: number[] = [];
  let frames = 0;
  for (let i = 0; i < 2; i++) {
    const b = await bare(0.5, `bare-${i}`);
    const l = await local(0.5, `local-${i}`);
    bareRuns.push(b.ms);
    localRuns.push(l.ms);
    frames = l.frames;
  }
  print("render.local.preview_fps", frames / (median(localRuns) / 1000), "frames/s");
  print("render.bare.preview_fps", frames / (median(bareRuns) / 1000), "frames/s");
  print("render.local.overhead", ((median(localRuns) - median(bareRuns)) / median(bareRuns)) * 100, "%");

  t = performance.now();
  const full = await local(1, "full");
  print("render.local.full_fps", full.frames / (full.ms / 1000), "frames/s");
  print("render.local.full_seconds_per_video_second", full.ms / 1000 / (full.frames / 30), "s/s");
} finally {
  await renderer.close();
  await browser.close({ silent: true });
  await media.close();
  await rm(dir, { recursive: true, force: true });
}
