// How the base clip reaches the page in a scaled-down local render (issue #15): Remotion's
// <OffthreadVideo> hands the browser every frame as an uncompressed bitmap of the clip's own size
// (1080×1920: 6 MB per frame, through Remotion's compositor, Node and Chromium), however small the
// render. At scale < 1 the renderer first shrinks the clip to the size the frame is drawn at, so
// each bitmap is scale² the size, and the browser draws it 1:1 instead of downsampling it.
// docs/decisions/0014-local-render-speed.md
import { defaultFfmpegPath, defaultFfprobePath, runTool } from "@reelbridge/core/adapters/ffmpeg/run";
// A clip may be an http(s) URL (the local S3 endpoint's presigned GET): FFmpeg reads it, and nothing else.
import { INPUT_PROTOCOLS as PROTOCOLS } from "./composite";

export type ClipSize = { width: number; height: number };

/**
 * The size a clip of `clip` pixels is drawn at when it covers (object-fit: cover) a frame of
 * `frame` pixels, in even numbers, never larger than the clip; null when the clip is not larger.
 */
export const coverSize = (clip: ClipSize, frame: ClipSize): ClipSize | null => {
  const f = Math.max(frame.width / clip.width, frame.height / clip.height);
  if (!(f < 1)) return null;
  const even = (v: number) => Math.min(v, 2 * Math.ceil((v * f) / 2));
  const size = { width: even(clip.width), height: even(clip.height) };
  return size.width < clip.width || size.height < clip.height ? size : null;
};


export const probeVideoSize = async (file: string, signal?: AbortSignal): Promise<ClipSize | null> => {
  const { stdout } = await runTool(
    defaultFfprobePath(),
    [...PROTOCOLS, "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "json", file],
    { collectStdout: true, timeoutMs: 30_000, ...(signal ? { signal } : {}) },
  );
  const stream = (JSON.parse(stdout) as { streams?: Array<{ width?: number; height?: number }> }).streams?.[0];
  return stream?.width && stream.height ? { width: stream.width, height: stream.height } : null;
};

/**
 * Writes `input` shrunk to `size` at `output`: same frames and timing, no audio (the composition
 * plays the clip muted), x264 at a high quality with a keyframe every 10 frames so any frame the
 * compositor asks for decodes quickly. Returns false (nothing written) when the clip is no larger
 * than the frame it is drawn into.
 */
export const shrinkClip = async (input: string, output: string, frame: ClipSize, signal?: AbortSignal): Promise<boolean> => {
  const clip = await probeVideoSize(input, signal);
  const size = clip ? coverSize(clip, frame) : null;
  if (!size) return false;
  await runTool(
    defaultFfmpegPath(),
    [
      "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
      ...PROTOCOLS, "-i", input,
      "-map", "0:v:0", "-an", "-sn", "-dn",
      "-vf", `scale=${size.width}:${size.height}:flags=area`,
      "-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-g", "10", "-pix_fmt", "yuv420p",
      output,
    ],
    { timeoutMs: 120_000, ...(signal ? { signal } : {}) },
  );
  return true;
};
