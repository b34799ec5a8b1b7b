// The local runtime's renderer: the same compositions Remotion Lambda renders, rendered on this
// machine with the system Chromium. One bundle (cached on disk), one browser and one media
// server are shared by every render of a renderer.
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CancelSignal, ChromiumOptions, FfmpegOverrideFn, LogLevel, X264Preset } from "@remotion/renderer";
import { makeCancelSignal, openBrowser, renderFrames, renderMedia, selectComposition } from "@remotion/renderer";
import { defaultFfmpegPath, runTool } from "@reelbridge/core/adapters/ffmpeg/run";
import type { ReelLayers } from "@reelbridge/remotion/base-layer";
import type { RenderInputProps } from "@reelbridge/remotion/props";
import { COMPOSITIONS, DIMENSIONS, FPS, KEYFRAME_INTERVAL_SECONDS, baseClipFrames, renderInputPropsSchema } from "@reelbridge/remotion/props";
import { shrinkClip } from "./base-clip";
import { overlayRuns, startComposite } from "./composite";
import { ensureBundle } from "./bundle-cache";
import type { MediaServer } from "./media-server";
import { startMediaServer } from "./media-server";

export const DEFAULT_BROWSER_EXECUTABLE = "/usr/bin/chromium";

export type LocalRendererOptions = {
  /** Default /usr/bin/chromium. Remotion never downloads a browser here. */
  browserExecutable?: string;
  /** Where the bundle is cached (shared by processes using the same folder). */
  cacheDir: string;
  /** Browser tabs per render; default LOCAL_RENDER_TUNING's. Overrides `tuning.concurrency`. */
  concurrency?: number;
  /** How renders spend the machine; default LOCAL_RENDER_TUNING (REMOTION_DEFAULT_TUNING: as before issue #15). */
  tuning?: Partial<RenderTuning>;
  /**
   * How long a frame may wait for its media (Remotion's delayRender timeout). Remotion's 30 s
   * default is too short on a busy 2-core machine with several renders at once: 120 s.
   */
  delayRenderTimeoutMs?: number;
  /** If set, only media files inside these directories may be referenced by file:// URLs. */
  mediaRoots?: string[];
  /** The Remotion project; default the workspace's remotion/. */
  remotionRoot?: string;
  logLevel?: LogLevel;
};

export type RenderProgress = { progress: number; renderedFrames: number; encodedFrames: number };

export type LocalRenderOptions = {
  compositionId: string;
  /** Media URLs may be file:// URLs: the renderer serves those files to the browser itself. */
  inputProps: RenderInputProps;
  outputPath: string;
  /** Render scale (0.25 gives a quarter-size preview); default 1. */
  scale?: number;
  onProgress?: (p: RenderProgress) => void;
  signal?: AbortSignal;
};

export type LocalRenderResult = {
  outputPath: string;
  sizeBytes: number;
  durationSeconds: number;
  width: number;
  height: number;
  fps: number;
  timeToFinishMs: number;
};

export type LocalRenderer = {
  render(opts: LocalRenderOptions): Promise<LocalRenderResult>;
  close(): Promise<void>;
};

/** Props that do not satisfy the composition's schema, or a composition that does not fit them. */
export class InvalidRenderInputError extends Error {
  override name = "InvalidRenderInputError";
  readonly code = "INVALID_RENDER_INPUT";
}

export class RenderAbortedError extends Error {
  override name = "AbortError";
  readonly code = "RENDER_ABORTED";
}

/**
 * What the renderer passes to Chromium on top of Remotion's own flags (which already include
 * --no-sandbox, --disable-background-networking, --no-pings, --disable-component-update).
 * The system Chromium has no old headless mode, so chromeMode is "chrome-for-testing".
 */
