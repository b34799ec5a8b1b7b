import { describe, expect, it } from "vitest";
import type { JobRecord } from "../../../src/ports";
import type { GetRenderProgress } from "../../../src/render/ports";
import { renderStateName } from "../../../src/render/record";
import { estimate, jobProgress } from "../../../src/usecases/step-progress";
import { createMemoryStepStateStore } from "../../support/memory-step-state";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const T0 = Date.parse("2026-11-20T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);

/** Just what jobProgress reads of a render record (the rest is the render step's). */
const renderRecord = (over: Record<string, unknown>) => ({ attempt: 1, claimedAt: at(0).toISOString(), renderer: "remotion", compositionId: "Reel", causationId: "c", ...over });
const job = (over: Partial<JobRecord>) => ({ jobId: JOB, status: "rendering", ...over }) as JobRecord;

function renderer(answers: Record<string, Awaited<ReturnType<GetRenderProgress>> | Error | "hang">) {
  const asked: string[] = [];
  const ask: GetRenderProgress = async ({ renderId }) => {
    asked.push(renderId);
    const a = answers[renderId];
    if (a === "hang") return new Promise(() => undefined);
    if (!a || a instanceof Error) throw a ?? new Error("unknown render");
    return a;
  };
  return { ask, asked };
}
const snap = (overallProgress: number, over: Partial<Awaited<ReturnType<GetRenderProgress>>> = {}) => ({ done: false, fatalErrorEncountered: false, overallProgress, errors: [], ...over });

describe("the status API's progress of a render (issue #14 item 3)", () => {
  it("asks the renderer about the running render and estimates the time left from its fraction", async () => {
    const state = createMemoryStepStateStore();
    await state.putIfAbsent(JOB, renderStateName(1), renderRecord({ status: "started", renderId: "r1", startedAt: at(0).toISOString(), bucketName: "remotionlambda-x" }));
    const r = renderer({ r1: snap(0.25) });
    const p = await jobProgress({ state, renderProgress: r.ask }, job({}), at(20));
    // A quarter in 20 s: 60 s left.
    expect(p).toEqual({ render: { version: 1, fraction: 0.25, startedAt: at(0).toISOString(), measuredAt: at(20).toISOString(), secondsLeft: 60 } });
    expect(r.asked).toEqual(["r1"]);
  });

  it("a re-render's progress is its own version's render, while the job stays completed", async () => {
    const state = createMemoryStepStateStore();
    await state.putIfAbsent(JOB, renderStateName(1), renderRecord({ status: "completed", renderId: "r1", startedAt: at(0).toISOString() }));
    await state.putIfAbsent(JOB, renderStateName(2), renderRecord({ status: "started", renderId: "r2", startedAt: at(100).toISOString() }));
    const versions = [
      { version: 1, status: "completed" },
      { version: 2, status: "rendering" },
    ] as JobRecord["versions"];
    const r = renderer({ r2: snap(0.8) });
    const p = await jobProgress({ state, renderProgress: r.ask }, job({ status: "completed", versions }), at(108));
    expect(p?.render).toMatchObject({ version: 2, fraction: 0.8, secondsLeft: 2 });
    expect(r.asked).toEqual(["r2"]);
    // Nothing running: no progress at all.
    const done = [{ version: 1, status: "completed" }, { version: 2, status: "completed" }] as JobRecord["versions"];
    expect(await jobProgress({ state, renderProgress: r.ask }, job({ status: "completed", versions: done }), at(120))).toBeUndefined();
  });

  it("a renderer that fails or does not answer in time leaves the fraction out, never the step", async () => {
    const state = createMemoryStepStateStore();
    await state.putIfAbsent(JOB, renderStateName(1), renderRecord({ status: "started", renderId: "r1", startedAt: at(0).toISOString() }));
    const failing = renderer({ r1: new Error("throttled") });
    expect(await jobProgress({ state, renderProgress: failing.ask }, job({}), at(5))).toEqual({ render: { version: 1, startedAt: at(0).toISOString() } });
    const hanging = renderer({ r1: "hang" });
    expect(await jobProgress({ state, renderProgress: hanging.ask, timeoutMs: 20 }, job({}), at(5))).toEqual({ render: { version: 1, startedAt: at(0).toISOString() } });
    // A render still being started (no renderId yet) is running since its claim; the renderer is not asked.
    await state.update(JOB, renderStateName(1), { status: "starting", renderId: undefined, startedAt: undefined });
    const r = renderer({});
    expect(await jobProgress({ state, renderProgress: r.ask }, job({}), at(5))).toEqual({ render: { version: 1, startedAt: at(0).toISOString() } });
    expect(r.asked).toEqual([]);
  });

  it("estimates nothing from a fraction too small to mean anything, and 0 s at the end", () => {
    const startedAt = at(0).toISOString();
    expect(estimate({ startedAt, fraction: 0.01, measuredAt: at(10).toISOString() }, at(10)).secondsLeft).toBeUndefined();
    expect(estimate({ startedAt, fraction: 1, measuredAt: at(10).toISOString() }, at(10)).secondsLeft).toBe(0);
    // Measured 10 s ago at half after 30 s: 30 s were left then, 20 s now; never below 0.
    expect(estimate({ startedAt, fraction: 0.5, measuredAt: at(30).toISOString() }, at(40)).secondsLeft).toBe(20);
    expect(estimate({ startedAt, fraction: 0.5, measuredAt: at(30).toISOString() }, at(400)).secondsLeft).toBe(0);
  });
});
