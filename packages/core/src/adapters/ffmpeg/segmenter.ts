import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FfmpegError, InvalidMediaRequestError } from "../../media/errors";
import type { PackagingMode, ProbeResult, SegmentedFile, Segmenter, SegmentRequest, SegmentResult } from "../../ports";
import { defaultFfmpegPath, defaultFfprobePath, num, runTool } from "./run";

export interface FfmpegSegmenterOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  /** x264 preset for what must be re-encoded. */
  preset?: string;
  crf?: number;
  timeoutMs?: number;
}

export const CONTENT_TYPES = {
  m3u8: "application/vnd.apple.mpegurl",
  ts: "video/mp2t",
  mp4: "video/mp4",
  jpg: "image/jpeg",
} as const;

// Audio that can ride along unchanged: into MPEG-TS for hls.js and Safari, and into MP4.
const TS_AUDIO = new Set(["aac", "mp3"]);
const MP4_AUDIO = new Set(["aac", "mp3", "ac3", "eac3", "alac", "opus"]);
const COPYABLE_VIDEO = new Set(["h264"]);
const MIN_SEGMENT_SECONDS = 2;
const MAX_SEGMENT_SECONDS = 4;

/**
 * HLS VOD rendition, clips and poster from a finished video, copying streams wherever the
 * keyframes allow and re-encoding only what must be. File names are deterministic and each run
 * replaces the previous one's files, so a retried event leaves the same outputs.
 */
