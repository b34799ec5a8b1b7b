import { describe, expect, it } from "vitest";
import type { DetailType, JobCost, PipelineEvent } from "@reelbridge/events";
import { pipelineEvents } from "@reelbridge/events";
import { applyEvent, comparableState, reduceEvents, toJobRecord } from "../../../src/jobs/reducer";
import type { JobState } from "../../../src/jobs/reducer";
import { lambdaCost, ltxCost, renderCostLine, sumCost } from "../../../src/jobs/cost";
import { jobEvents, rng, shuffledWithDuplicates } from "./fixtures";
import { createMemoryJobStore } from "../../../src/jobs/memory";
import { invocationKey, mergeInvocations } from "../../../src/jobs/cost-ledger";
import { getJobStatus, listJobs } from "../../../src/usecases/job-status";

/** The sample events of one job, the step-ending ones carrying what their step paid. */
function costedEvents(types: readonly DetailType[]): PipelineEvent<DetailType>[] {
  const costs: Partial<Record<DetailType, JobCost>> = {
    VideoBaseReady: sumCost([ltxCost({ provider: "ltx", model: "ltx-2-fast", seconds: 6, width: 1080, height: 1920 }), lambdaCost(3.2, "x86_64", { fn: "ltx-step", invocations: 4 })]),
    VideoBaseFailed: sumCost([lambdaCost(1.5, "x86_64", { fn: "ltx-step", invocations: 1 })]),
    RenderCompleted: sumCost([renderCostLine("remotion-lambda", { estimated: 0.0042, currency: "USD" }, "completed"), lambdaCost(0.05, "arm64", { fn: "render-webhook" })]),
    RenderFailed: sumCost([renderCostLine("remotion-lambda", null, "failed")]),
    SegmentsReady: sumCost([lambdaCost(1.1, "x86_64", { fn: "segmenter" })]),
  };
  return jobEvents(types).map((e) => {
    const c = costs[e["detail-type"] as DetailType];
    if (c) (e.detail.data as { stepCost?: JobCost }).stepCost = c;
    // Still a valid v1 event: the field is part of the contract.
    return pipelineEvents[e["detail-type"] as DetailType].event.parse(e) as PipelineEvent<DetailType>;
  });
}

const fold = (events: PipelineEvent<DetailType>[]) => reduceEvents(events) as JobState;

describe("the job record's cost", () => {
  const types = ["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady", "NotificationDelivered"] as const;

  it("sums every step's lines, adds the bus events, and puts the total next to the generated_videos fields", () => {
    const record = toJobRecord(fold(costedEvents(types)));
    const byItem = Object.fromEntries(record.cost!.lines.map((l) => [l.item, l]));
    expect(byItem["ltx-generation"]?.usd).toBe(0.24);
    expect(byItem["remotion-render"]).toMatchObject({ usd: 0.0042, estimated: true });
    expect(byItem["lambda:ltx-step"]?.quantity).toBe(3.2);
    expect(byItem["lambda:segmenter"]?.unit).toBe("GB-s");
    expect(byItem["eventbridge"]).toMatchObject({ quantity: 6, unit: "event", usd: 0.000006 });
    expect(byItem["eventbridge"]?.basis).toContain("RenderCompleted");
    const total = record.cost!.lines.reduce((a, l) => a + Math.round(l.usd * 1e9), 0) / 1e9;
    expect(record.cost!.totalUsd).toBe(total);
    expect(record.cost!.totalUsd).toBeGreaterThan(0.2442);
    expect(record.video?.cost_usd).toBe(record.cost!.totalUsd);
  });

  it("is the same whatever the order and however often events are delivered", () => {
    const events = costedEvents([...types, "VideoBaseFailed", "RenderFailed"]);
    const expected = fold(events);
    const rand = rng(13);
    for (let i = 0; i < 200; i++) {
      const s = reduceEvents(shuffledWithDuplicates(events, rand, 4)) as JobState;
      expect(comparableState(s)).toEqual(comparableState(expected));
      expect(toJobRecord(s).cost).toEqual(toJobRecord(expected).cost);
    }
  });

  it("counts a duplicate once", () => {
    const [started, ready] = costedEvents(["VideoBaseStarted", "VideoBaseReady"]);
    const once = applyEvent(applyEvent(undefined, started!).state, ready!).state;
    // Older than the applied-ids window: the event is merged again and must add nothing.
    const again = applyEvent({ ...once, appliedEventIds: [] }, structuredClone(ready!)).state;
    expect(toJobRecord(again).cost).toEqual(toJobRecord(once).cost);
    expect(toJobRecord(once).cost!.lines.find((l) => l.item === "ltx-generation")?.quantity).toBe(6);
  });

  it("a failed job shows what it cost: the generation's Lambda time and the render's estimate", () => {
    const record = toJobRecord(fold(costedEvents(["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderFailed"])));
    expect(record.status).toBe("failed");
    const items = record.cost!.lines.map((l) => l.item);
    expect(items).toEqual(expect.arrayContaining(["ltx-generation", "lambda:ltx-step", "remotion-render", "eventbridge"]));
    expect(record.cost!.lines.find((l) => l.item === "remotion-render")).toMatchObject({ usd: 0.02, estimated: true });
    expect(record.cost!.totalUsd).toBeGreaterThan(0.26);
  });

  it("a state stored before the ledger (no cost fields) still merges", () => {
    const [started, ready] = costedEvents(["VideoBaseStarted", "VideoBaseReady"]);
    const old = applyEvent(undefined, started!).state as JobState & Record<string, unknown>;
    delete old.costLines;
    delete old.busEvents;
    const next = toJobRecord(applyEvent(old, ready!).state);
    expect(next.cost!.lines.find((l) => l.item === "ltx-generation")?.usd).toBe(0.24);
  });
});

