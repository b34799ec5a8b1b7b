import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { applyGeneratedVideosSchema } from "@reelbridge/core/adapters/postgres/schema";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import { GENERATED_VIDEOS_COLUMNS } from "@reelbridge/core/sinks/generated-videos";
import { createJobsTable, startLocalDynamo } from "@reelbridge/local/dynamo/index";
import type { LocalDynamo } from "@reelbridge/local/dynamo/index";
import { startEmbeddedPostgres } from "@reelbridge/local/postgres/embedded";
import type { EmbeddedPostgres } from "@reelbridge/local/postgres/embedded";
import { stageConfig } from "@reelbridge/functions/stage-config";
import { samplesDir } from "@reelbridge/testing/samples";
import { functionsOf } from "../../stacks/lib/assembly";
import type { BuiltFunction } from "../../stacks/lib/assembly";
import { buildInfra } from "../../stacks/lib/build";
import { atTaskRoot, unpack } from "./support/bundles";
import type { UnpackedBundle } from "./support/bundles";

/**
 * What is deployed is what is tested, for the function bundles.test.ts cannot reach: the
 * supabase-sink exists only on stages that name a Supabase project (staging), so this builds
 * staging with SST's real build, unpacks the sink's code asset into an empty directory and runs
 * it with Node 24 and only its template's environment, against dynalite (the job ledger) and a
 * real PostgreSQL (the system's, as the embedded runtime starts it), connected through the
 * SUPABASE_DB_URL secret as SST's client reads it.
 */
const STAGE = "staging";
const config = stageConfig(STAGE);
const TABLE = "smoke-reelbridge-jobs";
const SAMPLE_JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const SUCCESS: DetailType[] = ["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"];
type AnyEvent = PipelineEvent<DetailType>;

let work: string;
let dynamo: LocalDynamo;
let postgres: EmbeddedPostgres;
let dbUrl: string;
let sink: UnpackedBundle;
let fn: BuiltFunction;

const sample = <T extends DetailType>(type: T): PipelineEvent<T> => pipelineEvents[type].event.parse(JSON.parse(readFileSync(new URL(`${type}.json`, samplesDir), "utf8"))) as PipelineEvent<T>;

const sqs = (events: AnyEvent[], receiveCount = 1) => ({
  Records: events.map((e, i) => ({
    messageId: `m-${i}-${e.detail.metadata.eventId}`,
    receiptHandle: `r-${i}`,
    body: JSON.stringify(e),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: "0", SenderId: "x", ApproximateFirstReceiveTimestamp: "0" },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:111122223333:supabase-sink",
    awsRegion: "us-east-1",
  })),
});

async function query(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, values);
  } finally {
    await c.end();
  }
}

/** The template's references, as they resolve in AWS (the sink reads only the jobs table). */
const references: Record<string, string> = { JOBS_TABLE: TABLE, MEDIA_BUCKET: "smoke-reelbridge-media", BUS_NAME: "smoke-reelbridge" };

function lambdaEnv(f: BuiltFunction, dir: string, secret: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LAMBDA_TASK_ROOT: dir,
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: f.logicalId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(f.memoryMB),
    AWS_ACCESS_KEY_ID: "AKIASMOKETEST0000000",
    AWS_SECRET_ACCESS_KEY: "smoke-secret-key-0123456789abcdefghijklmn",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    // Nothing else is reachable: a call to SQS (visibility) or anywhere else fails loudly.
    AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9",
    TMPDIR: mkdtempSync(join(work, "tmp-")),
    TZ: ":UTC",
  };
  for (const [k, v] of Object.entries(f.environment)) {
    if (v === "__FETCH_FROM_SSM__") {
      // SST's secret placeholder; its client takes a literal value from the same variable.
      if (k !== "SST_Secret_value_SUPABASE_DB_URL") throw new Error(`the supabase-sink is bound to an unexpected secret ${k}`);
      env[k] = secret;
    } else if (typeof v === "string") env[k] = atTaskRoot(v, dir);
    else if (k in references) env[k] = references[k]!;
    else throw new Error(`environment ${k} is a CloudFormation reference this test does not resolve: ${JSON.stringify(v)}`);
  }
  return env;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "smoke-sink-"));
  const outdir = join("infra.out", `${STAGE}-sink-smoke`);
  await buildInfra({ stage: STAGE, outdir });
  const found = functionsOf(outdir).find((f) => f.handler === "packages/functions/src/supabase-sink.handler");
  if (!found) throw new Error(`SST's build of ${STAGE} has no supabase-sink function`);
  fn = found;

  dynamo = await startLocalDynamo({ dataDir: work });
  await createJobsTable(dynamo.client, TABLE);
  postgres = await startEmbeddedPostgres({ dir: join(work, "pg") });
  // The stage names a Supabase project: the secret must be a connection of that project (the
  // pooler's user postgres.<ref>), so the test's database gets such a role.
  const ref = config.supabase!.projectRef;
  const role = `postgres.${ref}`;
  await query(postgres.url, `create role "${role}" login password 'smoke-pw'`);
  await query(postgres.url, `create database videos owner "${role}"`);
  const u = new URL(postgres.url);
  u.username = encodeURIComponent(role);
  u.password = "smoke-pw";
  u.pathname = "/videos";
  dbUrl = u.toString();
  await applyGeneratedVideosSchema(dbUrl);

  // The job ledger as the pipeline's steps leave it: the job started, its outcome RenderCompleted.
  const ledger = createJobLedger(createDynamoStepStateStore(dynamo.doc, { table: TABLE }));
  const started = sample("VideoBaseStarted");
  await ledger.recordStarted(SAMPLE_JOB, started.detail.data.job, { at: started.time, causationId: started.detail.metadata.causationId });
  const done = sample("RenderCompleted");
  const m = done.detail.metadata;
  await ledger.claimOutcome({ type: "RenderCompleted", data: done.detail.data, eventId: m.eventId, jobId: m.jobId, causationId: m.causationId }, done.time);
  await ledger.markPublished(SAMPLE_JOB);

  sink = unpack("supabase-sink", fn, (f, dir) => lambdaEnv(f, dir, dbUrl));
}, 600_000);

