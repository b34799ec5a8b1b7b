// Adversarial shapes through normalizeImage (issue #11, item 1): for each shape, the wall time
// and the peak RSS of normalising it, each in its own child process, so one shape's peak (libvips
// allocates outside the JS heap, and RSS never shrinks back) cannot hide or inflate another's.
// Prints one JSON line per shape: {"name","value" (wall ms),"unit","peakRssMiB","baseRssMiB",
// "outcome",…}, then the worst cases. BENCH_TIMEOUT_S (default 120) kills a child that runs longer.
//
// `peakRssMiB` is the child's peak RSS (VmHWM): node + tsx + libvips loaded (`baseRssMiB`, after
// a warm-up normalisation of a tiny image) plus whatever the shape made it allocate. A child
// killed at the timeout reports the peak sampled until then.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { craftedPng } from "@reelbridge/testing/png";
import type { Aspect } from "@reelbridge/core/media/image";
import type * as ImageModule from "@reelbridge/core/media/image";
import type SharpModule from "../packages/core/node_modules/sharp";

interface ChildResult {
  outcome: "normalised" | "rejected";
  code?: string;
  message?: string;
  width?: number;
  height?: number;
  ms: number;
  peakRssMiB: number;
  baseRssMiB: number;
}

const MiB = 1024 * 1024;
// sharp is core's dependency, not the workspace root's: resolve it from there.
const sharp = createRequire(new URL("../packages/core/package.json", import.meta.url))("sharp") as typeof SharpModule;

