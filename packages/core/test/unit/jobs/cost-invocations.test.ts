import { describe, expect, it } from "vitest";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { applyEvent, applyInvocations, comparableState, toJobRecord } from "../../../src/jobs/reducer";
import type { JobState } from "../../../src/jobs/reducer";
import { invocationKey } from "../../../src/jobs/cost-ledger";
import type { OwnInvocation } from "../../../src/jobs/cost-ledger";
import { LAMBDA_PRICES } from "../../../src/jobs/prices";
import { createMemoryJobStore } from "../../../src/jobs/memory";
import { recordEvent } from "../../../src/usecases/record-event";
import { jobEvents, rng, shuffledWithDuplicates } from "./fixtures";

/**
 * Our own Lambdas that end no step with an event of their own (the DB writer, the jobs API, the
 * render webhook, the render canceller) put their measured invocations on the job record
 * directly (cost-ledger.ts `invocations`): merged order-independently and idempotently.
 */

const inv = (fn: string, id: string, ms: number, memoryMB = 256, arch: OwnInvocation["arch"] = "arm64"): Record<string, OwnInvocation> => ({
  [invocationKey(fn, id)]: { fn, ms, memoryMB, arch },
});

type Op = { kind: "event"; e: PipelineEvent<DetailType>; inv?: Record<string, OwnInvocation> } | { kind: "inv"; inv: Record<string, OwnInvocation> };

function run(ops: readonly Op[]): JobState {
  let s: JobState | undefined;
  for (const op of ops) {
    if (op.kind === "event") s = applyEvent(s, op.e, op.inv).state;
    // Invocations reach only an existing record (JobStore.recordInvocations); before it, nothing.
    else if (s) s = applyInvocations(s, op.inv).state;
  }
  return s!;
}

const line = (s: JobState, item: string) => toJobRecord(s).cost!.lines.find((l) => l.item === item);

describe("our own Lambdas' measured invocations on the job record", () => {
  const events = jobEvents(["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"]);

  it("the DB writer's own invocation, recorded with each event, is one line with its invocations and GB-s", () => {
    const s = run(events.map((e, i) => ({ kind: "event" as const, e, inv: inv("db-writer", `req-${i}`, 40) })));
    const l = line(s, "lambda:db-writer")!;
    // 5 invocations × 40 ms × 0.25 GB = 0.05 GB-s at arm64's price.
    expect(l.quantity).toBeCloseTo(0.05, 9);
    expect(l.unitPriceUsd).toBe(LAMBDA_PRICES.perGbSecond.arm64);
    expect(l.basis).toContain("5 invocations");
    expect(l.basis).toContain("db-writer");
    expect(toJobRecord(s).cost!.totalUsd).toBe(toJobRecord(s).cost!.lines.reduce((a, x) => a + Math.round(x.usd * 1e9), 0) / 1e9);
    expect(s.video?.cost_usd).toBe(toJobRecord(s).cost!.totalUsd);
  });

  it("keeps one figure per invocation: a retried write of the same invocation does not count twice, and the larger figure wins", () => {
    const base = run([{ kind: "event", e: events[0]! }]);
    const once = applyInvocations(base, inv("jobs-api", "r1", 30)).state;
    const again = applyInvocations(once, inv("jobs-api", "r1", 30));
    expect(again.applied).toBe(false);
    const later = applyInvocations(once, inv("jobs-api", "r1", 45)).state;
    const earlier = applyInvocations(later, inv("jobs-api", "r1", 30));
    expect(earlier.applied).toBe(false);
    expect(line(later, "lambda:jobs-api")!.quantity).toBeCloseTo((45 / 1000) * 0.25, 9);
    expect(line(later, "lambda:jobs-api")!.basis).toContain("1 invocation,");
  });

  it("a duplicate event still records the new invocation that delivered it (and only that)", () => {
    const first = applyEvent(undefined, events[0]!, inv("db-writer", "a", 20)).state;
    const dup = applyEvent(first, events[0]!, inv("db-writer", "b", 20));
    expect(dup.applied).toBe(true);
    expect(line(dup.state, "lambda:db-writer")!.basis).toContain("2 invocations");
    expect(applyEvent(dup.state, events[0]!, inv("db-writer", "b", 20)).applied).toBe(false);
    // The event itself is counted once on the bus line.
    expect(line(dup.state, "eventbridge")!.quantity).toBe(1);
  });

  it("is the same whatever the order and duplication of events and invocation writes", () => {
    const ops: Op[] = [
      ...events.map((e, i) => ({ kind: "event" as const, e, inv: inv("db-writer", `w${i}`, 10 + i) })),
      { kind: "inv", inv: inv("render-webhook", "h1", 55) },
      { kind: "inv", inv: inv("render-canceller", "c1", 12) },
      { kind: "inv", inv: inv("jobs-api", "j1", 8) },
      { kind: "inv", inv: { ...inv("jobs-api", "j2", 9), ...inv("jobs-api", "j3", 7) } },
    ];
    // The first event creates the record; invocation writes need one (they are dropped before it).
    const [head, ...rest] = ops;
    const expected = run(ops);
    const rand = rng(7);
    for (let i = 0; i < 200; i++) {
      const s = run([head!, ...shuffledWithDuplicates(rest, rand, 3)]);
      expect(comparableState(s)).toEqual(comparableState(expected));
      expect(toJobRecord(s).cost).toEqual(toJobRecord(expected).cost);
    }
    const items = toJobRecord(expected).cost!.lines.map((l) => l.item);
    expect(items).toEqual(expect.arrayContaining(["lambda:db-writer", "lambda:render-webhook", "lambda:render-canceller", "lambda:jobs-api"]));
    expect(line(expected, "lambda:jobs-api")!.basis).toContain("3 invocations");
  });

  it("prices each architecture at its own price, in separate lines", () => {
    const s = run([{ kind: "event", e: events[0]! }, { kind: "inv", inv: { ...inv("x", "1", 1000, 1024, "arm64"), ...inv("x", "2", 1000, 1024, "x86_64") } }]);
    const xs = toJobRecord(s).cost!.lines.filter((l) => l.item === "lambda:x");
    expect(xs.map((l) => l.unitPriceUsd).sort()).toEqual([LAMBDA_PRICES.perGbSecond.arm64, LAMBDA_PRICES.perGbSecond.x86_64].sort());
  });

  it("ignores malformed figures (negative, not finite, no memory, unknown architecture)", () => {
    const base = run([{ kind: "event", e: events[0]! }]);
    const bad = {
      [invocationKey("x", "1")]: { fn: "x", ms: -1, memoryMB: 256, arch: "arm64" },
      [invocationKey("x", "2")]: { fn: "x", ms: Number.NaN, memoryMB: 256, arch: "arm64" },
      [invocationKey("x", "3")]: { fn: "x", ms: 5, memoryMB: 0, arch: "arm64" },
      [invocationKey("x", "4")]: { fn: "x", ms: 5, memoryMB: 256, arch: "mips" },
    } as unknown as Record<string, OwnInvocation>;
    expect(applyInvocations(base, bad).applied).toBe(false);
  });
});

