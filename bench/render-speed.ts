// Render speed of the embedded default (issue #15): the local Remotion renderer against what the
// machine can do, measured in the same run.
//   - the default job (9:16, 1080×1920, a 6 s base clip + the 2 s end card = 240 frames) and the
//     same job in 16:9, through the local renderer at full resolution;
//   - the FFmpeg reference: the same base clip and length composited by FFmpeg alone (gradient
//     scrim, title and subtitle with fades, end card with a fade, the music bed) and encoded with
//     x264 veryfast: what "close to the machine" means;
//   - their ratio, frames per second, and where a render's time goes: the wall-clock phases from
//     renderMedia's onProgress (start-up until the first frame, capturing, the tail after the last
//     frame: encoder flush, audio, mux) and the CPU seconds per frame of each process kind, sampled
//     from /proc (Chromium: page, paint, screenshot; Remotion's compositor: base-clip decode and
//     frame extraction; FFmpeg: encode and audio; this Node process: orchestration, piping).
// The base clip is the project's: the sample photo, normalised as the LTX step does, animated by
// the offline FFmpeg generator (the embedded LTX-2) at 24 fps, as `reelbridge run` makes it.
// Each job renders twice in the same run: "before" with the settings the renderer had before
// issue #15 (REMOTION_DEFAULT_TUNING) and "after" with today's (LOCAL_RENDER_TUNING), and the two
// videos are compared frame by frame with FFmpeg's ssim filter (target: SSIM ≥ 0.98 at every
// sampled timestamp), so speed is not bought with a different video.
// Outputs are kept in BENCH_OUT (default $TMPDIR/reelbridge-render-speed): `<aspect>-before.mp4`,
// `<aspect>-after.mp4`, `<aspect>-ffmpeg.mp4`.
// The first aspect is also rendered at a preview scale (BENCH_PREVIEW_SCALE, default 0.25, 1 = none),
// before and after, as `reelbridge run --scale 0.25` and the burst benchmark render.
// Env: BENCH_SECONDS (base clip, default 6), BENCH_ASPECTS (default "9:16,16:9"), BENCH_TUNING
// (JSON merged over the "after" tuning, to try a setting), BENCH_BEFORE=0 (skip the "before"
// render and compare with the `<aspect>-before.mp4` already in BENCH_OUT).
// One JSON line per figure: {"name","value","unit",…}. Takes 3–5 minutes on 2 cores.
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { createFfmpegVideoGenerator } from "@reelbridge/core/adapters/ffmpeg/offline-generator";
import { normalizeImage } from "@reelbridge/core/media/image";
import { SAMPLE_PHOTO } from "@reelbridge/local/commands/run";
import { ensureBundle } from "@reelbridge/local/render/bundle-cache";
import type { RenderProgress, RenderTuning } from "@reelbridge/local/render/renderer";
import { LOCAL_RENDER_TUNING, REMOTION_DEFAULT_TUNING, createLocalRenderer } from "@reelbridge/local/render/renderer";
import { DEFAULT_MUSIC_ID, MUSIC_CATALOG } from "@reelbridge/remotion/music";
import type { Aspect, RenderInputProps } from "@reelbridge/remotion/props";
import { COMPOSITIONS, DIMENSIONS, END_CARD_SECONDS, FPS } from "@reelbridge/remotion/props";

const exec = promisify(execFile);
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
const print = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ bench: "render-speed", name, value: round(value, 3), unit, ...extra }));
const note = (s: string) => process.stderr.write(`render-speed: ${s}\n`);

const BASE_SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ASPECTS = (process.env.BENCH_ASPECTS ?? "9:16,16:9").split(",").map((s) => s.trim()) as Aspect[];
const OUT = process.env.BENCH_OUT ?? path.join(tmpdir(), "reelbridge-render-speed");
const cacheDir = process.env.REELBRIDGE_CACHE_DIR ?? path.join(tmpdir(), "reelbridge-render-cache");
const repoRoot = path.resolve(import.meta.dirname, "..");
const TITLE = "Golden hour at the lake";
const SUBTITLE = "Made with reelbridge";
const FONT_BOLD = "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf";
const FONT_REGULAR = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf";
const frames = Math.ceil(BASE_SECONDS * FPS) + END_CARD_SECONDS * FPS;
const AFTER: RenderTuning = { ...LOCAL_RENDER_TUNING, ...(JSON.parse(process.env.BENCH_TUNING ?? "{}") as Partial<RenderTuning>) };
const RENDER_BEFORE = process.env.BENCH_BEFORE !== "0";
const SSIM_TARGET = 0.98;
const PREVIEW_SCALE = Number(process.env.BENCH_PREVIEW_SCALE ?? 0.25);

