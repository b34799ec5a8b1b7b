// A burst: 20 jobs submitted at once through the embedded runtime (upload API + presigned POST
// each, all in parallel). To finish in a few minutes on 2 cores the jobs are small: render scale
// 0.25 and 2 s base clips (BENCH_JOBS, BENCH_SCALE, BENCH_DURATION change that); the output says so.
//   pipeline-burst.total            first upload request → last job recorded completed
//   pipeline-burst.completed        job records completed (target: all of them)
//   pipeline-burst.failed           jobs that ended failed, visibly, with a reason (printed on stderr)
//   pipeline-burst.lost             jobs neither completed nor failed (target: 0)
//   pipeline-burst.dlq              dead-lettered deliveries (target: 0)
//   pipeline-burst.max-in-flight.<queued subscription>
//                                   most invocations in flight at once, from the bus's
//                                   invoking/delivered/failed events (target: ≤ the stage's limit)
//   pipeline-burst.max-concurrent-renders
//                                   renders running at once in the local Remotion (first progress
//                                   → RenderCompleted), against the same render limit
//   pipeline-burst.job-latency.p50|max   upload → recorded, per job
//   pipeline-burst.ltx-queue-wait.max    Object Created accepted → the LTX step picking it up
// One JSON line per figure: {"name","value","unit"}. Exits 1 when a target is missed.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runJob, SAMPLE_PHOTO } from "@reelbridge/local/commands/run";
import { captureLambdaLogs, originalStdoutWrite } from "@reelbridge/local/runtime/logs";
import type { RenderTuning } from "@reelbridge/local/render/renderer";
import { startRuntime } from "@reelbridge/local/runtime/runtime";
import type { Runtime } from "@reelbridge/local/runtime/runtime";
import { printer, queueLimits, seconds, seedRenderCache, traceBus } from "./pipeline-trace.lib";

const print = printer(originalStdoutWrite, "pipeline-burst");
const JOBS = Number(process.env.BENCH_JOBS ?? 20);
const scale = Number(process.env.BENCH_SCALE ?? 0.25);
const durationSeconds = Number(process.env.BENCH_DURATION ?? 2);
// BENCH_TUNING: a RenderTuning (JSON) for the local renderer, e.g. the renderer before issue #15:
// '{"x264Preset":null,"shrinkBaseClip":false,"baseLayer":"page","captureDistinctOnly":false}'.
const tuning = JSON.parse(process.env.BENCH_TUNING ?? "{}") as Partial<RenderTuning>;
const settings = { jobs: JOBS, scale, durationSeconds, aspect: "9:16", tuning, note: `small jobs (render scale ${scale}, ${durationSeconds} s clips) so the burst fits in minutes on 2 cores` };


