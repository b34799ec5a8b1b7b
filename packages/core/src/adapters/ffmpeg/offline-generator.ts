import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FfmpegError, InvalidMediaRequestError } from "../../media/errors";
import { sniffImageFormat } from "../../media/image";
import { abortReason, defaultFfmpegPath, num, runTool } from "./run";

import type { GenerationCheck, GenerationRequest, VideoGenerator } from "../../ports";

export type { GenerationCheck, GenerationRequest, VideoGenerator };

/** What a whole offline generation returns (`generate`: the clip, made in one call). */
export interface GeneratedVideo {
  generationId: string;
  video: Uint8Array;
  contentType: "video/mp4";
  model?: string;
}

/** Options of one whole generation (`generate`). */
export interface GenerateOptions {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Told the generation's id before FFmpeg starts (the deterministic offlineGenerationId). */
  onSubmitted?: (generationId: string) => Promise<void>;
}

/**
 * The FFmpeg generator as a VideoGenerator (submit/check, docs/decisions/0010) and as a plain
 * function (`generate`: the clip in one call, for the fake LTX server and the benchmarks).
 */
export interface OfflineVideoGenerator extends VideoGenerator {
  generate(req: GenerationRequest, opts?: GenerateOptions): Promise<GeneratedVideo>;
}

export interface FfmpegVideoGeneratorOptions {
  ffmpegPath?: string;
  /** Scratch space; each generation works in its own subdirectory and removes it. */
  workDir: string;
  /** Pretend to be a remote model: wait this long before rendering (abortable). */
  simulatedLatencyMs?: number;
  /** Submit/check: when to look first, then between looks (default 2 s / 1 s: a clip takes a few seconds). */
  checkIntervalSeconds?: { first: number; next: number };
  /** Progress of a running submitted generation (the local runtime's progress bar). */
  onProgress?: (p: { jobId: string; fraction: number }) => void;
  /** x264 preset; "veryfast" renders a 6 s 1080×1920 clip in a few seconds on 2 cores. */
  preset?: string;
  crf?: number;
  timeoutMs?: number;
}

/** How far the camera travels. Small on purpose: the base clip sits under titles and branding. */
export const MOTION = {
  /** dolly in/out: zoom from 1 to 1 + zoom. */
  zoom: 0.15,
  /** dolly left/right, jib up/down: zoom held here, the window travels across the margin. */
  panZoom: 1.12,
  /** focus_shift: the photo starts this blurred (Gaussian sigma, px at 1080p) and comes into focus. */
  focusSigma: 6,
} as const;

/** What the offline generator reports as its "model", so records show the clip was not LTX's. */
export const OFFLINE_MODEL = "ffmpeg-offline";

export function offlineGenerationId(jobId: string): string {
  return `offline-${jobId}`;
}

/**
 * Submit/check on one machine: `submit` starts FFmpeg in this process and returns at once; its
 * clip is written to `<workDir>/done/<generationId>.mp4` (renamed into place when complete), and
 * `check` reports it done when that file exists, pending while this process is making it, and
 * gone when neither (the process that made it restarted: the caller submits again). A failed
 * FFmpeg run is thrown by the next check. The generation id is deterministic per job, so a
 * second submit of the same job while one runs or after it finished starts nothing new.
 *
 * In Lambda a process is frozen between invocations, so FFmpeg started by one invocation only
 * progresses while another runs: the offline provider is for the embedded runtime and tests; AWS
 * stages use LTX (docs/decisions/0010).
 */

/**
 * The embedded image-to-video "model": FFmpeg animates the normalised photo with the requested
 * camera move, honouring the same output contract as LTX (H.264 high, yuv420p, exact size, fps
 * and duration, no audio, faststart).
 *
 * Motion uses the `perspective` filter evaluated per frame: it samples the source at sub-pixel
 * positions (1/256 px, bilinear), so zooms and pans glide instead of stepping a pixel at a
 * time as `zoompan` does, and it works at output size (no 4× upscale to hide the jitter).
 * Everything that does not change over time (scaling, cropping, blurring) runs once on the
 * still before it is looped into frames.
 */
