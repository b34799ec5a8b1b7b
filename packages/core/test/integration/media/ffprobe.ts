import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);
export const FFMPEG = process.env.FFMPEG_PATH ?? "ffmpeg";
export const FFPROBE = process.env.FFPROBE_PATH ?? "ffprobe";

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  avg_frame_rate?: string;
  nb_read_frames?: string;
}

export async function ffprobe(path: string, countFrames = false): Promise<{ streams: ProbedStream[]; format: { duration: string; format_name: string } }> {
  const { stdout } = await exec(FFPROBE, ["-v", "error", ...(countFrames ? ["-count_frames"] : []), "-show_streams", "-show_format", "-of", "json", path]);
  return JSON.parse(stdout) as never;
}

export async function ffmpeg(args: string[]): Promise<void> {
  await exec(FFMPEG, ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args]);
}

/** Frames `indexes` of a video as 8-bit grayscale planes. */
export async function grayFrames(path: string, width: number, height: number, indexes: number[]): Promise<Buffer[]> {
  const select = indexes.map((i) => `eq(n\\,${i})`).join("+");
  const { stdout } = await promisify(execFile)(FFMPEG, ["-v", "error", "-i", path, "-vf", `select=${select}`, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-"], {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  const size = width * height;
  return indexes.map((_, i) => stdout.subarray(i * size, (i + 1) * size));
}

export function meanAbsDiff(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

export function rate(value: string | undefined): number {
  const [n, d] = (value ?? "0/1").split("/").map(Number);
  return n! / (d || 1);
}