// ---- CPU per process kind, from /proc ----------------------------------------------------------
const TICK = 100; // USER_HZ on Linux
type Kind = "chromium" | "compositor" | "ffmpeg-encode" | "ffmpeg-other" | "other";
const classify = (comm: string, cmdline: string): Kind => {
  if (comm === "ffmpeg") return /-c:v|libx264/.test(cmdline) ? "ffmpeg-encode" : "ffmpeg-other";
  if (comm === "remotion") return "compositor";
  if (comm.startsWith("chrom")) return "chromium";
  return "other";
};
const readStat = async (pid: number) => {
  const s = await readFile(`/proc/${pid}/stat`, "utf8");
  const close = s.lastIndexOf(")");
  const comm = s.slice(s.indexOf("(") + 1, close);
  const f = s.slice(close + 2).split(" ");
  return { comm, cpu: (Number(f[11]) + Number(f[12])) / TICK };
};
/** Samples the CPU seconds of every descendant process until stop(); per kind, between start and stop. */
const cpuSampler = (intervalMs = 150) => {
  const seen = new Map<number, { kind: Kind; first: number; last: number }>();
  const cmdlines = new Map<number, string>();
  // Walks the process tree from this process through /proc/<pid>/task/<tid>/children (cheap:
  // only our own descendants are read, not every process on the machine).
  const descendants = async (pid: number, into: number[]) => {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const tid of tasks) {
      const kids = await readFile(`/proc/${pid}/task/${tid}/children`, "utf8").catch(() => "");
      for (const k of kids.split(" ").filter(Boolean).map(Number)) {
        into.push(k);
        await descendants(k, into);
      }
    }
    return into;
  };
  const sample = async (initial: boolean) => {
    for (const pid of await descendants(process.pid, [])) {
      const st = await readStat(pid).catch(() => null);
      if (!st) continue;
      const entry = seen.get(pid);
      // A child seen between fork and exec still has its parent's name: look again until it is known.
      if (!cmdlines.has(pid) || entry?.kind === "other") cmdlines.set(pid, await readFile(`/proc/${pid}/cmdline`, "utf8").then((c) => c.replaceAll("\0", " "), () => ""));
      if (entry?.kind === "other") entry.kind = classify(st.comm, cmdlines.get(pid)!);
      if (entry) entry.last = st.cpu;
      // A process born during the measurement counts from zero.
      else seen.set(pid, { kind: classify(st.comm, cmdlines.get(pid)!), first: initial ? st.cpu : 0, last: st.cpu });
    }
  };
  const self0 = process.cpuUsage();
  let running = true;
  const loop = (async () => {
    await sample(true);
    while (running) {
      await new Promise((r) => setTimeout(r, intervalMs));
      await sample(false);
    }
  })();
  return async (): Promise<Record<Kind | "node", number>> => {
    running = false;
    await loop;
    const self = process.cpuUsage(self0);
    const out: Record<Kind | "node", number> = { chromium: 0, compositor: 0, "ffmpeg-encode": 0, "ffmpeg-other": 0, other: 0, node: (self.user + self.system) / 1e6 };
    for (const [pid, e] of seen) {
      out[e.kind] += e.last - e.first;
      if (process.env.BENCH_DEBUG) note(`cpu ${pid} ${e.kind} ${(e.last - e.first).toFixed(2)} s: ${cmdlines.get(pid)?.slice(0, 140)}`);
    }
    return out;
  };
};

// ---- the base clip, as `reelbridge run` makes it -----------------------------------------------
const makeBaseClip = async (aspect: Aspect, dir: string): Promise<string> => {
  const { width, height } = DIMENSIONS[aspect];
  const image = await normalizeImage(await readFile(SAMPLE_PHOTO), { aspect });
  const generator = createFfmpegVideoGenerator({ workDir: path.join(dir, "gen") });
  const clip = await generator.generate(
    { jobId: `bench-${aspect.replace(":", "x")}`, image: { bytes: image.bytes }, prompt: "slow dolly in over the water", cameraMotion: "dolly_in", durationSeconds: BASE_SECONDS, width, height, fps: 24 },
    { onSubmitted: async () => {} },
  );
  const file = path.join(dir, `base-${aspect.replace(":", "x")}.mp4`);
  await writeFile(file, clip.video);
  return file;
};

