// Small ffmpeg/ffprobe helpers for the render tests.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

export const ffprobe = async (file: string) => {
  const { stdout } = await run("ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name,width,height,avg_frame_rate,channels,pix_fmt", "-of", "json", file]);
  return JSON.parse(stdout) as {
    format: { duration: string };
    streams: { codec_type: string; codec_name: string; width?: number; height?: number; avg_frame_rate?: string; channels?: number; pix_fmt?: string }[];
  };
};

export const keyframeTimes = async (file: string): Promise<number[]> => {
  const { stdout } = await run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey", "-show_entries", "frame=pts_time", "-of", "csv=p=0", file]);
  return stdout.split("\n").map((l) => l.replace(/,$/, "").trim()).filter(Boolean).map(Number);
};

/** Mean volume in dB of the first audio stream (about -91 for digital silence). */
export const meanVolume = async (file: string, from = 0, duration = 60): Promise<number> => {
  const { stderr } = await run("ffmpeg", ["-hide_banner", "-ss", String(from), "-t", String(duration), "-i", file, "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"]);
  const m = /mean_volume: (-?[\d.]+|-inf) dB/.exec(stderr);
  return m?.[1] === "-inf" || !m ? -Infinity : Number(m[1]);
};

/** One frame at `seconds` as 8-bit grey pixels, scaled to width × height. */
export const grabGray = async (file: string, seconds: number, width: number, height: number): Promise<Buffer> => {
  const { stdout } = await run(
    "ffmpeg",
    ["-v", "error", "-ss", String(seconds), "-i", file, "-frames:v", "1", "-vf", `scale=${width}:${height}`, "-pix_fmt", "gray", "-f", "rawvideo", "-"],
    { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
};

/** Mean absolute difference of two grey frames inside rows [y0, y1) (fractions of the height). */
export const meanDiff = (a: Buffer, b: Buffer, width: number, height: number, y0: number, y1: number): number => {
  let sum = 0;
  let n = 0;
  for (let y = Math.floor(y0 * height); y < Math.floor(y1 * height); y++) {
    for (let x = 0; x < width; x++) {
      sum += Math.abs(a[y * width + x]! - b[y * width + x]!);
      n++;
    }
  }
  return sum / n;
};

export const makeClip = async (file: string, opts: { seconds: number; width: number; height: number; source?: string }) => {
  const src = opts.source ?? `testsrc2=s=${opts.width}x${opts.height}:r=30:d=${opts.seconds}`;
  await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an", file]);
};

/** The MD5 of each decoded video frame (FFmpeg's framemd5): equal lists are the same pictures. */
export const frameHashes = async (file: string): Promise<string[]> => {
  const { stdout } = await run("ffmpeg", ["-v", "error", "-i", file, "-map", "0:v:0", "-f", "framemd5", "-"], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(",").at(-1)!.trim());
};

/** SSIM ("All": Y, U and V) of each frame of `a` against the same frame of `b` (FFmpeg's ssim filter). */
export const ssimPerFrame = async (a: string, b: string, statsFile: string): Promise<number[]> => {
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-i", a, "-i", b, "-lavfi", `[0:v][1:v]ssim=stats_file=${statsFile}`, "-f", "null", "-"]);
  return (await readFile(statsFile, "utf8")).split("\n").filter(Boolean).map((l) => Number(/All:([\d.]+)/.exec(l)?.[1] ?? Number.NaN));
};

/** A clip of a still photo, cropped to cover width × height, as footage with real-world detail. */
export const makeClipFromPhoto = async (file: string, photo: string, opts: { seconds: number; width: number; height: number }) => {
  const { width: w, height: h } = opts;
  await run("ffmpeg", [
    "-v", "error", "-y", "-loop", "1", "-framerate", "24", "-i", photo, "-t", String(opts.seconds),
    "-vf", `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},zoompan=z='1+0.002*on':d=1:s=${w}x${h}:fps=24`,
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an", file,
  ]);
};