/** A process's peak RSS so far (Linux VmHWM), in MiB. */
async function highWaterMiB(pid: number | "self"): Promise<number | undefined> {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

if (process.argv[2] === "--child") {
  // ---- child: normalise one file, report time and peak RSS --------------------------------------
  // BENCH_IMAGE_MODULE: another build of image.ts to measure (e.g. a copy of the previous one).
  const { normalizeImage } = (await import(process.env.BENCH_IMAGE_MODULE ?? "../packages/core/src/media/image")) as typeof ImageModule;
  const [, , , file, aspect] = process.argv;
  const warm = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#808080" } }).jpeg().toBuffer();
  await normalizeImage(warm, { aspect: "9:16" });
  const baseRssMiB = process.memoryUsage().rss / MiB;
  const bytes = new Uint8Array(await readFile(file!));
  const started = performance.now();
  let result: Omit<ChildResult, "ms" | "peakRssMiB" | "baseRssMiB">;
  try {
    const out = await normalizeImage(bytes, { aspect: aspect as Aspect });
    result = { outcome: "normalised", width: out.width, height: out.height };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    result = { outcome: "rejected", code: e.code ?? "unknown", message: e.message?.slice(0, 200) };
  }
  const ms = performance.now() - started;
  // VmHWM, not getrusage's maxRSS: Linux carries maxRSS over from the forking parent (whose RSS
  // grew generating the shapes), while VmHWM belongs to this process's own address space.
  const peakRssMiB = (await highWaterMiB("self")) ?? process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ...result, ms, peakRssMiB, baseRssMiB } satisfies ChildResult)}\n`);
  process.exit(0);
}

// ---- parent: generate the shapes, run each in a child ----------------------------------------------



/** A smooth gradient with a little texture, encoded by sharp. */
async function gradient(width: number, height: number) {
  const tile = await sharp({ create: { width: 256, height: 256, channels: 3, background: "#4a7ab0" } })
    .composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256"><circle cx="128" cy="128" r="90" fill="#e0a030"/></svg>'), left: 0, top: 0 }])
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: "#203040" } }).composite([{ input: tile, tile: true, left: 0, top: 0 }]);
}

interface Shape {
  name: string;
  aspect: Aspect;
  make: () => Promise<Buffer>;
}

const shapes: Shape[] = [
  { name: "png_tall_strip_100x500000_at_budget", aspect: "9:16", make: async () => craftedPng(100, 500_000) },
  { name: "png_wide_strip_500000x100_at_budget", aspect: "9:16", make: async () => craftedPng(500_000, 100) },
  { name: "png_wide_strip_500000x100_to_16x9", aspect: "16:9", make: async () => craftedPng(500_000, 100) },
  { name: "png_tall_strip_1000x50000", aspect: "16:9", make: async () => craftedPng(1000, 50_000) },
  { name: "png_tiny_strip_1x4000", aspect: "9:16", make: async () => craftedPng(1, 4000) },
  { name: "png_wide_8to1_20000x2500_to_9x16", aspect: "9:16", make: async () => craftedPng(20_000, 2500) },
  { name: "png_tall_8to1_2500x20000_to_16x9", aspect: "16:9", make: async () => craftedPng(2500, 20_000) },
  // The most elongated shapes MAX_ASPECT_RATIO (6) lets through, at the pixel budget, into the
  // crossed frame: the worst a normalisation can now be asked to do.
  { name: "png_wide_6to1_17316x2886_at_budget_to_9x16", aspect: "9:16", make: async () => craftedPng(17_316, 2886) },
  { name: "png_tall_6to1_2886x17316_at_budget_to_16x9", aspect: "16:9", make: async () => craftedPng(2886, 17_316) },
  { name: "jpeg_wide_6to1_17316x2886_at_budget_to_9x16", aspect: "9:16", make: async () => (await gradient(17_316, 2886)).jpeg({ quality: 90 }).toBuffer() },
  { name: "png_square_7071x7071_at_budget", aspect: "9:16", make: async () => craftedPng(7071, 7071) },
  { name: "png_1bit_7071x7071_at_budget", aspect: "9:16", make: async () => craftedPng(7071, 7071, { bitDepth: 1, colorType: 0 }) },
  { name: "png_16bit_rgba_7071x7071_at_budget", aspect: "9:16", make: async () => craftedPng(7071, 7071, { bitDepth: 16, colorType: 6 }) },
  { name: "png_header_1000000x1000000", aspect: "9:16", make: async () => craftedPng(1_000_000, 1_000_000, { rows: 1 }) },
  { name: "png_header_7071x7071_truncated", aspect: "9:16", make: async () => craftedPng(7071, 7071, { rows: 10 }) },
  { name: "jpeg_baseline_12mp_4000x3000", aspect: "9:16", make: async () => (await gradient(4000, 3000)).jpeg({ quality: 90 }).toBuffer() },
  { name: "jpeg_progressive_8160x6120_at_budget", aspect: "9:16", make: async () => (await gradient(8160, 6120)).jpeg({ quality: 90, progressive: true }).toBuffer() },
  { name: "jpeg_cmyk_7000x7000", aspect: "16:9", make: async () => (await gradient(7000, 7000)).toColourspace("cmyk").jpeg({ quality: 90 }).toBuffer() },
  { name: "jpeg_tall_strip_800x62500_at_budget", aspect: "9:16", make: async () => (await gradient(800, 62_500)).jpeg({ quality: 80 }).toBuffer() },
  { name: "webp_wide_16383x3051_at_budget", aspect: "9:16", make: async () => (await gradient(16_383, 3051)).webp({ quality: 80 }).toBuffer() },
];

const only = process.env.BENCH_SHAPES?.split(",").map((s) => s.trim());
const timeoutMs = Number(process.env.BENCH_TIMEOUT_S ?? 120) * 1000;
const self = fileURLToPath(import.meta.url);

function runChild(file: string, aspect: Aspect): Promise<ChildResult | { outcome: "killed"; ms: number; why: string; peakRssMiB?: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    // node itself (tsx as a loader, not tsx's CLI, which would put a second process in between),
    // in its own process group so a timeout kills everything it started.
    const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), self, "--child", file, aspect], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    let hwm: number | undefined;
    const sampler = setInterval(() => {
      void highWaterMiB(child.pid!).then((v) => {
        if (v !== undefined) hwm = Math.max(hwm ?? 0, v);
      });
    }, 250);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      const ms = performance.now() - started;
      const line = out.trim().split("\n").pop();
      if (code === 0 && line) return resolve(JSON.parse(line) as ChildResult);
      resolve({ outcome: "killed", ms, ...(hwm !== undefined ? { peakRssMiB: hwm } : {}), why: signal ? `${signal} after ${Math.round(ms)} ms (timeout ${timeoutMs} ms)` : `exit ${code}: ${err.trim().split("\n").pop() ?? ""}` });
    });
  });
}

const dir = await mkdtemp(join(tmpdir(), "reelbridge-bench-adversarial-"));
const round = (n: number) => Math.round(n * 10) / 10;
let worstMs = { value: 0, shape: "" };
let worstRss = { value: 0, shape: "" };
try {
  for (const shape of shapes) {
    if (only && !only.includes(shape.name)) continue;
    const bytes = await shape.make();
    const file = join(dir, shape.name);
    await writeFile(file, bytes);
    const r = await runChild(file, shape.aspect);
    const fields =
      r.outcome === "killed"
        ? { outcome: "killed", why: r.why, ...(r.peakRssMiB !== undefined ? { peakRssMiB: round(r.peakRssMiB), peakRssNote: "at least (sampled until killed)" } : {}) }
        : { peakRssMiB: round(r.peakRssMiB), baseRssMiB: round(r.baseRssMiB), outcome: r.outcome, ...(r.code ? { code: r.code, message: r.message } : { output: `${r.width}x${r.height}` }) };
    console.log(JSON.stringify({ name: `media.image.adversarial.${shape.name}`, value: round(r.ms), unit: "ms", aspect: shape.aspect, inputKiB: round(bytes.length / 1024), ...fields }));
    if (r.ms > worstMs.value) worstMs = { value: r.ms, shape: shape.name };
    const peak = r.peakRssMiB ?? Number.POSITIVE_INFINITY;
    if (peak > worstRss.value) worstRss = { value: peak, shape: shape.name };
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ name: "media.image.adversarial.worst_wall", value: round(worstMs.value), unit: "ms", shape: worstMs.shape }));
console.log(JSON.stringify({ name: "media.image.adversarial.worst_peak_rss", value: Number.isFinite(worstRss.value) ? round(worstRss.value) : null, unit: "MiB", shape: worstRss.shape }));