// gl: null adds no --use-gl/--use-angle flag: Chromium composites in software by itself. With
// "swangle" (SwiftShader through ANGLE) the same frames took 5 times longer on a 2-core machine.
export const CHROMIUM_OPTIONS: ChromiumOptions = { gl: null, headless: true };
const CHROME_MODE = "chrome-for-testing" as const;

/** Keyframes exactly every KEYFRAME_INTERVAL_SECONDS, so the segmenter cuts without re-encoding. */
export const GOP_SIZE = FPS * KEYFRAME_INTERVAL_SECONDS;
/** x264's constant rate factor: Remotion's default for h264 (18), set explicitly so both modes share it. */
export const X264_CRF = 18;

// Remotion's gopSize sets x264's maximum interval (-g); scene cuts could still add keyframes
// and shift the grid. keyint_min = g and no scene-cut detection pin it to every GOP_SIZE frames.
export const fixedKeyframes: FfmpegOverrideFn = ({ args }) => {
  const g = args.indexOf("-g");
  if (g < 0) return args;
  return [...args.slice(0, g + 2), "-keyint_min", String(GOP_SIZE), "-sc_threshold", "0", ...args.slice(g + 2)];
};

/**
 * How a local render spends the machine: the renderMedia options that trade CPU for speed
 * without changing the composition (docs/decisions/0014-local-render-speed.md). Remotion Lambda
 * keeps Remotion's defaults (the render step's adapter sets none of these).
 */
export type RenderTuning = {
  /** Browser tabs rendering frames at once; null = Remotion's default, half the CPUs. */
  concurrency: number | null;
  /** x264's preset; null = x264's default (medium). */
  x264Preset: X264Preset | null;
  /** Quality of the JPEG frames Chromium captures (Remotion's default 80). */
  jpegQuality: number;
  /** Threads Remotion's compositor may use to extract <OffthreadVideo> frames; null = Remotion's (2). */
  offthreadVideoThreads: number | null;
  /**
   * At scale < 1, shrink the base clip (a file:// or http(s) URL) to the size it is drawn at
   * before the render (base-clip.ts): <OffthreadVideo> then moves scale² as many bytes per frame.
   */
  shrinkBaseClip: boolean;
  /**
   * Where the base clip is drawn: "page" = in Chromium, as Remotion Lambda does (<OffthreadVideo>);
   * "composite" = Remotion renders the other layers on transparent and FFmpeg draws the clip under
   * them (composite.ts, decision 0016).
   */
  baseLayer: "page" | "composite";
  /** In the composite, capture each distinct overlay once (frames that draw the same, timeline.ts). */
  captureDistinctOnly: boolean;
};

/** What the local renderer did before issue #15: Remotion's defaults. */
export const REMOTION_DEFAULT_TUNING: RenderTuning = {
  concurrency: null,
  x264Preset: null,
  jpegQuality: 80,
  offthreadVideoThreads: null,
  shrinkBaseClip: false,
  baseLayer: "page",
  captureDistinctOnly: false,
};

/**
 * What the local renderer uses, measured with bench/render-speed.ts on 2 cores (decision 0014):
 * x264 "veryfast" halves the encoder's CPU per frame at the same picture (SSIM ≥ 0.99 against
 * Remotion's default "medium"); a second browser tab per render more than doubled Chromium's CPU
 * per frame and was slower, so concurrency stays Remotion's (half the CPUs: 1 tab on 2 cores).
 * The composite, capturing each distinct overlay once (decision 0016), took the default job from
 * ~9× to ~2.9× an FFmpeg composite of the same clip. shrinkBaseClip only matters in page mode.
 */
export const LOCAL_RENDER_TUNING: RenderTuning = { ...REMOTION_DEFAULT_TUNING, x264Preset: "veryfast", shrinkBaseClip: true, baseLayer: "composite", captureDistinctOnly: true };

const MEDIA_FIELDS = ["baseVideoUrl", "musicUrl", "logoUrl"] as const;