afterAll(async () => {
  await postgres?.stop();
  await dynamo?.close();
  if (sink) rmSync(join(sink.dir, ".."), { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the supabase-sink bundle as built for staging", () => {
  it("is bound to the SUPABASE_DB_URL secret and no other, on nodejs24.x", () => {
    expect(fn.runtime).toBe("nodejs24.x");
    expect(Object.entries(fn.environment).filter(([, v]) => v === "__FETCH_FROM_SSM__").map(([k]) => k)).toEqual(["SST_Secret_value_SUPABASE_DB_URL"]);
    expect(JSON.stringify(fn.environment)).not.toContain("smoke-pw");
  });

  it("keeps one generated_videos row equal to the job record's fields, through duplicates and shuffled batches", async () => {
    const events = SUCCESS.map((t) => sample(t) as AnyEvent);
    // Out of order, each event twice, in three deliveries.
    const shuffled = [events[4]!, events[2]!, events[3]!, events[0]!, events[1]!, events[3]!, events[4]!, events[1]!, events[0]!, events[2]!];
    for (const batch of [shuffled.slice(0, 3), shuffled.slice(3, 7), shuffled.slice(7)]) {
      const { result, stdout } = await sink.invoke(sqs(batch));
      expect(result, stdout).toEqual({ batchItemFailures: [] });
    }
    const { rows } = await query(dbUrl, "select * from public.generated_videos");
    expect(rows).toHaveLength(1);
    const jobs = createMemoryJobStore();
    for (const e of events) await jobs.apply(e);
    const video = (await jobs.get(SAMPLE_JOB))!.video!;
    const row = rows[0] as Record<string, unknown>;
    expect(row.job_id).toBe(SAMPLE_JOB);
    for (const c of GENERATED_VIDEOS_COLUMNS) {
      if (c === "id") continue; // the table's own id; the job's is job_id
      const v = row[c] instanceof Date ? (row[c] as Date).toISOString() : ["file_size_mb", "duration_seconds", "generation_time_seconds"].includes(c) && row[c] !== null ? Number(row[c]) : row[c];
      expect(v, c).toEqual(video[c as keyof typeof video]);
    }
    expect(row.status).toBe("completed");
  }, 120_000);

  it("hands an event back to the queue while the database is unreachable, saying why, without failing the job", async () => {
    const dead = new URL(dbUrl);
    dead.port = "9";
    const down = unpack("supabase-sink", fn, (f, dir) => lambdaEnv(f, dir, dead.toString()));
    try {
      const { result, stdout, stderr } = await down.invoke(sqs([sample("SegmentsReady") as AnyEvent]));
      const logs = stdout + stderr;
      expect(result, logs).toMatchObject({ batchItemFailures: [{ itemIdentifier: expect.any(String) }] });
      expect(logs).toMatch(/ECONNREFUSED|unavailable/i);
      expect(logs).toContain(SAMPLE_JOB);
      // The job is not failed by a sink being down: no failure event is published (nothing to publish to).
      expect(logs).not.toMatch(/"detail-type":"(SegmentsFailed|VideoBaseFailed|RenderFailed)"/);
      expect(logs).not.toContain("smoke-pw");
    } finally {
      rmSync(join(down.dir, ".."), { recursive: true, force: true });
    }
  }, 60_000);

  it("refuses a connection string of another project before connecting", async () => {
    const other = new URL(dbUrl);
    other.username = "postgres.zyxwvutsrqponmlkjihg";
    const wrong = unpack("supabase-sink", fn, (f, dir) => lambdaEnv(f, dir, other.toString()));
    try {
      const { result, stdout, stderr } = await wrong.invoke(sqs([sample("SegmentsReady") as AnyEvent]));
      const logs = stdout + stderr;
      expect(result, logs).toMatchObject({ batchItemFailures: [{ itemIdentifier: expect.any(String) }] });
      expect(logs).toContain(`not a connection to Supabase project ${config.supabase!.projectRef}`);
      expect(logs).not.toContain("smoke-pw");
    } finally {
      rmSync(join(wrong.dir, ".."), { recursive: true, force: true });
    }
  }, 60_000);
});
