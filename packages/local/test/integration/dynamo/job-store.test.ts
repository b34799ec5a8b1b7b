import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { createDynamoJobStore } from "@reelbridge/core/adapters/aws/dynamodb-job-store";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { InvalidCursorError, reduceEvents, toJobRecord } from "@reelbridge/core/jobs/index";
import type { JobState } from "@reelbridge/core/jobs/index";
import { createJobsTable, startLocalDynamo } from "../../../src/dynamo";
import type { LocalDynamo } from "../../../src/dynamo";
import { samplesDir } from "@reelbridge/testing/samples";

const SAMPLE_JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const types: DetailType[] = ["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady", "NotificationDelivered", "NotificationFailed", "VideoBaseFailed", "RenderFailed", "SegmentsFailed"];

/** The sample job's events re-keyed for another job (clones of the v1 samples). */
function eventsOf(jobId: string, owner: string, createdAt: string): PipelineEvent<DetailType>[] {
  return types.map((t) => {
    const json = readFileSync(new URL(`${t}.json`, samplesDir), "utf8")
      .replaceAll(SAMPLE_JOB, jobId)
      .replaceAll("01JD7XA00000000000000000", jobId.slice(0, 24))
      .replaceAll('"user_2f9a"', JSON.stringify(owner))
      .replaceAll('"createdAt": "2026-11-20T10:00:00.000Z"', `"createdAt": ${JSON.stringify(createdAt)}`);
    return pipelineEvents[t].event.parse(JSON.parse(json)) as PipelineEvent<DetailType>;
  });
}

function shuffle<T>(a: T[], seed: number): T[] {
  const out = [...a];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** ULID-shaped ids that sort by n. */
const jobId = (n: number) => `01JD7X8Q2R${String(n).padStart(16, "0")}`;

let dynamo: LocalDynamo;
let dir: string;
const table = "jobs";
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "reelbridge-jobstore-"));
  dynamo = await startLocalDynamo({ dataDir: dir });
  await createJobsTable(dynamo.client, table);
});
afterAll(async () => {
  await dynamo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("DynamoDB job store against the emulator", () => {
  it("concurrent apply() of shuffled, repeated events ends in the reducer's record, each event applied once", async () => {
    const store = createDynamoJobStore(dynamo.doc, { table, maxAttempts: 50, backoffMs: (a) => Math.random() * 5 * (a + 1) });
    for (let round = 0; round < 8; round++) {
      const id = jobId(100 + round);
      const events = eventsOf(id, "user_conc", `2026-11-20T10:00:0${round}.000Z`);
      const deliveries = shuffle([...events, ...events.slice(0, 3 + (round % 4)).map((e) => structuredClone(e))], round + 1);
      const results = await Promise.all(deliveries.map((e) => store.apply(e)));
      expect(results.filter((r) => r.applied)).toHaveLength(events.length);
      const expected = toJobRecord(reduceEvents(events) as JobState);
      const stored = await store.get(id);
      expect(stored).toEqual(expected);
      expect(stored?.status).toBe("completed");
      expect(stored?.timeline).toHaveLength(events.length);
    }
  });

  it("a late duplicate after completion is not applied and changes nothing", async () => {
    const store = createDynamoJobStore(dynamo.doc, { table, backoffMs: () => 0 });
    const id = jobId(200);
    const events = eventsOf(id, "user_late", "2026-11-20T10:00:00.000Z").slice(0, 4);
    for (const e of events) await store.apply(e);
    const before = await store.get(id);
    const again = await store.apply(structuredClone(events[0]!));
    expect(again.applied).toBe(false);
    expect(await store.get(id)).toEqual(before);
    expect(before?.status).toBe("completed");
  });

  it("lists an owner's jobs newest first, page by page, and refuses another owner's cursor", async () => {
    const store = createDynamoJobStore(dynamo.doc, { table, backoffMs: () => 0 });
    for (let i = 0; i < 7; i++) await store.apply(eventsOf(jobId(300 + i), "user_list", `2026-11-2${i}T09:00:00.000Z`)[0]!);
    await store.apply(eventsOf(jobId(400), "someone_else", "2026-11-25T09:00:00.000Z")[0]!);

    const seen: string[] = [];
    let cursor: string | undefined;
    const pages: number[] = [];
    do {
      const page = await store.listByOwner("user_list", { limit: 3, ...(cursor ? { cursor } : {}) });
      pages.push(page.items.length);
      seen.push(...page.items.map((j) => j.jobId));
      cursor = page.cursor;
      if (cursor) await expect(store.listByOwner("someone_else", { limit: 3, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    } while (cursor);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => jobId(300 + i)));
    expect(pages.slice(0, 3)).toEqual([3, 3, 1]);
    await expect(store.listByOwner("user_list", { limit: 3, cursor: "not a cursor" })).rejects.toBeInstanceOf(InvalidCursorError);
  });
});

describe("DynamoDB step state store against the emulator", () => {
  it("putIfAbsent: exactly one of many concurrent writers creates, every caller gets the stored value", async () => {
    const steps = createDynamoStepStateStore(dynamo.doc, { table });
    const id = jobId(500);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => steps.putIfAbsent(id, "generation", { generationId: `gen-${i}` })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)!.value;
    for (const r of results) expect(r.value).toEqual(winner);
    expect(await steps.get(id, "generation")).toEqual(winner);
  });

  it("update merges fields (concurrent updates of different fields both survive) and creates when absent", async () => {
    const steps = createDynamoStepStateStore(dynamo.doc, { table, ttlSeconds: 3600 });
    const id = jobId(501);
    await Promise.all([steps.update(id, "webhook:8hfxlw7yoq:success", { a: 1 }), steps.update(id, "webhook:8hfxlw7yoq:success", { b: { nested: ["x"] } })]);
    await steps.update(id, "webhook:8hfxlw7yoq:success", { a: 2 });
    expect(await steps.get(id, "webhook:8hfxlw7yoq:success")).toEqual({ a: 2, b: { nested: ["x"] } });
    expect(await steps.get(id, "render")).toBeUndefined();
    // State items never show up as jobs.
    expect(await createDynamoJobStore(dynamo.doc, { table }).get(id)).toBeUndefined();
  });
});
