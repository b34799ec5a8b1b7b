// Validate + normalise a 12-megapixel phone-like JPEG (4000×3000) to 1080×1920. Target: < 1 s.
// Prints one JSON line per figure: {"name","value","unit"}.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { normalizeImage } from "@reelbridge/core/media/image";

// A phone-like 12 MP JPEG: moving test pattern plus sensor-like noise, so it weighs a few MB.
const dir = await mkdtemp(join(tmpdir(), "reelbridge-bench-img-"));
const path = join(dir, "photo.jpg");
await promisify(execFile)(process.env.FFMPEG_PATH ?? "ffmpeg", [
  "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
  "-f", "lavfi", "-i", "testsrc2=s=4000x3000,noise=alls=12:allf=t,format=yuvj420p",
  "-frames:v", "1", "-q:v", "2", path,
]);
const jpeg = await readFile(path);
await rm(dir, { recursive: true, force: true });

const runs: number[] = [];
await normalizeImage(jpeg, { aspect: "9:16" }); // warm-up (loads libvips, fills caches)
for (let i = 0; i < 5; i++) {
  const started = performance.now();
  await normalizeImage(jpeg, { aspect: "9:16" });
  runs.push(performance.now() - started);
}
runs.sort((a, b) => a - b);
const print = (name: string, value: number, unit: string) => console.log(JSON.stringify({ name, value: Math.round(value * 10) / 10, unit }));
print("media.image.normalize_12mp_jpeg.median", runs[Math.floor(runs.length / 2)]!, "ms");
print("media.image.normalize_12mp_jpeg.max", runs[runs.length - 1]!, "ms");
print("media.image.input_12mp_jpeg.size", jpeg.length / 1024 / 1024, "MiB");