// ---- the FFmpeg reference composite ------------------------------------------------------------
const ffmpegReference = async (aspect: Aspect, base: string, scrim: string, out: string): Promise<number> => {
  const { width: W, height: H } = DIMENSIONS[aspect];
  const baseEnd = Math.ceil(BASE_SECONDS * FPS) / FPS;
  const total = baseEnd + END_CARD_SECONDS;
  const music = path.join(repoRoot, "remotion", "public", MUSIC_CATALOG[DEFAULT_MUSIC_ID].file);
  const esc = (s: string) => s.replaceAll("\\", "\\\\").replaceAll(":", "\\:").replaceAll("'", "\\'");
  // The titles: in from 4 and 12 frames, out over the clip's last 8 frames, like the composition.
  const fade = (delay: number) => `min(1\\,max(0\\,(t-${delay / FPS})/0.6))*min(1\\,max(0\\,(${baseEnd}-t)/${8 / FPS}))`;
  const titleSize = aspect === "9:16" ? 104 : 96;
  const bottom = aspect === "9:16" ? 400 : 120;
  const graph = [
    `[0:v]fps=${FPS},scale=${W}:${H},setsar=1,trim=duration=${baseEnd},format=yuv420p[clip]`,
    `[1:v]format=rgba[scrim]`,
    `[clip][scrim]overlay=0:0:format=auto,` +
      `drawtext=fontfile=${FONT_BOLD}:text='${esc(TITLE)}':fontsize=${titleSize}:fontcolor=white:shadowcolor=black@0.5:shadowy=4:x=(w-text_w)/2:y=h-${bottom}-160-text_h:alpha='${fade(4)}',` +
      `drawtext=fontfile=${FONT_REGULAR}:text='${esc(SUBTITLE)}':fontsize=52:fontcolor=white@0.92:shadowcolor=black@0.5:shadowy=3:x=(w-text_w)/2:y=h-${bottom}-text_h:alpha='${fade(12)}'[main]`,
    `color=c=0x1c2440:s=${W}x${H}:r=${FPS}:d=${END_CARD_SECONDS},format=yuv420p,` +
      `drawtext=fontfile=${FONT_BOLD}:text='${esc(TITLE)}':fontsize=104:fontcolor=white:shadowcolor=black@0.5:shadowy=4:x=(w-text_w)/2:y=(h-text_h)/2,` +
      `fade=t=in:st=0:d=${10 / FPS}[end]`,
    `[main][end]concat=n=2:v=1:a=0[v]`,
    `[2:a]aloop=loop=-1:size=2e9,atrim=duration=${total},afade=t=in:d=1,afade=t=out:st=${total - 1.5}:d=1.5,volume=0.5[a]`,
  ].join(";");
  const started = performance.now();
  await exec("ffmpeg", [
    "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
    "-i", base, "-loop", "1", "-i", scrim, "-i", music,
    "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-g", String(FPS * 2),
    "-c:a", "aac", "-b:a", "320k", "-t", String(total), "-movflags", "+faststart", out,
  ]);
  return performance.now() - started;
};

/** The composition's scrim as a still PNG (a vertical gradient, computed once per size). */
const makeScrim = async (aspect: Aspect, file: string) => {
  const { width: W, height: H } = DIMENSIONS[aspect];
  // alpha by row: 0.35 → 0 over the top 16 %, 0 until 38 %, → 0.55 at 62 %, → 0.82 at 100 %.
  const a = "255*if(lt(Y/H,0.16),0.35*(1-Y/H/0.16),if(lt(Y/H,0.38),0,if(lt(Y/H,0.62),0.55*(Y/H-0.38)/0.24,0.55+0.27*(Y/H-0.62)/0.38)))";
  await exec("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", `color=c=black:s=${W}x${H}:d=1,format=rgba,geq=r=0:g=0:b=0:a='${a}'`, "-frames:v", "1", file]);
};

