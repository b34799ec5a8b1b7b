import type { Context, SQSBatchResponse } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { SinkRefusedError, SinkUnavailableError } from "@reelbridge/core/sinks/errors";
import { parseStoredState, planSinkWrite } from "@reelbridge/core/sinks/generated-videos";
import type { GeneratedVideoRow, GeneratedVideosSink } from "@reelbridge/core/sinks/generated-videos";
import type { JobState } from "@reelbridge/core/jobs/reducer";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import readySample from "@reelbridge/events/samples/v1/SegmentsReady.json";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { seedLedger } from "@reelbridge/testing/ledger";
import { sqsEvent } from "../support/sqs";
import { MAX_RECEIVE_COUNT, checkConnectionString, createHandler } from "../../src/supabase-sink";
import type { Deps } from "../../src/supabase-sink";
import type { VisibilityChange } from "../../src/lib/visibility";
import { stageConfig, stageFeatures } from "../../src/stage-config";
import { ALL_FEATURES, subscriptions } from "../../src/topology";

process.env.LOG_LEVEL = "SILENT";
const REF = "abcdefghijklmnopqrst";
const context = { functionName: "supabase-sink", getRemainingTimeInMillis: () => 20_000 } as unknown as Context;

/** A sink over the real plan with an in-memory table, failing with `failures` first. */
function memorySink(failures: Error[] = []) {
  const states = new Map<string, unknown>();
  const table = new Map<string, GeneratedVideoRow>();
  let calls = 0;
  const sink: GeneratedVideosSink = {
    async apply(event) {
      calls++;
      const f = failures.shift();
      if (f) throw f;
      const jobId = event.detail.metadata.jobId;
      const plan = planSinkWrite(parseStoredState(states.get(jobId), jobId) as JobState | undefined, event);
      if (plan.applied) states.set(jobId, JSON.parse(JSON.stringify(plan.state)));
      if (plan.applied && plan.row) table.set(plan.row.job_id, plan.row);
      return { applied: plan.applied, ...(plan.row ? { row: plan.row } : {}) };
    },
    async close() {},
  };
  return { sink, table, calls: () => calls };
}

async function setup(failures: Error[] = [], opts: { seed?: boolean } = {}) {
  const state = createMemoryStepStateStore();
  if (opts.seed !== false) await seedLedger(state, completedSample);
  const mem = memorySink(failures);
  const deps: Deps = { sink: mem.sink, state };
  const deferred: VisibilityChange[] = [];
  const handler = createHandler(async () => deps, { changeVisibility: async (c) => void deferred.push(c) });
  const deliver = async (body: unknown, receiveCount = 1) => (await handler(sqsEvent(body, { queue: "supabase-sink", receiveCount }), context)) as SQSBatchResponse;
  return { ...mem, deferred, deliver };
}