export const createLocalRenderer = (options: LocalRendererOptions): LocalRenderer => {
  const browserExecutable = options.browserExecutable ?? DEFAULT_BROWSER_EXECUTABLE;
  const logLevel = options.logLevel ?? "error";
  const tuning: RenderTuning = { ...LOCAL_RENDER_TUNING, ...options.tuning, ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}) };
  let closed = false;
  let serveUrl: Promise<string> | null = null;
  let browser: ReturnType<typeof openBrowser> | null = null;
  let media: Promise<MediaServer> | null = null;

  // Each shared resource starts on first use; a failed start is retried by the next render.
  const once = <T>(get: () => Promise<T> | null, set: (p: Promise<T> | null) => void, start: () => Promise<T>): Promise<T> => {
    const existing = get();
    if (existing) return existing;
    const p = start();
    set(p);
    p.catch(() => set(null));
    return p;
  };
  const getBundle = () => once(() => serveUrl, (p) => (serveUrl = p), () => ensureBundle({ cacheDir: options.cacheDir, remotionRoot: options.remotionRoot }));
  const getBrowser = () =>
    once(() => browser, (p) => (browser = p), () => openBrowser("chrome", { browserExecutable, chromiumOptions: CHROMIUM_OPTIONS, chromeMode: CHROME_MODE, logLevel }));
  const getMedia = () => once(() => media, (p) => (media = p), () => startMediaServer({ allowedRoots: options.mediaRoots }));

  const render = async ({ compositionId, inputProps, outputPath, scale = 1, onProgress, signal }: LocalRenderOptions): Promise<LocalRenderResult> => {
    if (closed) throw new Error("the renderer is closed");
    const started = performance.now();
    signal?.throwIfAborted();

    // file:// media become URLs on our media server for the duration of this render.
    const served: string[] = [];
    // The shrunk clip's URL, on the media server (started for it if no file:// media needed it).
    const servedBy: string[] = [];
    const server = MEDIA_FIELDS.some((f) => inputProps[f]?.startsWith("file:")) ? await getMedia() : null;
    const tmp = path.join(path.dirname(outputPath), `.${path.basename(outputPath, ".mp4")}.${randomBytes(4).toString("hex")}.mp4`);
    const smallClip = `${tmp}.base.mp4`;
    const { cancel, cancelSignal } = makeCancelSignal();
    const onAbort = () => cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const props: Record<string, unknown> = { ...inputProps };
      for (const field of MEDIA_FIELDS) {
        const value = inputProps[field];
        // register() refuses files outside mediaRoots before anything reads them.
        if (server && value?.startsWith("file:")) {
          const url = await server.register(fileURLToPath(value));
          served.push(url);
          props[field] = url;
        }
      }
      // A preview: the base clip (a file registered above, or an http(s) URL such as the local S3
      // endpoint's presigned GET) shrunk to the size it is drawn at, served from our media server.
      const clipUrl = props.baseVideoUrl;
      if (tuning.baseLayer === "page" && tuning.shrinkBaseClip && scale < 1 && inputProps.aspect in DIMENSIONS && typeof clipUrl === "string" && /^https?:\/\//.test(clipUrl)) {
        const { width, height } = DIMENSIONS[inputProps.aspect];
        await mkdir(path.dirname(outputPath), { recursive: true });
        // Only a faster way to the same frames: if FFmpeg cannot shrink it, the original is used.
        const shrunk = await shrinkClip(clipUrl, smallClip, { width: Math.round(width * scale), height: Math.round(height * scale) }, signal).catch((err: unknown) => {
          if (signal?.aborted) throw err;
          return false;
        });
        if (shrunk) {
          const url = await (server ?? (await getMedia())).register(smallClip, { ownFile: true });
          servedBy.push(url);
          props.baseVideoUrl = url;
        }
      }
      const parsed = renderInputPropsSchema.safeParse(props);
      if (!parsed.success) throw new InvalidRenderInputError(`invalid input props: ${parsed.error.message}`, { cause: parsed.error });
      if (COMPOSITIONS[parsed.data.aspect] !== compositionId) {
        throw new InvalidRenderInputError(`composition ${compositionId} does not render aspect ${parsed.data.aspect} (use ${COMPOSITIONS[parsed.data.aspect]})`);
      }

      const [bundleDir, puppeteerInstance] = await Promise.all([getBundle(), getBrowser()]);
      signal?.throwIfAborted();
      const common = {
        serveUrl: bundleDir,
        inputProps: parsed.data,
        puppeteerInstance,
        browserExecutable,
        chromiumOptions: CHROMIUM_OPTIONS,
        chromeMode: CHROME_MODE,
        logLevel,
        timeoutInMilliseconds: options.delayRenderTimeoutMs ?? 120_000,
      };
      const composition = await selectComposition({ ...common, id: compositionId });
      signal?.throwIfAborted();

      await mkdir(path.dirname(outputPath), { recursive: true });
      if (tuning.baseLayer === "composite") {
        await renderComposite({
          common: { ...common, composition, scale, concurrency: tuning.concurrency, cancelSignal },
          props: parsed.data,
          // FFmpeg reads the clip itself: a file (checked against mediaRoots when it was registered) or the URL.
          baseClip: inputProps.baseVideoUrl.startsWith("file:") ? fileURLToPath(inputProps.baseVideoUrl) : parsed.data.baseVideoUrl,
          tmp,
          tuning,
          onProgress,
          signal,
        });
      } else await renderMedia({
        ...common,
        composition,
        codec: "h264",
        audioCodec: "aac",
        enforceAudioTrack: true,
        crf: X264_CRF,
        gopSize: GOP_SIZE,
        ffmpegOverride: fixedKeyframes,
        scale,
        concurrency: tuning.concurrency,
        x264Preset: tuning.x264Preset,
        jpegQuality: tuning.jpegQuality,
        offthreadVideoThreads: tuning.offthreadVideoThreads,
        outputLocation: tmp,
        overwrite: true,
        cancelSignal,
        onProgress: onProgress
          ? ({ progress, renderedFrames, encodedFrames }) => onProgress({ progress, renderedFrames, encodedFrames })
          : undefined,
      });
      signal?.throwIfAborted();
      // Only a finished file ever appears at outputPath.
      await rename(tmp, outputPath);
      const { size } = await stat(outputPath);
      return {
        outputPath,
        sizeBytes: size,
        durationSeconds: composition.durationInFrames / composition.fps,
        width: Math.round(evenBase(composition.width, scale) * scale),
        height: Math.round(evenBase(composition.height, scale) * scale),
        fps: composition.fps,
        timeToFinishMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      if (signal?.aborted) throw new RenderAbortedError("the render was aborted", { cause: err });
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      for (const url of served) server?.unregister(url);
      if (servedBy.length) for (const url of servedBy) (await getMedia()).unregister(url);
      await rm(tmp, { force: true });
      await rm(smallClip, { force: true });
    }
  };

  return {
    render,
    async close() {
      closed = true;
      const [b, m] = await Promise.allSettled([browser, media]);
      browser = null;
      media = null;
      if (b.status === "fulfilled" && b.value) await b.value.close({ silent: true });
      if (m.status === "fulfilled" && m.value) await m.value.close();
    },
  };
};