// ---- same video? ------------------------------------------------------------------------------
/** Per-frame SSIM (FFmpeg's ssim filter, "All" = Y, U and V weighted) of two renders of the same job. */
const ssimPerFrame = async (a: string, b: string): Promise<number[]> => {
  const stats = path.join(work, `ssim-${path.basename(a)}.log`);
  await exec("ffmpeg", ["-hide_banner", "-loglevel", "error", "-i", a, "-i", b, "-lavfi", `[0:v][1:v]ssim=stats_file=${stats}`, "-f", "null", "-"]);
  return (await readFile(stats, "utf8")).split("\n").filter(Boolean).map((l) => Number(/All:([\d.]+)/.exec(l)?.[1] ?? Number.NaN));
};

// ---- the local render, instrumented ------------------------------------------------------------
type Measured = { ms: number; firstFrameMs: number; lastFrameMs: number; cpu: Record<string, number> };
const measure = async (run: (onProgress: (p: RenderProgress) => void) => Promise<unknown>): Promise<Measured> => {
  const stop = cpuSampler();
  const started = performance.now();
  let firstFrameMs = Number.NaN;
  let lastFrameMs = Number.NaN;
  await run((p) => {
    const now = performance.now() - started;
    if (p.renderedFrames > 0 && Number.isNaN(firstFrameMs)) firstFrameMs = now;
    if (p.renderedFrames >= frames && Number.isNaN(lastFrameMs)) lastFrameMs = now;
  });
  const ms = performance.now() - started;
  return { ms, firstFrameMs, lastFrameMs, cpu: await stop() };
};

const report = (prefix: string, m: Measured) => {
  print(`${prefix}.seconds`, m.ms / 1000, "s");
  print(`${prefix}.fps`, frames / (m.ms / 1000), "frames/s");
  print(`${prefix}.phase.startup`, m.firstFrameMs / 1000, "s", { note: "render() called → first frame rendered (composition, page, compositor, base clip download)" });
  print(`${prefix}.phase.frames`, (m.lastFrameMs - m.firstFrameMs) / 1000, "s", { note: "first → last frame rendered (capture, with encoding in parallel)" });
  print(`${prefix}.phase.tail`, (m.ms - m.lastFrameMs) / 1000, "s", { note: "last frame rendered → file written (encoder flush, audio, mux)" });
  const total = Object.values(m.cpu).reduce((a, b) => a + b, 0);
  for (const [kind, s] of Object.entries(m.cpu)) {
    if (s > 0) print(`${prefix}.cpu_ms_per_frame.${kind}`, (s * 1000) / frames, "ms", { share: `${Math.round((s / total) * 100)} %` });
  }
  print(`${prefix}.cpu_seconds`, total, "s", { cores: cpus().length, utilisation: `${Math.round((total / (m.ms / 1000) / cpus().length) * 100)} %` });
};