describe("supabase-sink: the topology and the stage config", () => {
  it("exists only on stages whose config names a Supabase project, as a queued consumer of every pipeline event but the notifier's", () => {
    expect(subscriptions({ mediaBucket: "b" }).map((s) => s.name)).not.toContain("supabase-sink");
    expect(subscriptions({ mediaBucket: "b", features: stageFeatures(stageConfig("dev")) }).map((s) => s.name)).not.toContain("supabase-sink");
    expect(stageFeatures(stageConfig("staging")).supabase).toBe(true);
    const sub = subscriptions({ mediaBucket: "b", features: stageFeatures(stageConfig("staging")) }).find((s) => s.name === "supabase-sink")!;
    expect(sub.delivery).toMatchObject({ kind: "queue", concurrencyKey: "supabase", maxReceiveCount: MAX_RECEIVE_COUNT });
    expect(sub.delivery.kind === "queue" && sub.delivery.visibilityTimeoutSeconds).toBeGreaterThan(sub.timeoutSeconds);
    expect(sub.pattern["detail-type"]).toEqual(expect.arrayContaining(["RenderCompleted", "SegmentsReady", "SegmentsFailed", "RenderFailed"]));
    expect(sub.pattern["detail-type"]).not.toEqual(expect.arrayContaining(["NotificationDelivered"]));
    expect(sub.pattern.source).not.toContain("reelbridge.notifier");
    expect(sub.permissions).toEqual([{ kind: "jobs:read" }, { kind: "secret", name: "SUPABASE_DB_URL" }]);
    expect(subscriptions({ mediaBucket: "b", features: ALL_FEATURES }).filter((s) => s.name === "supabase-sink")).toHaveLength(1);
  });

  it("a project ref must look like one; enabled: false turns the sink off", () => {
    expect(() => stageConfig("dev", { supabase: { projectRef: "My Project" } })).toThrow(/Supabase project ref/);
    expect(stageFeatures(stageConfig("dev", { supabase: { projectRef: REF, enabled: false } })).supabase).toBe(false);
    expect(stageFeatures(stageConfig("dev", { supabase: { projectRef: REF } })).supabase).toBe(true);
  });

  it("takes only a postgres URL of the stage's project as its secret", () => {
    expect(checkConnectionString(`postgresql://postgres:pw@db.${REF}.supabase.co:5432/postgres`, REF)).toContain(REF);
    expect(checkConnectionString(`postgresql://postgres.${REF}:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres`, REF)).toContain("pooler");
    expect(checkConnectionString("postgres://postgres:pw@127.0.0.1:5433/postgres")).toContain("127.0.0.1");
    for (const bad of [undefined, "  ", "not a url", "mysql://u:p@h/db", "postgresql://postgres:pw@db.zzzzzzzzzzzzzzzzzzzz.supabase.co:5432/postgres"]) {
      const err = (() => {
        try {
          checkConnectionString(bad, REF);
        } catch (e) {
          return e;
        }
      })();
      expect(err, String(bad)).toBeInstanceOf(SinkRefusedError);
      expect(String((err as Error).message)).not.toContain("pw@");
    }
  });
});

describe("supabase-sink handler", () => {
  it("upserts the row from a queued event and acknowledges it", async () => {
    const s = await setup();
    expect((await s.deliver(completedSample)).batchItemFailures).toEqual([]);
    expect(s.table.get(completedSample.detail.metadata.jobId)).toMatchObject({ status: "rendered", video_url: completedSample.detail.data.video.key });
    expect((await s.deliver(readySample)).batchItemFailures).toEqual([]);
    expect(s.table.get(completedSample.detail.metadata.jobId)?.status).toBe("completed");
  });

  it("database unavailable: the message is kept and comes back after the queue's backoff", async () => {
    const s = await setup([new SinkUnavailableError("connect ECONNREFUSED", undefined), new SinkUnavailableError("57P01", "57P01")]);
    expect((await s.deliver(completedSample, 1)).batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    expect((await s.deliver(completedSample, 2)).batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    expect(s.deferred.map((d) => d.visibilityTimeoutSeconds)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(s.deferred[0]!.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(5);
    expect(s.deferred[1]!.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(10);
    // The database is back: the third receive lands the row.
    expect((await s.deliver(completedSample, 3)).batchItemFailures).toEqual([]);
    expect(s.table.size).toBe(1);
  });

  it("database refusing: the message is redelivered at once, and on its last receive it is still reported failed (the DLQ gets it)", async () => {
    const refused = () => new SinkRefusedError("42P01 relation does not exist", "42P01");
    const s = await setup([refused(), refused()]);
    expect((await s.deliver(completedSample, 1)).batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    expect(s.deferred[0]!.visibilityTimeoutSeconds).toBe(0);
    expect((await s.deliver(completedSample, MAX_RECEIVE_COUNT)).batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    expect(s.table.size).toBe(0);
  });

  it("drops what the pipeline's records contradict or what breaks its contract, without touching the table", async () => {
    const unknownJob = await setup([], { seed: false });
    expect((await unknownJob.deliver(completedSample)).batchItemFailures).toEqual([]);
    expect(unknownJob.calls()).toBe(0);
    const s = await setup();
    const broken = structuredClone(completedSample) as { detail: { data: { video: unknown } } };
    broken.detail.data.video = "nope";
    expect((await s.deliver(broken)).batchItemFailures).toEqual([]);
    expect(s.calls()).toBe(0);
  });
});