describe("a republished step-ending event", () => {
  it("keeps the larger figure of a line, whichever copy arrives first", () => {
    const [started, ready] = costedEvents(["VideoBaseStarted", "VideoBaseReady"]);
    const later = structuredClone(ready!);
    (later.detail.data as { stepCost: JobCost }).stepCost = sumCost([ltxCost({ provider: "ltx", model: "ltx-2-fast", seconds: 6, width: 1080, height: 1920 }), lambdaCost(4.5, "x86_64", { fn: "ltx-step", invocations: 5 })]);
    const gbs = (events: PipelineEvent<DetailType>[]) => {
      let s: JobState | undefined;
      // Each copy merged (as when it is older than the applied-ids window).
      for (const e of events) s = applyEvent(s ? { ...s, appliedEventIds: [] } : undefined, e).state;
      return toJobRecord(s!).cost!.lines.find((l) => l.item === "lambda:ltx-step")!.quantity;
    };
    expect(gbs([started!, ready!, later])).toBe(4.5);
    expect(gbs([started!, later, ready!])).toBe(4.5);
  });
});

describe("the status API shows the cost", () => {
  it("GET /jobs/{jobId} carries the record's cost, GET /jobs its total, a failed job's too", async () => {
    const jobs = createMemoryJobStore();
    for (const e of costedEvents(["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderFailed"])) await jobs.apply(e);
    const blobs = { presignGet: async (key: string) => `https://media.example/${key}` };
    const view = await getJobStatus({ jobs, blobs, clock: { now: () => new Date("2026-11-20T12:00:00Z") } }, { jobId: costedEvents(["VideoBaseReady"])[0]!.detail.metadata.jobId, caller: undefined });
    expect(view.status).toBe("failed");
    expect(view.cost).toEqual((await jobs.get(view.jobId))!.cost);
    expect(view.cost!.lines.map((l) => l.item)).toContain("ltx-generation");
    const owner = (await jobs.get(view.jobId))!.owner;
    const list = await listJobs({ jobs }, { owner });
    expect(list.items[0]!.costUsd).toBe(view.cost!.totalUsd);
  });
});

