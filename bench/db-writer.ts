/**
 * DB writer throughput: pipeline events folded into job records through the DynamoDB job store
 * (consistent read → reducer → conditional Put on the version) against the in-process emulator
 * (dynalite, LevelDB on disk). 200 jobs × the 9 v1 sample events, re-keyed per job:
 *   db-writer.apply          all events, 16 in flight across jobs, each job's events shuffled
 *   db-writer.duplicate      the same events again: a consistent read each, no write
 *   db-writer.contended      one job's 9 events + 9 duplicates all at once, 20 jobs one after another
 *                            (every write races; conflicts re-merge), and the conflicts it cost
 * One JSON line per figure: {name, value, unit}.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { createDynamoJobStore } from "@reelbridge/core/adapters/aws/dynamodb-job-store";
import { createJobsTable, startLocalDynamo } from "@reelbridge/local/dynamo/index";

const JOBS = Number(process.env.BENCH_JOBS ?? 200);
const CONCURRENCY = 16;
const SAMPLE_JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const types: DetailType[] = ["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady", "NotificationDelivered", "NotificationFailed", "VideoBaseFailed", "RenderFailed", "SegmentsFailed"];
const raw = new Map(types.map((t) => [t, readFileSync(new URL(`../packages/events/samples/v1/${t}.json`, import.meta.url), "utf8")]));

const jobId = (n: number) => `01JD7X8Q2R${String(n).padStart(16, "0")}`;
const eventsOf = (id: string) =>
  types.map((t) => pipelineEvents[t].event.parse(JSON.parse(raw.get(t)!.replaceAll(SAMPLE_JOB, id).replaceAll("01JD7XA00000000000000000", id.slice(0, 24)))) as PipelineEvent<DetailType>);
const shuffle = <T>(a: T[]) => {
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};
const emit = (name: string, value: number, unit: string) => console.log(JSON.stringify({ name, value: Math.round(value * 10) / 10, unit }));

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

const dataDir = mkdtempSync(join(tmpdir(), "rb-bench-dynamo-"));
const dynamo = await startLocalDynamo({ dataDir });
try {
  await createJobsTable(dynamo.client, "jobs");
  const store = createDynamoJobStore(dynamo.doc, { table: "jobs", maxAttempts: 100 });

  const perJob = Array.from({ length: JOBS }, (_, i) => shuffle(eventsOf(jobId(i))));
  const total = perJob.length * types.length;
  // Jobs run side by side; one job's events in order (as one subscription would see them).
  let t0 = performance.now();
  await pool(perJob, CONCURRENCY, async (events) => {
    for (const e of events) await store.apply(e);
  });
  let s = (performance.now() - t0) / 1000;
  emit("db-writer.apply", total / s, "events/s");

  t0 = performance.now();
  let skipped = 0;
  await pool(perJob, CONCURRENCY, async (events) => {
    for (const e of events) if (!(await store.apply(structuredClone(e))).applied) skipped++;
  });
  s = (performance.now() - t0) / 1000;
  if (skipped !== total) throw new Error(`expected every duplicate to be skipped, ${total - skipped} were written`);
  emit("db-writer.duplicate", total / s, "events/s");

  // Contention: count conflicts by wrapping the client's send.
  let conflicts = 0;
  const counting = new Proxy(dynamo.doc, {
    get(target, prop, recv) {
      if (prop !== "send") return Reflect.get(target, prop, recv);
      return async (cmd: Parameters<typeof target.send>[0]) => {
        try {
          return await target.send(cmd);
        } catch (err) {
          if ((err as Error).name === "ConditionalCheckFailedException") conflicts++;
          throw err;
        }
      };
    },
  });
  const racing = createDynamoJobStore(counting, { table: "jobs", maxAttempts: 100 });
  const CONTENDED = 20;
  let events = 0;
  t0 = performance.now();
  for (let i = 0; i < CONTENDED; i++) {
    const evs = eventsOf(jobId(10_000 + i));
    const batch = shuffle([...evs, ...evs.map((e) => structuredClone(e))]);
    events += batch.length;
    await Promise.all(batch.map((e) => racing.apply(e)));
  }
  s = (performance.now() - t0) / 1000;
  emit("db-writer.contended", events / s, "events/s");
  emit("db-writer.contended.conflicts", conflicts / events, "conflicts/event");
} finally {
  await dynamo.close();
  rmSync(dataDir, { recursive: true, force: true });
}
