// Our own Lambdas' GB-seconds per job (issue #13 item 3), from measured invocations: one job
// through the embedded runtime (`reelbridge run`'s path: upload API, presigned POST, every step),
// with the LTX step's real adapter against the fake LTX server (packages/testing), so the LTX
// step submits, looks and downloads over HTTP exactly as it would against api.ltx.video.
//
// Every handler invocation is timed by the runtime (Runtime.onInvocation: wall time of the
// handler call × the topology's memoryMB, which is what Lambda bills); the figures below are
// sums of those, per function and in total. Nothing is computed from constants except the
// "before" line, which is labelled as derived.
//
// Time: a realistic LTX-2 generation takes ~80 s (REFERENCE.md §1.6). Here it takes 8 s of real
// time (the fake's pending + processing) and the queue's re-check delays are scaled by the same
// 1/10 (RuntimeOptions.checkDelayScale), so the step makes the looks it would make for an 80 s
// generation (first after 30 s, then every 10 s, in simulated seconds). A look's own duration
// does not depend on the wait, so its measured GB-s are what an 80 s generation costs.
//   BENCH_SCALE          render scale (default 0.25: the render is not our Lambda's time)
//   BENCH_GENERATION_S   simulated generation time, s (default 80)
//   BENCH_TIME_SCALE     real seconds per simulated second (default 0.1)
//
// Figures (JSON lines): lambda-gb-seconds.after.<function> (GB-s, with invocations and ms),
// lambda-gb-seconds.after.total, lambda-gb-seconds.after.ltx-step.looks,
// lambda-gb-seconds.before.ltx-step (derived) and .before.total, the target, and the check of the
// handler wrapper's per-job record (step state lambda-usage.ltx-step) against the runtime's.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFfmpegVideoGenerator } from "@reelbridge/core/adapters/ffmpeg/offline-generator";
import { createLtxVideoGenerator, LTX_CHECK_INTERVAL_SECONDS } from "@reelbridge/core/adapters/ltx/generator";
import { normalizeImage } from "@reelbridge/core/media/image";
import { runJob, SAMPLE_PHOTO } from "@reelbridge/local/commands/run";
import { captureLambdaLogs, originalStdoutWrite } from "@reelbridge/local/runtime/logs";
import type { InvocationRecord } from "@reelbridge/local/runtime/lambda";
import { startRuntime } from "@reelbridge/local/runtime/runtime";
import type { Runtime } from "@reelbridge/local/runtime/runtime";
import { subscriptions } from "@reelbridge/functions/topology";
import { startFakeLtxServer } from "@reelbridge/testing/ltx-server";
import type { FakeLtxServer } from "@reelbridge/testing/ltx-server";
import { printer, seedRenderCache } from "./pipeline-trace.lib";

const print = printer(originalStdoutWrite, "lambda-gb-seconds");
const say = (line: string) => process.stderr.write(`${line}\n`);
const scale = Number(process.env.BENCH_SCALE ?? 0.25);
const generationSeconds = Number(process.env.BENCH_GENERATION_S ?? 80);
const timeScale = Number(process.env.BENCH_TIME_SCALE ?? 0.1);
const TARGET_GB_S = 5;
const API_KEY = "bench-ltx-key";