// Remotion rounds h264 dimensions down until they are even at the render scale.
const evenBase = (size: number, scale: number): number => {
  let s = size;
  while (Math.round(s * scale) % 2 !== 0) s--;
  return s;
};

type CompositeRender = {
  /** What renderFrames and renderMedia share: the bundle, browser and composition of this render. */
  common: {
    serveUrl: string;
    puppeteerInstance: Awaited<ReturnType<typeof openBrowser>>;
    browserExecutable: string;
    chromiumOptions: ChromiumOptions;
    chromeMode: typeof CHROME_MODE;
    logLevel: LogLevel;
    timeoutInMilliseconds: number;
    composition: Awaited<ReturnType<typeof selectComposition>>;
    scale: number;
    concurrency: number | null;
    cancelSignal: CancelSignal;
  };
  props: RenderInputProps;
  baseClip: string;
  /** The render's temporary output; the composite's parts lie next to it. */
  tmp: string;
  tuning: RenderTuning;
  onProgress: ((p: RenderProgress) => void) | undefined;
  signal: AbortSignal | undefined;
};

/**
 * The composite (composite.ts): Remotion renders every layer but the base clip as transparent PNG
 * frames, streamed to FFmpeg, which draws the clip under them and encodes; once the frames are
 * captured, Remotion renders the audio on its own (an audio-only renderMedia: no screenshots, the
 * same mix as a full render) while FFmpeg finishes, and the two are muxed into `tmp`.
 */
