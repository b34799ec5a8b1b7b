// `reelbridge run` on the sample photo with the CLI's defaults (9:16, 6 s, full resolution):
// the embedded runtime in a fresh data dir (Remotion bundle taken from the shared cache, as a
// second run finds it), one job through the upload API, the presigned POST and every step.
//   pipeline-run.total             upload API request → job record completed (SegmentsReady recorded)
//   pipeline-run.step.<event>      when each step's event was published, since the upload
//   pipeline-run.generating        the LTX step's first invocation start → VideoBaseReady (validate,
//                                  normalise, submit, the generator's run and the step's looks at it:
//                                  no invocation waits for it, docs/decisions/0010)
//   pipeline-run.rendering         RenderStarted → RenderCompleted (local Remotion + Chromium)
//   pipeline-run.segmenting        segmenter handler wall time (HLS, clips, poster)
//   pipeline-run.overhead          total − generating − rendering − segmenting: uploads, bus hops,
//                                  queues, handler start-up, DynamoDB writes. Target: < 1 s per job.
// Also the runtime's start-up and the whole run until every webhook has settled. One JSON line
// per figure: {"name","value","unit"}. Takes about 2-4 minutes on 2 cores.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runJob, SAMPLE_PHOTO } from "@reelbridge/local/commands/run";
import { captureLambdaLogs, originalStdoutWrite } from "@reelbridge/local/runtime/logs";
import { startRuntime } from "@reelbridge/local/runtime/runtime";
import type { Runtime } from "@reelbridge/local/runtime/runtime";
import { printer, seconds, seedRenderCache, traceBus } from "./pipeline-trace.lib";

const print = printer(originalStdoutWrite, "pipeline-run");
const scale = Number(process.env.BENCH_SCALE ?? 1);
const dir = await mkdtemp(join(tmpdir(), "reelbridge-bench-run-"));
const dataDir = join(dir, "data");
const restoreLogs = captureLambdaLogs(join(dataDir, "logs", "runtime.jsonl"));
let runtime: Runtime | undefined;
let failed = false;
try {
  await seedRenderCache(dataDir);
  const t0 = Date.now();
  runtime = await startRuntime({ dataDir, renderScale: scale });
  print("runtime-start", seconds(Date.now() - t0), "s");
  const trace = traceBus(runtime.bus);

  const submitted = Date.now();
  const result = await runJob(runtime, {
    image: SAMPLE_PHOTO,
    title: "Golden hour at the lake",
    subtitle: "Made with reelbridge",
    cameraPrompt: "slow dolly in over the water",
    aspect: "9:16",
    durationSeconds: 6,
  });
  const settled = Date.now();
  trace.stop();
  if (result.status !== "completed") throw new Error(`the job ended ${result.status}: ${JSON.stringify(result.failure)}`);

  const mine = (s: string) => trace.invocations.filter((i) => i.subscription === s && i.jobIds.includes(result.jobId));
  const at = (type: string) => trace.accepted.find((a) => a.type === type && a.jobId === result.jobId)?.at;
  const recorded = mine("db-writer").find((i) => i.types.includes("SegmentsReady"))?.end;
  const renderStarted = at("RenderStarted");
  const renderCompleted = at("RenderCompleted");
  if (!recorded || !renderStarted || !renderCompleted) throw new Error("the trace misses a step: is the bus emitting accepted/invoking/delivered?");
  // The LTX step submits, then looks in later invocations: the generation spans them and the waits between.
  const ltxInvocations = mine("ltx-step");
  const baseReady = at("VideoBaseReady");
  const generating = baseReady && ltxInvocations.length ? baseReady - Math.min(...ltxInvocations.map((i) => i.start)) : 0;
  // The segmenter's invocation ends after its SegmentsReady may already be recorded (the DB
  // writer runs alongside): only the part before the job was recorded counts against the total.
  const segmenting = mine("segmenter").reduce((s, i) => s + (Math.min(i.end!, recorded) - i.start), 0);
  const rendering = renderCompleted - renderStarted;
  const total = recorded - submitted;

  print("total", seconds(total), "s", { scale, durationSeconds: 6, aspect: "9:16" });
  for (const s of result.steps) print(`step.${s.event.replace(/\s+/g, "")}`, s.secondsSinceUpload, "s since upload");
  print("generating", seconds(generating), "s");
  print("rendering", seconds(rendering), "s");
  print("segmenting", seconds(segmenting), "s");
  print("overhead", seconds(total - generating - rendering - segmenting), "s", { target: "< 1 s" });
  // Where the overhead goes: before the LTX step starts, between its end and the render starting, …
  const ltxStart = Math.min(...mine("ltx-step").map((i) => i.start));
  const ltxEnd = Math.max(...mine("ltx-step").map((i) => i.end!));
  const segStart = Math.min(...mine("segmenter").map((i) => i.start));
  const segEnd = Math.max(...mine("segmenter").map((i) => i.end!));
  print("overhead.upload-to-ltx", seconds(ltxStart - submitted), "s");
  print("overhead.ltx-to-render-started", seconds(renderStarted - ltxEnd), "s");
  print("overhead.render-completed-to-segmenter", seconds(segStart - renderCompleted), "s");
  print("overhead.segmenter-to-recorded", seconds(recorded - segEnd), "s", { note: "negative: recorded while the segmenter was still returning" });
  print("whole-run", seconds(settled - submitted), "s", { note: "until every delivery (webhooks too) settled, as `reelbridge run` waits" });
  for (const [sub, invs] of Object.entries(Object.groupBy(trace.invocations, (i) => i.subscription))) {
    print(`handler.${sub}`, seconds(invs!.reduce((s, i) => s + ((i.end ?? settled) - i.start), 0)), "s", { invocations: invs!.length });
  }
} catch (err) {
  failed = true;
  process.stderr.write(`pipeline-run failed: ${err instanceof Error ? err.stack : String(err)}\n`);
} finally {
  await runtime?.close();
  restoreLogs();
  if (!process.env.BENCH_KEEP) await rm(dir, { recursive: true, force: true });
  else process.stderr.write(`kept ${dir}\n`);
}
process.exit(failed ? 1 : 0);