const dir = await mkdtemp(join(tmpdir(), "reelbridge-bench-gbs-"));
const dataDir = join(dir, "data");
const restoreLogs = captureLambdaLogs(join(dataDir, "logs", "runtime.jsonl"));
let runtime: Runtime | undefined;
let ltx: FakeLtxServer | undefined;
let failed = false;
try {
  await seedRenderCache(dataDir);
  // The clip "LTX" returns is made once, before anything is measured, with the offline FFmpeg
  // generator (made during the run, its FFmpeg would compete for this machine's 2 cores with the
  // very invocations being timed). The fake's job then answers pending, then processing, then
  // completed exactly when the simulated generation time has passed.
  const photo = await normalizeImage(new Uint8Array(await readFile(SAMPLE_PHOTO)), { aspect: "9:16" });
  const clip = (
    await createFfmpegVideoGenerator({ workDir: join(dir, "clip") }).generate({ jobId: "bench-clip", image: { bytes: photo.bytes }, prompt: "", cameraMotion: "dolly_in", durationSeconds: 6, width: photo.width, height: photo.height, fps: 24 })
  ).video;
  const real = generationSeconds * timeScale * 1000;
  ltx = await startFakeLtxServer({ apiKey: API_KEY, allowHttp: true, allowIpHosts: true, pendingMs: real * 0.25, processingMs: real * 0.75, videoFactory: async () => clip });
  const videoGenerator = createLtxVideoGenerator({ apiKey: API_KEY, baseUrl: ltx.url, model: "ltx-2-fast", checkIntervalSeconds: LTX_CHECK_INTERVAL_SECONDS });
  runtime = await startRuntime({ dataDir, renderScale: scale, videoGenerator, checkDelayScale: timeScale });

  const invocations: InvocationRecord[] = [];
  const stop = runtime.onInvocation((r) => invocations.push(r));
  const result = await runJob(runtime, {
    image: SAMPLE_PHOTO,
    title: "Golden hour at the lake",
    subtitle: "Made with reelbridge",
    cameraPrompt: "slow dolly in over the water",
    aspect: "9:16",
    durationSeconds: 6,
  });
  // The notifier's webhooks and the DB writer's last records settle after the job is complete.
  await runtime.bus.onIdle();
  stop();
  if (result.status !== "completed") throw new Error(`the job ended ${result.status}: ${JSON.stringify(result.failure)}`);

  // One job ran: every invocation concerning it, plus the upload API call that created it (an
  // HTTP invocation carries no event to name the job). The render watchdog's timer is per
  // stage, not per job, and the status API is only called by clients: both left out.
  const perJob = invocations.filter((i) => i.jobIds.includes(result.jobId) || (i.kind === "http" && i.function === "upload-api"));
  const byFunction = new Map<string, { invocations: number; ms: number; gbSeconds: number; memoryMB: number; checks: number }>();
  for (const i of perJob) {
    const f = byFunction.get(i.function) ?? { invocations: 0, ms: 0, gbSeconds: 0, memoryMB: i.memoryMB, checks: 0 };
    f.invocations++;
    f.ms += i.ms;
    f.gbSeconds += i.gbSeconds;
    if (i.failed) f.checks++;
    byFunction.set(i.function, f);
  }
  let total = 0;
  for (const [fn, f] of [...byFunction].sort(([a], [b]) => a.localeCompare(b))) {
    total += f.gbSeconds;
    print(`after.${fn}`, f.gbSeconds, "GB-s", { invocations: f.invocations, ms: Math.round(f.ms), memoryMB: f.memoryMB });
  }
  print("after.total", total, "GB-s", { job: result.jobId, functions: byFunction.size, target: TARGET_GB_S });

  const ltxStep = perJob.filter((i) => i.function === "ltx-step").sort((a, b) => a.at.localeCompare(b.at));
  const ltxGbs = byFunction.get("ltx-step")?.gbSeconds ?? 0;
  const submit = ltxStep[0]!;
  const last = ltxStep.at(-1)!;
  const looks = ltxStep.length - 1;
  print("after.ltx-step.looks", looks, "invocations", { statusPolls: ltx.counts().statusPolls, submitMs: Math.round(submit.ms), lookMsMedian: Math.round(median(ltxStep.slice(1, -1).map((i) => i.ms))), lastLookMs: Math.round(last.ms) });
  print("after.ltx-step", ltxGbs, "GB-s", { target: TARGET_GB_S, withinTarget: ltxGbs <= TARGET_GB_S });

  // Before (derived, not measured): the previous design held the LTX step's invocation from the
  // submit to the stored clip, polling every 5 s: its duration was this run's submit work, plus
  // the whole (simulated) generation, plus this run's download-and-store work, at the same memory.
  const memoryGB = subscriptions({ mediaBucket: "bench" }).find((s) => s.name === "ltx-step")!.memoryMB / 1024;
  const beforeLtx = ((submit.ms + generationSeconds * 1000 + last.ms) / 1000) * memoryGB;
  print("before.ltx-step", beforeLtx, "GB-s", { derived: `(measured submit ${Math.round(submit.ms)} ms + ${generationSeconds} s generation + measured download/store ${Math.round(last.ms)} ms) × ${memoryGB} GB` });
  print("before.total", total - ltxGbs + beforeLtx, "GB-s", { derived: "the other functions as measured, the LTX step as before.ltx-step" });
  print("target", TARGET_GB_S, "GB-s per job");

  // The handler wrapper records the same invocations per job in step state (what the stepCost
  // Lambda line on VideoBaseReady is made from): the event's figure against the runtime's.
  const ready = (await runtime.jobs.get(result.jobId))?.cost?.lines.find((l) => l.item === "lambda:ltx-step");
  if (ready) print("recorded.ltx-step", ready.quantity, "GB-s", { basis: ready.basis, runtimeMeasured: Math.round(ltxGbs * 1000) / 1000 });
  say(`lambda-gb-seconds: ${result.jobId}: ${looks} looks at an ${generationSeconds} s generation (scaled ×${timeScale}), ltx-step ${ltxGbs.toFixed(3)} GB-s (before, derived: ${beforeLtx.toFixed(1)}), all functions ${total.toFixed(3)} GB-s`);
} catch (err) {
  failed = true;
  say(`lambda-gb-seconds failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await runtime?.close().catch(() => undefined);
  await ltx?.close().catch(() => undefined);
  restoreLogs();
  await rm(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
