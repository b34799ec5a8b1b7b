// The local renderer's composite (issue #15, docs/decisions/0016-local-render-composite.md):
// Remotion renders the composition without its base layer (`layers: "overlay"`, transparent PNG
// frames), and FFmpeg draws the base clip under those frames the way the composition draws it
// (BASE_LAYER: covering the frame, over black, for the clip's frames) and encodes the result in
// the same pass. The base clip never enters the browser: no uncompressed 6 MB bitmap per frame
// through Remotion's compositor, Node and Chromium.
import type { Writable } from "node:stream";
import { defaultFfmpegPath, runTool } from "@reelbridge/core/adapters/ffmpeg/run";
import { BASE_LAYER } from "@reelbridge/remotion/base-layer";
import { reelFrame } from "@reelbridge/remotion/timeline";

// A clip may be an http(s) URL (the local S3 endpoint's presigned GET): FFmpeg reads it, and nothing else.
export const INPUT_PROTOCOLS = ["-protocol_whitelist", "file,http,https,tcp,tls"];

export type CompositeSpec = {
  /** The base clip: a file path or an http(s) URL FFmpeg reads. */
  baseClip: string;
  /** Output size (the composition's at the render scale, even numbers). */
  width: number;
  height: number;
  fps: number;
  /** Frames the base clip is on screen (baseClipFrames), then the background alone. */
  baseFrames: number;
  totalFrames: number;
  /** x264's settings: the same as the page-mode render's. */
  encoder: { preset: string | null; crf: number; gopSize: number };
};

/**
 * The filter graph: input 0 is the overlay (RGBA frames), input 1 the base clip. The clip is
 * brought to the composition's frame rate (each frame shows the clip's frame on screen at
 * frame/fps, the last one that started by then, as <OffthreadVideo> does: `round=up` maps clip
 * frame k to the first output frame at or after it), scaled to cover the frame and centred
 * (object-fit: cover), held on its last frame if it ends early and cut at `baseFrames`; the
 * background follows it for the rest.
 * The overlay is blended over that, and the result is full-range 4:2:0, as Remotion's own renders
 * are (its JPEG frames are full range).
 */
export const compositeGraph = ({ width: W, height: H, fps, baseFrames, totalFrames }: CompositeSpec): string => {
  if (BASE_LAYER.fit !== "cover") throw new Error(`the composite draws the base clip with object-fit cover, not ${String(BASE_LAYER.fit)}`);
  const rest = totalFrames - baseFrames;
  const clip =
    `[1:v]setpts=PTS-STARTPTS,fps=${fps}:round=up,scale=${W}:${H}:force_original_aspect_ratio=increase:flags=bicubic,crop=${W}:${H},setsar=1,` +
    `tpad=stop_mode=clone:stop=-1,trim=end_frame=${baseFrames},setpts=N/(${fps}*TB)`;
  return [
    ...(rest > 0
      ? [`${clip}[clip]`, `color=c=${BASE_LAYER.background}:s=${W}x${H}:r=${fps},trim=end_frame=${rest},setsar=1[rest]`, `[clip][rest]concat=n=2:v=1:a=0,format=yuv420p[base]`]
      : [`${clip},format=yuv420p[base]`]),
    // No eof_action=pass: with it FFmpeg 5.1 ends the output ~50 frames early.
    `[0:v]format=rgba[over]`,
    `[base][over]overlay=0:0:format=yuv420,format=yuvj420p[v]`,
  ].join(";");
};

export const compositeArgs = (spec: CompositeSpec, outputPath: string): string[] => {
  const { encoder } = spec;
  return [
    "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
    // Chromium writes an opaque frame (the end card) as RGB, a transparent one as RGBA: without
    // -reinit_filter 0 that switch rebuilds the graph, restarting the clip's trim and padding.
    "-reinit_filter", "0", "-f", "image2pipe", "-framerate", String(spec.fps), "-c:v", "png", "-i", "pipe:0",
    ...INPUT_PROTOCOLS, "-i", spec.baseClip,
    "-filter_complex", compositeGraph(spec),
    "-map", "[v]", "-frames:v", String(spec.totalFrames), "-an",
    "-c:v", "libx264", ...(encoder.preset ? ["-preset", encoder.preset] : []), "-crf", String(encoder.crf), "-pix_fmt", "yuvj420p",
    // Keyframes exactly every gopSize frames (the segmenter cuts there without re-encoding).
    "-g", String(encoder.gopSize), "-keyint_min", String(encoder.gopSize), "-sc_threshold", "0",
    "-video_track_timescale", "90000",
    outputPath,
  ];
};

/** A frame to capture and how many frames, from it on, draw the same overlay. */
export type OverlayRun = { frame: number; frames: number };

/**
 * The composition's frames grouped in runs that draw the same overlay: consecutive frames with
 * equal reelFrame() (timeline.ts: everything that moves is a function of it). A 6 s job's 240
 * frames are about 70 runs: the titles and the end card move in their first second and then stand.
 */
export const overlayRuns = (totalFrames: number, fps: number, baseVideoDurationSeconds: number): OverlayRun[] => {
  const runs: OverlayRun[] = [];
  let previous = "";
  for (let frame = 0; frame < totalFrames; frame++) {
    const state = JSON.stringify(reelFrame(frame, fps, baseVideoDurationSeconds));
    if (state === previous) runs.at(-1)!.frames++;
    else runs.push({ frame, frames: 1 });
    previous = state;
  }
  return runs;
};

export type Composite = {
  /** Frames may arrive in any order (several tabs); each run is written, `frames` times, when its turn comes. */
  write(frame: number, png: Buffer): Promise<void>;
  /** No more frames: waits for FFmpeg to finish the file. */
  finish(): Promise<void>;
  /** Frames FFmpeg has been given. */
  readonly written: number;
};

/** Starts FFmpeg on `spec`, writing the video (no audio) to `outputPath`; `runs` are the frames it will be given. */
export const startComposite = (spec: CompositeSpec, runs: OverlayRun[], outputPath: string, signal?: AbortSignal): Composite => {
  let stdin: Writable | null = null;
  let next = 0;
  let written = 0;
  const turns = new Map<number, () => void>();
  const done = runTool(defaultFfmpegPath(), compositeArgs(spec, outputPath), {
    ...(signal ? { signal } : {}),
    onStdin: (s) => (stdin = s),
  });
  let failed: unknown = null;
  // Writers waiting for FFmpeg learn of its end through `failed`; the caller awaits finish().
  done.catch((err: unknown) => {
    failed = err;
    for (const release of turns.values()) release();
  });

  const writeChunk = (png: Buffer) =>
    new Promise<void>((resolve) => {
      if (!stdin || stdin.destroyed) return resolve();
      if (stdin.write(png)) resolve();
      else {
        const s = stdin;
        const go = () => {
          s.off("close", go);
          s.off("drain", go);
          resolve();
        };
        s.once("drain", go).once("close", go);
      }
    });

  return {
    get written() {
      return written;
    },
    async write(frame, png) {
      const index = runs.findIndex((r) => r.frame === frame);
      if (index < 0) throw new Error(`frame ${frame} is not the start of an overlay run`);
      if (index !== next && failed === null) await new Promise<void>((release) => turns.set(index, release));
      if (failed !== null) throw failed;
      for (let i = 0; i < runs[index]!.frames; i++) {
        await writeChunk(png);
        written++;
      }
      next = index + 1;
      turns.get(next)?.();
      turns.delete(next);
    },
    async finish() {
      if (failed === null) stdin?.end();
      await done;
    },
  };
};