export function createFfmpegSegmenter(opts: FfmpegSegmenterOptions = {}): Segmenter {
  const ffmpeg = opts.ffmpegPath ?? defaultFfmpegPath();
  const ffprobe = opts.ffprobePath ?? defaultFfprobePath();
  const timeout = opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
  const x264 = ["-c:v", "libx264", "-preset", opts.preset ?? "veryfast", "-crf", String(opts.crf ?? 20), "-profile:v", "high", "-pix_fmt", "yuv420p"];
  const run = (args: string[]) => runTool(ffmpeg, ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y", ...args], timeout);

  async function probe(inputPath: string): Promise<ProbeResult> {
    const [info, packets, file] = await Promise.all([
      runTool(ffprobe, ["-v", "error", "-show_format", "-show_streams", "-of", "json", inputPath], { collectStdout: true, ...timeout }),
      // Packet flags, no decoding: a 60 s file takes milliseconds.
      runTool(ffprobe, ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,dts_time,flags", "-of", "csv=p=0", inputPath], {
        collectStdout: true,
        ...timeout,
      }),
      stat(inputPath).catch((cause: unknown) => {
        throw new FfmpegError(`Cannot read ${inputPath}`, { cause });
      }),
    ]);
    const parsed = JSON.parse(info.stdout) as {
      streams?: Array<Record<string, unknown> & { disposition?: { attached_pic?: number } }>;
      format?: Record<string, unknown>;
    };
    const video = parsed.streams?.find((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
    if (!video) throw new FfmpegError(`No video stream in ${inputPath}`, { stderrTail: "no video stream found" });
    const audio = parsed.streams?.find((s) => s.codec_type === "audio");
    const startTime = Number(parsed.format?.start_time ?? 0) || 0;
    const durationSeconds = Number(parsed.format?.duration ?? video.duration);
    const fps = rate(String(video.avg_frame_rate ?? "")) || rate(String(video.r_frame_rate ?? ""));
    const keyframeTimes = packets.stdout
      .split("\n")
      .map((line) => line.split(","))
      .filter((cols) => cols[2]?.includes("K"))
      .map((cols) => {
        const t = Number(cols[0] !== "N/A" ? cols[0] : cols[1]);
        return Number.isFinite(t) ? round6(Math.max(0, t - startTime)) : NaN;
      })
      .filter((t) => Number.isFinite(t))
      .sort((a, b) => a - b);
    if (!(durationSeconds > 0) || !(fps > 0)) {
      throw new FfmpegError(`Cannot tell the duration or frame rate of ${inputPath}`, { stderrTail: `duration=${durationSeconds} fps=${fps}` });
    }
    return {
      durationSeconds,
      width: Number(video.width),
      height: Number(video.height),
      fps,
      videoCodec: String(video.codec_name),
      ...(audio ? { audioCodec: String(audio.codec_name) } : {}),
      keyframeTimes: [...new Set(keyframeTimes)],
      sizeBytes: file.size,
    };
  }

  async function segment(req: SegmentRequest): Promise<SegmentResult> {
    const target = req.hls.targetSegmentSeconds ?? MAX_SEGMENT_SECONDS;
    if (!(target >= MIN_SEGMENT_SECONDS && target <= MAX_SEGMENT_SECONDS)) {
      throw new InvalidMediaRequestError(`hls.targetSegmentSeconds must be within ${MIN_SEGMENT_SECONDS}..${MAX_SEGMENT_SECONDS}, got ${target}`);
    }
    const info = await probe(req.inputPath);
    const D = info.durationSeconds;
    const frame = 1 / info.fps;

    await mkdir(req.outputDir, { recursive: true });
    const staging = join(req.outputDir, `.staging-${randomBytes(6).toString("hex")}`);
    await mkdir(join(staging, "hls"), { recursive: true });
    await mkdir(join(staging, "clips"), { recursive: true });
    try {
      // HLS ------------------------------------------------------------------------------
      const copyBounds = COPYABLE_VIDEO.has(info.videoCodec) ? planHlsBoundaries(info.keyframeTimes, D, target, frame) : undefined;
      const hlsMode: PackagingMode = copyBounds ? "copy" : "reencode";
      const bounds = copyBounds ?? fixedBoundaries(D, target, frame);
      const audioTs = info.audioCodec === undefined ? [] : TS_AUDIO.has(info.audioCodec) ? ["-c:a", "copy"] : ["-c:a", "aac", "-b:a", "128k"];
      const cuts = bounds.slice(1, -1);
      const hlsTask = run([
        "-i", req.inputPath,
        "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn", "-map_metadata", "-1",
        ...(hlsMode === "copy"
          ? ["-c:v", "copy"]
          : [...x264, ...(cuts.length ? ["-force_key_frames", cuts.map((t) => num(t)).join(",")] : []), "-g", String(Math.round(info.fps * target))]),
        ...audioTs,
        "-f", "segment", "-segment_format", "mpegts",
        // Just before each boundary: the muxer cuts at the first keyframe at or after the time.
        ...(cuts.length ? ["-segment_times", cuts.map((t) => num(Math.max(0, t - Math.min(0.001, frame / 4)))).join(",")] : []),
        "-segment_list", join(staging, "hls", "segments.csv"), "-segment_list_type", "csv",
        join(staging, "hls", "segment-%03d.ts"),
      ]);

      // Clips ----------------------------------------------------------------------------
      const plan = planClips(req.clips, info, frame);
      const clipTasks = plan.map((clip, i) => async () => {
        const out = join(staging, "clips", clipName(i));
        const videoCopy = clip.mode === "copy";
        const audio = info.audioCodec === undefined ? [] : videoCopy && MP4_AUDIO.has(info.audioCodec) ? ["-c:a", "copy"] : ["-c:a", "aac", "-b:a", "128k"];
        // Copy: seek lands on the keyframe at the start (nudged past float noise). Re-encode:
        // input seeking decodes from the previous keyframe and drops frames before the start.
        const ss = videoCopy ? clip.startSeconds + Math.min(0.001, frame / 4) : clip.startSeconds;
        await run([
          ...(clip.startSeconds > 0 ? ["-ss", num(ss)] : []),
          "-i", req.inputPath,
          "-t", num(clip.endSeconds - clip.startSeconds),
          "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn", "-map_metadata", "-1",
          ...(videoCopy ? ["-c:v", "copy", "-avoid_negative_ts", "make_zero"] : x264),
          ...audio,
          "-movflags", "+faststart",
          out,
        ]);
      });

      // Poster ---------------------------------------------------------------------------
      const at = clamp(req.poster.atSeconds ?? D / 2, 0, Math.max(0, D - frame));
      const posterTask = () =>
        run(["-ss", num(at), "-i", req.inputPath, "-map", "0:v:0", "-frames:v", "1", "-an", "-q:v", "2", "-update", "1", join(staging, "poster.jpg")]);

      await Promise.all([hlsTask, limit([...clipTasks, posterTask], 2)]);

      const listed = await readSegmentList(join(staging, "hls", "segments.csv"));
      // The muxer's list measures from the first timestamp of any stream (B-frame delay, AAC
      // priming), so prefer the planned boundaries, which are where the cuts really fall.
      const segments =
        listed.length === bounds.length - 1 ? listed.map((s, i) => ({ file: s.file, duration: round6(bounds[i + 1]! - bounds[i]!) })) : listed;
      await rm(join(staging, "hls", "segments.csv"), { force: true });
      const targetDurationSeconds = Math.max(1, ...segments.map((s) => Math.round(s.duration)));
      await writeFile(join(staging, "hls", "index.m3u8"), mediaPlaylist(segments, targetDurationSeconds));

      // Publish: replace the previous run's outputs with this run's.
      for (const name of ["hls", "clips", "poster.jpg"]) {
        await rm(join(req.outputDir, name), { recursive: true, force: true });
        await rename(join(staging, name), join(req.outputDir, name));
      }

      const files: SegmentedFile[] = [];
      const add = async (path: string, contentType: string) => files.push({ path, contentType, sizeBytes: (await stat(join(req.outputDir, path))).size });
      await add("hls/index.m3u8", CONTENT_TYPES.m3u8);
      for (const s of segments) await add(`hls/${s.file}`, CONTENT_TYPES.ts);
      for (let i = 0; i < plan.length; i++) await add(`clips/${clipName(i)}`, CONTENT_TYPES.mp4);
      await add("poster.jpg", CONTENT_TYPES.jpg);

      return {
        files,
        hls: { playlist: "hls/index.m3u8", segments: segments.length, mode: hlsMode, targetDurationSeconds, segmentDurations: segments.map((s) => round6(s.duration)) },
        clips: plan.map((c, i) => ({ path: `clips/${clipName(i)}`, startSeconds: c.startSeconds, endSeconds: c.endSeconds, mode: c.mode })),
        poster: "poster.jpg",
        probe: info,
      };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  return { probe, segment };
}

function clipName(i: number): string {
  return `clip-${String(i).padStart(3, "0")}.mp4`;
}

/**
 * Segment boundaries that fall on keyframes with every segment between 2 s and the target
 * (the last may be shorter), or undefined when the keyframes don't allow it. Greedy: the
 * furthest keyframe that still fits, so segments come out as close to the target as possible.
 */
export function planHlsBoundaries(keyframes: readonly number[], duration: number, target: number, frame: number): number[] | undefined {
  const slack = frame / 2;
  if (!keyframes.length || keyframes[0]! > slack) return undefined;
  const bounds = [0];
  let b = 0;
  while (duration - b > target + slack) {
    let next: number | undefined;
    for (const k of keyframes) {
      if (k >= b + Math.min(MIN_SEGMENT_SECONDS, target) - slack && k <= b + target + slack) next = k;
    }
    if (next === undefined) return undefined;
    bounds.push(next);
    b = next;
  }
  bounds.push(duration);
  return bounds;
}

function fixedBoundaries(duration: number, target: number, frame: number): number[] {
  const bounds = [0];
  for (let t = target; t < duration - frame / 2; t += target) bounds.push(round6(t));
  bounds.push(duration);
  return bounds;
}

/** Clip ranges, snapped onto keyframes when close enough, each marked copy or re-encode. */
export function planClips(
  spec: SegmentRequest["clips"],
  info: Pick<ProbeResult, "durationSeconds" | "keyframeTimes" | "videoCodec">,
  frame: number,
): Array<{ startSeconds: number; endSeconds: number; mode: PackagingMode }> {
  const D = info.durationSeconds;
  // Fixed-length clips may stretch or shrink by up to 10% (at most 1 s) to land on a keyframe
  // and be copied; explicit cut points were chosen on purpose, so they move at most 0.5 s.
  const tolerance = spec.snapToleranceSeconds ?? ("lengthSeconds" in spec ? clamp(spec.lengthSeconds * 0.1, 0.25, 1) : 0.5);
  let cuts: number[];
  if ("lengthSeconds" in spec) {
    if (!(spec.lengthSeconds > 0)) throw new InvalidMediaRequestError(`clips.lengthSeconds must be positive, got ${spec.lengthSeconds}`);
    cuts = [];
    for (let t = spec.lengthSeconds; t < D; t += spec.lengthSeconds) cuts.push(t);
    // A sliver at the end (under half a clip) joins the last clip instead of standing alone.
    if (cuts.length && D - cuts[cuts.length - 1]! < Math.min(spec.lengthSeconds / 2, 1)) cuts.pop();
  } else {
    if (spec.cutPoints.some((t) => !Number.isFinite(t))) throw new InvalidMediaRequestError("clips.cutPoints must be finite numbers");
    cuts = [...spec.cutPoints];
  }
  const snapped = cuts.map((t) => {
    let best: number | undefined;
    for (const k of info.keyframeTimes) if (Math.abs(k - t) <= tolerance && (best === undefined || Math.abs(k - t) < Math.abs(best - t))) best = k;
    return round6(best ?? t);
  });
  const bounds = [...new Set([0, ...snapped.filter((t) => t > frame / 2 && t < D - frame / 2).sort((a, b) => a - b), D])];
  const onKeyframe = (t: number) => t === D || info.keyframeTimes.some((k) => Math.abs(k - t) <= frame / 2);
  const copyable = COPYABLE_VIDEO.has(info.videoCodec);
  return bounds.slice(0, -1).map((start, i) => {
    const end = bounds[i + 1]!;
    return { startSeconds: start, endSeconds: end, mode: copyable && onKeyframe(start) && onKeyframe(end) ? "copy" : "reencode" };
  });
}

export function mediaPlaylist(segments: ReadonlyArray<{ file: string; duration: number }>, targetDuration: number): string {
  return [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    ...segments.flatMap((s) => [`#EXTINF:${s.duration.toFixed(6)},`, s.file]),
    "#EXT-X-ENDLIST",
    "",
  ].join("\n");
}

async function readSegmentList(path: string): Promise<Array<{ file: string; duration: number }>> {
  const csv = await readFile(path, "utf8");
  const rows = csv
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [file, start, end] = line.split(",");
      return { file: file!, duration: Number(end) - Number(start) };
    });
  if (!rows.length) throw new FfmpegError("FFmpeg wrote no HLS segments");
  return rows;
}

async function limit(tasks: ReadonlyArray<() => Promise<unknown>>, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

function rate(value: string): number {
  const [n, d] = value.split("/").map(Number);
  if (!n || !Number.isFinite(n)) return 0;
  return d ? n / d : n;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

// Exposed for tests that need to look at what a run left behind.
export async function listOutputs(outputDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(outputDir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name).slice(outputDir.length + 1));
  }
  return out.sort();
}