describe("the memory job store", () => {
  it("records invocations only on a job it has, and the DB writer's own line in the same write as the event", async () => {
    const jobs = createMemoryJobStore();
    const [started] = jobEvents(["VideoBaseStarted"]);
    expect(await jobs.recordInvocations!(started!.detail.metadata.jobId, inv("jobs-api", "r", 10))).toEqual({ known: false, applied: false });
    expect(jobs.states.size).toBe(0);
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const { record } = await recordEvent({ jobs, logger }, started!, { invocations: inv("db-writer", "w", 25) });
    expect(record.cost!.lines.map((l) => l.item)).toContain("lambda:db-writer");
    expect(await jobs.recordInvocations!(started!.detail.metadata.jobId, inv("jobs-api", "r", 10))).toEqual({ known: true, applied: true });
    expect((await jobs.get(started!.detail.metadata.jobId))!.cost!.lines.map((l) => l.item)).toContain("lambda:jobs-api");
  });
});

describe("a re-render's cost", () => {
  it("counts in the job's cost: its steps' lines and its bus events, like the first render's", () => {
    const [started, ready, renderStarted] = jobEvents(["VideoBaseStarted", "VideoBaseReady", "RenderStarted"]);
    const rerender = structuredClone(renderStarted!) as PipelineEvent<DetailType>;
    rerender.detail.metadata.eventId = "rerender-2-started";
    const data = rerender.detail.data as { version?: number; stepCost?: unknown };
    data.version = 2;
    data.stepCost = { lines: [{ item: "lambda:render-step", basis: "0.5 GB-s (render-step, 1 invocation, arm64)", quantity: 0.5, unit: "GB-s", unitPriceUsd: 0.0000133334, usd: 0.000006667 }], totalUsd: 0.000006667 };
    const before = run([started!, ready!, renderStarted!].map((e) => ({ kind: "event" as const, e })));
    const after = run([started!, ready!, renderStarted!, rerender].map((e) => ({ kind: "event" as const, e })));
    expect(line(before, "lambda:render-step")).toBeUndefined();
    expect(line(after, "lambda:render-step")!.usd).toBe(0.000006667);
    expect(line(after, "eventbridge")!.quantity).toBe(4);
    expect(toJobRecord(after).cost!.totalUsd).toBeGreaterThan(toJobRecord(before).cost!.totalUsd);
  });
});