describe("the services around the steps (SQS, S3, DynamoDB)", () => {
  const types = ["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady", "NotificationDelivered"] as const;
  const line = (cost: JobCost, item: string) => cost.lines.find((l) => l.item === item);

  it("counts one S3 PUT per distinct key the events name, and says it is a count", () => {
    const events = costedEvents(types);
    const keys = new Set<string>();
    for (const e of events) {
      const d = e.detail.data as { source?: { key: string }; image?: { key: string }; baseVideo?: { key: string }; video?: { key: string }; keys?: string[] };
      if (e["detail-type"] === "VideoBaseReady") [d.source!.key, d.image!.key, d.baseVideo!.key].forEach((k) => keys.add(k));
      if (e["detail-type"] === "RenderCompleted") keys.add(d.video!.key);
      if (e["detail-type"] === "SegmentsReady") d.keys!.forEach((k) => keys.add(k));
    }
    const put = line(toJobRecord(fold(events)).cost!, "s3:put")!;
    expect(put.quantity).toBe(keys.size);
    expect(put.quantity).toBeGreaterThan(5);
    expect(put.estimated).toBeUndefined();
    expect(put.usd).toBeCloseTo(keys.size * 0.000005, 12);
    expect(put.basis).toMatch(new RegExp(`^${keys.size} objects stored, counted from the keys`));
    // A photo that never became a clip: its upload was stored (and paid for) all the same.
    const failed = toJobRecord(fold(costedEvents(["VideoBaseFailed"]))).cost!;
    expect(line(failed, "s3:put")!.quantity).toBe(1);
    expect(line(failed, "s3:get")!.quantity).toBe(1);
  });

  it("estimates the reads, the queue requests and the DB writes from the record's counts, flagged estimated", () => {
    const cost = toJobRecord(fold(costedEvents(types))).cost!;
    // One GET each: the upload (ltx-step), the base clip (render), the final video (segmenter).
    expect(line(cost, "s3:get")).toMatchObject({ quantity: 3, estimated: true });
    // Deliveries: VideoBaseStarted→1, VideoBaseReady→2, RenderStarted→1, RenderCompleted→3, SegmentsReady→2, NotificationDelivered→1 (the catalog's consumers), + the upload to the ltx-step = 11.
    // × 3 (send, receive, delete) + 3 further looks of the ltx-step (4 invocations on VideoBaseReady) × 2.
    const sqs = line(cost, "sqs")!;
    expect(sqs).toMatchObject({ quantity: 39, unit: "request", estimated: true });
    expect(sqs.usd).toBeCloseTo(39 * 0.4e-6, 12);
    expect(sqs.basis).toContain("3 further ltx-step looks");
    // One write unit per recorded event (no invocation records in these events).
    expect(line(cost, "dynamodb:write")).toMatchObject({ quantity: 6, estimated: true });
  });

  it("more looks of the LTX step cost more queue requests; invocations written onto the record add DB writes", () => {
    const events = costedEvents(types);
    const ready = events.find((e) => e["detail-type"] === "VideoBaseReady")!;
    (ready.detail.data as { stepCost: JobCost }).stepCost = sumCost([lambdaCost(3.2, "x86_64", { fn: "ltx-step", invocations: 9 })]);
    const s = fold(events);
    expect(line(toJobRecord(s).cost!, "sqs")!.quantity).toBe(39 + 5 * 2);
    // The count is the line's structured `invocations`, not its wording for humans.
    const reworded = { ...lambdaCost(3.2, "x86_64", { fn: "ltx-step", invocations: 9 }), basis: "3.2 GB-s measured by the handler wrapper" };
    (ready.detail.data as { stepCost: JobCost }).stepCost = sumCost([reworded]);
    expect(line(toJobRecord(fold(events)).cost!, "sqs")!.quantity).toBe(39 + 5 * 2);
    // The render webhook's invocations are written onto the record, one write each.
    expect(line(toJobRecord(applyInvocationsForTest(s, "render-webhook", 3)).cost!, "dynamodb:write")!.quantity).toBe(6 + 3);
    // The DB writer's ride in the write of their event: 8 invocations for 6 events (2 redeliveries) are 8 writes, not 14.
    expect(line(toJobRecord(applyInvocationsForTest(s, "db-writer", 8)).cost!, "dynamodb:write")!.quantity).toBe(8);
  });

  it("a redelivered SegmentsReady naming the same keys stores nothing more", () => {
    const events = costedEvents(types);
    const segments = structuredClone(events.find((e) => e["detail-type"] === "SegmentsReady")!);
    segments.detail.metadata.eventId = `${segments.detail.metadata.eventId}-again`;
    const once = toJobRecord(fold(events)).cost!;
    const twice = toJobRecord(fold([...events, segments])).cost!;
    expect(line(twice, "s3:put")!.quantity).toBe(line(once, "s3:put")!.quantity);
    expect(line(twice, "eventbridge")!.quantity).toBe(line(once, "eventbridge")!.quantity + 1);
  });
});

/** Measured invocations of `fn`, written onto the record as the handler wrapper does. */
function applyInvocationsForTest(s: JobState, fn: string, n: number): JobState {
  const next = structuredClone(s);
  mergeInvocations(next, Object.fromEntries(Array.from({ length: n }, (_, i) => [invocationKey(fn, `inv-${i}`), { fn, ms: 40, memoryMB: 256, arch: "arm64" as const }])));
  return next;
}