const dir = await mkdtemp(join(tmpdir(), "reelbridge-bench-burst-"));
const dataDir = join(dir, "data");
const restoreLogs = captureLambdaLogs(join(dataDir, "logs", "runtime.jsonl"));
let runtime: Runtime | undefined;
let ok = true;
try {
  await seedRenderCache(dataDir);
  runtime = await startRuntime({ dataDir, renderScale: scale, renderTuning: tuning });
  const rt = runtime;
  const trace = traceBus(rt.bus);
  const limits = queueLimits(rt);
  // Per job: when its render first reported progress (it had a renderer slot) and last did.
  const renderSpan = new Map<string, { first: number; last: number }>();
  const stopProgress = rt.onProgress((p) => {
    if (p.step !== "rendering") return;
    const span = renderSpan.get(p.jobId);
    if (span) span.last = Date.now();
    else renderSpan.set(p.jobId, { first: Date.now(), last: Date.now() });
  });

  const submitted = Date.now();
  const results = await Promise.all(
    Array.from({ length: JOBS }, (_, i) =>
      runJob(rt, {
        image: SAMPLE_PHOTO,
        title: `Burst job ${i + 1} of ${JOBS}`,
        subtitle: "Made with reelbridge",
        cameraPrompt: "slow dolly in over the water",
        aspect: "9:16",
        durationSeconds,
        timeoutMs: 20 * 60_000,
      }),
    ),
  );
  await rt.bus.onIdle();
  const idle = Date.now();
  trace.stop();
  stopProgress();

  const ids = results.map((r) => r.jobId);
  const records = await Promise.all(ids.map((id) => rt.jobs.get(id)));
  const completed = records.filter((r) => r?.status === "completed").length;
  const dlq = rt.bus.dlq.list().length;
  const recordedAt = (jobId: string) => trace.invocations.find((i) => i.subscription === "db-writer" && i.jobIds.includes(jobId) && i.types.includes("SegmentsReady"))?.end;
  const latencies = ids.map((id) => (recordedAt(id) ?? Number.NaN) - submitted).sort((a, b) => a - b);
  const lastRecorded = Math.max(...ids.map((id) => recordedAt(id) ?? idle));
  const queueWaits = ids.map((id) => {
    const created = trace.accepted.find((a) => a.type === "Object Created" && a.jobId === id)?.at ?? Number.NaN;
    const picked = trace.invocations.find((i) => i.subscription === "ltx-step" && i.jobIds.includes(id))?.start ?? Number.NaN;
    return picked - created;
  });

  print("total", seconds(lastRecorded - submitted), "s", settings);
  print("until-idle", seconds(idle - submitted), "s", { note: "until every delivery (webhooks too) settled" });
  const failedJobs = records.filter((r) => r?.status === "failed");
  print("completed", completed, "jobs", { of: JOBS, target: JOBS });
  print("failed", failedJobs.length, "jobs", { reasons: [...new Set(failedJobs.map((r) => r!.failure?.code ?? "?"))] });
  print("lost", JOBS - completed - failedJobs.length, "jobs", { target: 0 });
  print("segments-ready", trace.accepted.filter((a) => a.type === "SegmentsReady" && ids.includes(a.jobId ?? "")).length, "events", { target: JOBS });
  print("dlq", dlq, "entries", { target: 0 });
  print("failed-deliveries", trace.invocations.filter((i) => !i.ok).length, "invocations", { note: "retried by the bus; informational" });
  ok = completed === JOBS && dlq === 0;
  for (const [i, r] of records.entries()) {
    if (r?.status === "completed") continue;
    const seen = trace.accepted.filter((a) => a.jobId === ids[i]).map((a) => a.type);
    process.stderr.write(`pipeline-burst: job ${ids[i]} ended ${r?.status ?? "without a record"} (${results[i]!.status})${r?.failure ? `: ${r.failure.code} ${r.failure.message}` : ""}; its events: ${seen.join(", ")}\n`);
  }
  for (const [sub, limit] of Object.entries(limits)) {
    const max = trace.maxInFlight[sub] ?? 0;
    print(`max-in-flight.${sub}`, max, "invocations", { limit, respected: max <= limit });
    if (max > limit) ok = false;
  }
  // A render holds its slot from its first progress until its outcome is published (RenderCompleted
  // or RenderFailed); one that never got an outcome, until its last progress report.
  const edges = [...renderSpan].flatMap(([jobId, span]) => {
    const outcome = trace.accepted.find((a) => (a.type === "RenderCompleted" || a.type === "RenderFailed") && a.jobId === jobId)?.at;
    return [{ t: span.first, d: 1 }, { t: outcome ?? span.last, d: -1 }];
  });
  let running = 0;
  let maxRenders = 0;
  for (const e of edges.sort((a, b) => a.t - b.t || a.d - b.d)) maxRenders = Math.max(maxRenders, (running += e.d));
  const renderLimit = rt.config.concurrency.render;
  print("max-concurrent-renders", maxRenders, "renders", { limit: renderLimit, respected: maxRenders <= renderLimit });
  if (maxRenders > renderLimit) ok = false;
  print("job-latency.p50", seconds(latencies[Math.floor(latencies.length / 2)]!), "s");
  print("job-latency.max", seconds(latencies.at(-1)!), "s");
  print("ltx-queue-wait.max", seconds(Math.max(...queueWaits)), "s");
  print("throughput", JOBS / (seconds(lastRecorded - submitted) / 60), "jobs/min");
  if (!ok) process.stderr.write(`pipeline-burst: a target was missed (completed ${completed}/${JOBS}, dlq ${dlq}, in flight ${JSON.stringify(trace.maxInFlight)} vs ${JSON.stringify(limits)})\n`);
} catch (err) {
  ok = false;
  process.stderr.write(`pipeline-burst failed: ${err instanceof Error ? err.stack : String(err)}\n`);
} finally {
  await runtime?.close();
  restoreLogs();
  if (!process.env.BENCH_KEEP) await rm(dir, { recursive: true, force: true });
  else process.stderr.write(`kept ${dir}\n`);
}
process.exit(ok ? 0 : 1);