await mkdir(OUT, { recursive: true });
const work = path.join(OUT, "work");
await mkdir(work, { recursive: true });
note(`${frames} frames per job (${BASE_SECONDS} s base clip + ${END_CARD_SECONDS} s end card), aspects ${ASPECTS.join(", ")}; outputs in ${OUT}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
await ensureBundle({ cacheDir });
const before = RENDER_BEFORE ? createLocalRenderer({ cacheDir, tuning: REMOTION_DEFAULT_TUNING }) : null;
const after = createLocalRenderer({ cacheDir, tuning: AFTER });
note(`before: ${JSON.stringify(REMOTION_DEFAULT_TUNING)}; after: ${JSON.stringify(AFTER)}`);
let ok = true;
try {
  const cases: Array<{ aspect: Aspect; scale: number }> = ASPECTS.map((aspect) => ({ aspect, scale: 1 }));
  // The preview size `reelbridge run --scale 0.25` and the burst benchmark render at.
  if (PREVIEW_SCALE < 1) cases.push({ aspect: ASPECTS[0]!, scale: PREVIEW_SCALE });
  const clips = new Map<Aspect, string>();
  for (const { aspect, scale } of cases) {
    const tag = aspect.replace(":", "x") + (scale === 1 ? "" : `@${scale}`);
    const base = clips.get(aspect) ?? (await makeBaseClip(aspect, work));
    clips.set(aspect, base);
    const scrim = path.join(work, `scrim-${tag}.png`);
    if (scale === 1) await makeScrim(aspect, scrim);
    const props: RenderInputProps = {
      title: TITLE,
      subtitle: SUBTITLE,
      aspect,
      baseVideoUrl: pathToFileURL(base).href,
      baseVideoDurationSeconds: BASE_SECONDS,
      musicId: DEFAULT_MUSIC_ID,
    };
    const compositionId = COMPOSITIONS[aspect];
    // Warm the browsers, bundle and OS caches once, off the clock.
    for (const r of [before, after]) await r?.render({ compositionId, inputProps: { ...props, baseVideoDurationSeconds: 0.2 }, outputPath: path.join(work, "warm.mp4"), scale: 0.25 });

    // The reference runs before, between and after the local renders; each render is compared
    // with the mean of the two runs around it (other work on a shared machine moves both).
    // At a preview scale only before and after are compared (the reference is full size).
    const reference = async () => (scale === 1 ? ffmpegReference(aspect, base, scrim, path.join(OUT, `${tag}-ffmpeg.mp4`)) : Number.NaN);
    const refRuns = [await reference()];
    const beforeOut = path.join(OUT, `${tag}-before.mp4`);
    const afterOut = path.join(OUT, `${tag}-after.mp4`);
    const runs: Array<{ label: string; m: Measured; refMs: number }> = [];
    for (const [label, r, out] of [["before", before, beforeOut], ["after", after, afterOut]] as const) {
      if (!r) continue;
      const m = await measure((onProgress) => r.render({ compositionId, inputProps: props, outputPath: out, scale, onProgress }));
      refRuns.push(await reference());
      runs.push({ label, m, refMs: (refRuns.at(-2)! + refRuns.at(-1)!) / 2 });
    }
    const refMean = refRuns.reduce((a, b) => a + b, 0) / refRuns.length;
    if (scale === 1) {
      print(`${tag}.ffmpeg.seconds`, refMean / 1000, "s", { runs: refRuns.map((r) => round(r / 1000)), note: "FFmpeg composite of the same base clip and length, x264 veryfast (mean of the runs around the local renders)" });
      print(`${tag}.ffmpeg.fps`, frames / (refMean / 1000), "frames/s");
    }
    for (const { label, m, refMs } of runs) {
      report(`${tag}.${label}`, m);
      if (scale === 1) print(`${tag}.${label}.ratio`, m.ms / refMs, "x", { ...(aspect === "9:16" && label === "after" ? { target: 3, met: m.ms / refMs <= 3 } : {}), reference_s: round(refMs / 1000), note: "local render ÷ FFmpeg reference around it" });
    }
    const [b, a] = [runs.find((r) => r.label === "before"), runs.find((r) => r.label === "after")];
    if (b && a) print(`${tag}.speedup`, b.m.ms / a.m.ms, "x", { note: "before ÷ after, same run" });

    const ssim = await ssimPerFrame(afterOut, beforeOut).catch((err: unknown) => {
      note(`no SSIM for ${tag}: ${err instanceof Error ? err.message.split("\n").at(-2) : String(err)}`);
      return null;
    });
    if (ssim) {
      // A few timestamps: the titles fading in, on screen, the clip's last frames, the end card.
      const at = [0.3, 1, 3, BASE_SECONDS - 0.1, BASE_SECONDS + 1, BASE_SECONDS + END_CARD_SECONDS - 0.1];
      for (const t of at) {
        const v = ssim[Math.min(ssim.length - 1, Math.round(t * FPS))]!;
        print(`${tag}.ssim.at_${t}s`, v, "SSIM", { target: SSIM_TARGET, met: v >= SSIM_TARGET });
        if (!(v >= SSIM_TARGET)) ok = false;
      }
      print(`${tag}.ssim.min`, Math.min(...ssim), "SSIM", { frames: ssim.length, frame: ssim.indexOf(Math.min(...ssim)) });
      print(`${tag}.ssim.mean`, ssim.reduce((x, y) => x + y, 0) / ssim.length, "SSIM");
    }
  }
} finally {
  await before?.close();
  await after.close();
  await rm(work, { recursive: true, force: true });
}
if (!ok) {
  note(`an "after" frame differs from "before" (SSIM < ${SSIM_TARGET})`);
  process.exitCode = 1;
}
