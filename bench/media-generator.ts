// Offline generator: wall time to render a 6 s clip (dolly in, 24 fps) at 540×960 and 1080×1920.
// Prints one JSON line per figure: {"name","value","unit"}.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createFfmpegVideoGenerator } from "@reelbridge/core/adapters/ffmpeg/offline-generator";
import type { CameraMotion } from "@reelbridge/core/media/camera";
import { normalizeImage } from "@reelbridge/core/media/image";

const print = (name: string, value: number, unit: string) => console.log(JSON.stringify({ name, value: Math.round(value * 100) / 100, unit }));

const workDir = await mkdtemp(join(tmpdir(), "reelbridge-bench-gen-"));
try {
  // A detailed 12 MP source photo (test pattern + noise), made with the system FFmpeg.
  const source = join(workDir, "photo.jpg");
  await promisify(execFile)(process.env.FFMPEG_PATH ?? "ffmpeg", [
    "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=s=3000x4000,noise=alls=12:allf=t,format=yuvj420p",
    "-frames:v", "1", "-q:v", "2", source,
  ]);
  const photo = await readFile(source);
  const generator = createFfmpegVideoGenerator({ workDir });

  const cases: Array<[number, number, CameraMotion]> = [
    [540, 960, "dolly_in"],
    [1080, 1920, "dolly_in"],
    [1080, 1920, "dolly_left"],
  ];
  for (const [width, height, cameraMotion] of cases) {
    const image = await normalizeImage(photo, { aspect: "9:16", target: { width, height } });
    const started = performance.now();
    await generator.generate(
      { jobId: "bench", image: { bytes: image.bytes }, prompt: "", cameraMotion, durationSeconds: 6, width, height, fps: 24 },
      { onSubmitted: async () => {} },
    );
    const seconds = (performance.now() - started) / 1000;
    print(`media.generator.${cameraMotion}_6s_${width}x${height}.wall`, seconds, "s");
  }
} finally {
  await rm(workDir, { recursive: true, force: true });
}