export function createFfmpegVideoGenerator(opts: FfmpegVideoGeneratorOptions): OfflineVideoGenerator {
  const ffmpeg = opts.ffmpegPath ?? defaultFfmpegPath();
  const preset = opts.preset ?? "veryfast";
  const crf = opts.crf ?? 20;
  const doneDir = join(opts.workDir, "done");
  const donePath = (id: string) => join(doneDir, `${id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 120)}.mp4`);
  /** Generations this process is making (or whose FFmpeg failed, until a check reports it). */
  const running = new Map<string, { fraction: number; error?: unknown; done?: boolean }>();

  const generator: OfflineVideoGenerator = {
    name: OFFLINE_MODEL,
    checkIntervalSeconds: opts.checkIntervalSeconds ?? { first: 2, next: 1 },
    async submit(req) {
      validate(req);
      const generationId = offlineGenerationId(req.jobId);
      const current = running.get(generationId);
      if (current && !current.error) return { generationId, model: OFFLINE_MODEL };
      const entry: { fraction: number; error?: unknown; done?: boolean } = { fraction: 0 };
      running.set(generationId, entry);
      void generator
        .generate(req, { onProgress: (f) => { entry.fraction = f; opts.onProgress?.({ jobId: req.jobId, fraction: f }); } })
        .then(async (out) => {
          await mkdir(doneDir, { recursive: true });
          const tmp = `${donePath(generationId)}.${process.pid}.part`;
          await writeFile(tmp, out.video);
          await rename(tmp, donePath(generationId));
          entry.done = true;
        })
        .catch((error: unknown) => {
          entry.error = error;
        });
      return { generationId, model: OFFLINE_MODEL };
    },
    async check(generationId): Promise<GenerationCheck> {
      const entry = running.get(generationId);
      if (entry?.error) {
        running.delete(generationId);
        throw entry.error;
      }
      try {
        const video = await readFile(donePath(generationId));
        running.delete(generationId);
        await rm(donePath(generationId), { force: true });
        return { status: "completed", video: new Uint8Array(video.buffer, video.byteOffset, video.byteLength), contentType: "video/mp4", model: OFFLINE_MODEL };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
      if (entry) return { status: "pending", providerStatus: "processing", progress: entry.fraction };
      return { status: "gone", why: `offline generation ${generationId} is not running in this process and left no clip (the runtime restarted)` };
    },
    async generate(req, hooks = {}) {
      validate(req);
      const { signal } = hooks;
      const generationId = offlineGenerationId(req.jobId);
      await hooks.onSubmitted?.(generationId);
      if (signal?.aborted) throw abortReason(signal);
      if (opts.simulatedLatencyMs) await sleep(opts.simulatedLatencyMs, undefined, signal ? { signal } : undefined).catch(() => {
        throw signal?.aborted ? abortReason(signal) : new Error("simulated latency interrupted");
      });

      await mkdir(opts.workDir, { recursive: true });
      const dir = await mkdtemp(join(opts.workDir, `${req.jobId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64)}-`));
      try {
        const format = sniffImageFormat(req.image.bytes);
        const input = join(dir, `input.${format === "png" ? "png" : format === "webp" ? "webp" : "jpg"}`);
        const output = join(dir, "base.mp4");
        await writeFile(input, req.image.bytes);

        const frames = Math.round(req.durationSeconds * req.fps);
        const args = [
          "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
          "-i", input,
          "-filter_complex", buildFilterGraph(req, frames),
          "-map", "[v]",
          "-an", "-sn", "-dn",
          "-map_metadata", "-1",
          "-c:v", "libx264", "-preset", preset, "-crf", String(crf),
          "-profile:v", "high", "-pix_fmt", "yuv420p",
          "-r", String(req.fps), "-frames:v", String(frames),
          "-g", String(Math.max(1, Math.round(req.fps * 2))),
          "-movflags", "+faststart",
          "-progress", "pipe:1",
          output,
        ];
        let frame = 0;
        let reported = -1;
        await runTool(ffmpeg, args, {
          ...(signal ? { signal } : {}),
          ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
          onStdoutLine: (line) => {
            if (line.startsWith("frame=")) frame = Number(line.slice(6)) || frame;
            else if (line.startsWith("progress=") && hooks.onProgress) {
              const fraction = Math.min(0.99, frame / frames);
              if (fraction > reported) {
                reported = fraction;
                hooks.onProgress(fraction);
              }
            }
          },
        }).catch((error: unknown) => {
          if (error instanceof FfmpegError) {
            throw new FfmpegError(`Offline generation failed for job ${req.jobId}`, {
              cause: error,
              stderrTail: error.stderrTail,
              exitCode: error.exitCode,
              signal: error.signal,
              args: error.args,
              retryable: error.retryable,
            });
          }
          throw error;
        });
        const video = await readFile(output);
        hooks.onProgress?.(1);
        return {
          generationId,
          video: new Uint8Array(video.buffer, video.byteOffset, video.byteLength),
          contentType: "video/mp4",
          model: OFFLINE_MODEL,
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return generator;
}

function validate(req: GenerationRequest): void {
  const problems: string[] = [];
  if (!req.jobId) problems.push("jobId is empty");
  if (!Number.isInteger(req.width) || !Number.isInteger(req.height) || req.width < 16 || req.height < 16 || req.width % 2 || req.height % 2) {
    problems.push(`size must be even integers ≥ 16 (H.264 4:2:0), got ${req.width}×${req.height}`);
  }
  if (!(req.fps > 0 && req.fps <= 120)) problems.push(`fps must be in (0, 120], got ${req.fps}`);
  if (!(req.durationSeconds > 0 && req.durationSeconds <= 120)) problems.push(`durationSeconds must be in (0, 120], got ${req.durationSeconds}`);
  if (req.image.bytes.byteLength === 0) problems.push("image is empty");
  if (problems.length) throw new InvalidMediaRequestError(`Invalid generation request: ${problems.join("; ")}`);
}

/** The filter graph for one clip; exported for tests and for reading. Output label: [v]. */
export function buildFilterGraph(req: Pick<GenerationRequest, "cameraMotion" | "width" | "height" | "fps" | "durationSeconds">, frames: number): string {
  const { width: W, height: H, fps } = req;
  // Fit the photo to the frame once (it is normally already W×H), then turn it into frames.
  const still = `scale=${W}:${H}:force_original_aspect_ratio=increase:flags=lanczos,crop=${W}:${H},setsar=1,format=yuv420p`;
  const toFrames = `loop=loop=${frames - 1}:size=1:start=0,settb=expr=1/${fps},setpts=N`;
  // Eased progress 0→1 over the clip (slow start, slow stop), per frame.
  const p = `(in/${Math.max(1, frames - 1)})`;
  const e = `(0.5-0.5*cos(PI*${p}))`;

  const window = (zoom: string, cx: string, cy: string) => {
    // Source quad → output corners: the visible window is W/zoom × H/zoom centred at (cx, cy).
    const hw = `(W/2/${zoom})`;
    const hh = `(H/2/${zoom})`;
    const l = `${cx}-${hw}`;
    const r = `${cx}+${hw}`;
    const t = `${cy}-${hh}`;
    const b = `${cy}+${hh}`;
    return `perspective=x0='${l}':y0='${t}':x1='${r}':y1='${t}':x2='${l}':y2='${b}':x3='${r}':y3='${b}':interpolation=linear:eval=frame`;
  };
  const z = num(MOTION.zoom);
  const pz = num(MOTION.panZoom);
  // Travel across the margin the pan zoom leaves, as a fraction of the frame.
  const travel = `(1-1/${pz})`;

  let motion: string | undefined;
  switch (req.cameraMotion) {
    case "dolly_in":
      motion = window(`(1+${z}*${e})`, "W/2", "H/2");
      break;
    case "dolly_out":
      motion = window(`(1+${z}*(1-${e}))`, "W/2", "H/2");
      break;
    case "dolly_left": // the camera moves left, so the window slides from right to left
      motion = window(pz, `(W/2+W*${travel}*(0.5-${e}))`, "H/2");
      break;
    case "dolly_right":
      motion = window(pz, `(W/2-W*${travel}*(0.5-${e}))`, "H/2");
      break;
    case "jib_up": // the camera rises, the window slides up
      motion = window(pz, "W/2", `(H/2+H*${travel}*(0.5-${e}))`);
      break;
    case "jib_down":
      motion = window(pz, "W/2", `(H/2-H*${travel}*(0.5-${e}))`);
      break;
    case "focus_shift": {
      const sigma = num((MOTION.focusSigma * Math.min(W, H)) / 1080, 2);
      return (
        `[0:v]${still},split[soft][sharp];` +
        `[soft]gblur=sigma=${sigma},${toFrames}[a];[sharp]${toFrames}[b];` +
        `[a][b]xfade=transition=fade:duration=${num(frames / fps)}:offset=0,format=yuv420p[v]`
      );
    }
    case "static":
      motion = undefined;
      break;
  }
  return `[0:v]${still},${toFrames}${motion ? `,${motion}` : ""},format=yuv420p[v]`;
}
