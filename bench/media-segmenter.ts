// Segmenter throughput: seconds of video packaged (HLS + 15 s clips + poster) per second of wall
// time, for a 60 s 1080×1920 H.264 + AAC file with a keyframe every 2 s. Target: ≥ 50× real time.
// The input is generated once into a temp dir. Prints one JSON line per figure: {"name","value","unit"}.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createFfmpegSegmenter } from "@reelbridge/core/adapters/ffmpeg/segmenter";
import { shippedFfmpeg } from "@reelbridge/core/adapters/ffmpeg/shipped";

const exec = promisify(execFile);
const ffmpeg = process.env.FFMPEG_PATH ?? "ffmpeg";
const print = (name: string, value: number, unit: string) => console.log(JSON.stringify({ name, value: Math.round(value * 100) / 100, unit }));

const dir = await mkdtemp(join(tmpdir(), "reelbridge-bench-seg-"));
try {
  const input = join(dir, "input.mp4");
  const duration = 60;
  // A shaped source (moving test pattern + noise) so bitrates look like real video, not flat colour.
  await exec(ffmpeg, [
    "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", `testsrc2=s=1080x1920:r=24:d=${duration}`,
    "-f", "lavfi", "-i", `sine=frequency=440:duration=${duration}`,
    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p",
    "-g", "48", "-keyint_min", "48", "-sc_threshold", "0",
    "-c:a", "aac", "-b:a", "128k", "-shortest", "-movflags", "+faststart", input,
  ]);

  const segmenter = createFfmpegSegmenter(shippedFfmpeg()); // the FFmpeg Lambda ships (decision 0007)
  const runs: Array<{ seconds: number; mode: string; clipsCopied: boolean }> = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const result = await segmenter.segment({
      inputPath: input,
      outputDir: join(dir, "out"),
      hls: { targetSegmentSeconds: 4 },
      clips: { lengthSeconds: 15 },
      poster: {},
    });
    runs.push({ seconds: (performance.now() - started) / 1000, mode: result.hls.mode, clipsCopied: result.clips.every((c) => c.mode === "copy") });
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  const median = runs[1]!;
  if (median.mode !== "copy" || !median.clipsCopied) throw new Error(`expected stream copy, got ${JSON.stringify(median)}`);
  print("media.segmenter.copy_60s_1080x1920.wall", median.seconds, "s");
  print("media.segmenter.copy_60s_1080x1920.speed", duration / median.seconds, "x_realtime");
} finally {
  await rm(dir, { recursive: true, force: true });
}