const renderComposite = async ({ common, props, baseClip, tmp, tuning, onProgress, signal }: CompositeRender): Promise<void> => {
  const { composition, scale } = common;
  const width = evenBase(composition.width, scale);
  const height = evenBase(composition.height, scale);
  const totalFrames = composition.durationInFrames;
  const video = `${tmp}.video.mp4`;
  const audio = `${tmp}.audio.aac`;
  // FFmpeg stops with the render: on abort, and when Remotion fails.
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  // Each distinct overlay is captured once (timeline.ts); FFmpeg gets every frame.
  const runs = tuning.captureDistinctOnly ? overlayRuns(totalFrames, composition.fps, props.baseVideoDurationSeconds) : Array.from({ length: totalFrames }, (_, frame) => ({ frame, frames: 1 }));
  const encoder = startComposite(
    {
      baseClip,
      width: Math.round(width * scale),
      height: Math.round(height * scale),
      fps: composition.fps,
      baseFrames: Math.min(totalFrames, baseClipFrames(props.baseVideoDurationSeconds)),
      totalFrames,
      encoder: { preset: tuning.x264Preset, crf: X264_CRF, gopSize: GOP_SIZE },
    },
    runs,
    video,
    stop.signal,
  );
  let rendered = 0;
  const report = () =>
    onProgress?.({ progress: Math.round((70 * rendered + 30 * encoder.written) / totalFrames) / 100, renderedFrames: rendered, encodedFrames: encoder.written });
  // The component receives the composition's resolved props (calculateMetadata's), not inputProps.
  const overlay = { ...composition, props: { ...composition.props, layers: "overlay" satisfies ReelLayers } };
  try {
    const captured = renderFrames({
      ...common,
      composition: { ...overlay, width, height },
      inputProps: overlay.props,
      imageFormat: "png",
      frames: runs.map((r) => r.frame),
      outputDir: null,
      onStart: () => undefined,
      onFrameUpdate: (_captured, frame) => {
        rendered += runs.find((r) => r.frame === frame)?.frames ?? 1;
        report();
      },
      onFrameBuffer: (png, frame) => encoder.write(frame, png),
    });
    // The audio once every overlay is captured, while FFmpeg finishes encoding (before, it would
    // compete with the first captures for the CPU).
    const sound = captured.then(() =>
      renderMedia({ ...common, composition: overlay, inputProps: overlay.props, codec: "aac", audioCodec: "aac", enforceAudioTrack: true, outputLocation: audio, overwrite: true }),
    );
    await Promise.all([captured.then(() => encoder.finish()), sound]).catch((err: unknown) => {
      stop.abort(err);
      throw err;
    });
    report();
    await runTool(
      defaultFfmpegPath(),
      ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", video, "-i", audio, "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", tmp],
      { timeoutMs: 120_000, ...(signal ? { signal } : {}) },
    );
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await encoder.finish().catch(() => undefined);
    await rm(video, { force: true });
    await rm(audio, { force: true });
  }
};
