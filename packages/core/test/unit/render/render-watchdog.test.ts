import { describe, expect, it } from "vitest";
import type { GetRenderProgress, RenderProgressSnapshot } from "../../../src/render";
import { handleRenderWebhook } from "../../../src/usecases/render-webhook";
import { RENDER_STATE } from "../../../src/render/record";
import { reconcileRenders } from "../../../src/usecases/render-watchdog";
import { JOB_ID, RENDER_ID, remotionDelivery, startedJob, successPayload } from "./helpers";

const running: RenderProgressSnapshot = { done: false, fatalErrorEncountered: false, overallProgress: 0.4, errors: [] };

const watchdog = async (progress: RenderProgressSnapshot | Error, over: { afterSeconds?: number; hardLimitSeconds?: number } = {}) => {
  const t = await startedJob();
  const asked: Array<{ renderId: string; bucketName?: string }> = [];
  const getRenderProgress: GetRenderProgress = async (q) => {
    asked.push(q);
    if (progress instanceof Error) throw progress;
    return progress;
  };
  const deps = { ...t.deps, getRenderProgress, afterSeconds: over.afterSeconds ?? 600, hardLimitSeconds: over.hardLimitSeconds ?? 1_800 };
  const run = () => reconcileRenders(deps, { logger: t.logger });
  return { ...t, asked, run };
};

describe("reconcileRenders", () => {
  it("leaves renders younger than afterSeconds alone", async () => {
    const t = await watchdog(running);
    t.clock.advance(599);
    expect(await t.run()).toMatchObject({ checked: 0 });
    expect(t.asked).toEqual([]);
  });

  it("emits RenderCompleted for a render that finished but whose webhook never arrived", async () => {
    const t = await watchdog({ done: true, fatalErrorEncountered: false, overallProgress: 1, errors: [], timeToFinishMs: 40_000, costs: { estimated: 0.005, currency: "USD" } });
    t.writeOutput(1234);
    t.clock.advance(601);
    expect(await t.run()).toMatchObject({ checked: 1, completed: 1 });
    expect(t.asked).toEqual([{ renderId: RENDER_ID, bucketName: "remotionlambda-euwest1-abc" }]);
    expect(t.publisher.published).toEqual([
      expect.objectContaining({
        type: "RenderCompleted",
        eventId: `${JOB_ID}:render-completed:${RENDER_ID}`,
        data: expect.objectContaining({ timeToFinishMs: 40_000, video: expect.objectContaining({ sizeBytes: 1234, durationSeconds: 8 }), cost: { estimated: 0.005, currency: "USD" } }),
      }),
    ]);
    // Settled: the next run has nothing to check, and a late webhook emits nothing.
    t.clock.advance(300);
    expect(await t.run()).toMatchObject({ checked: 0 });
    const late = await handleRenderWebhook(t.deps, remotionDelivery(successPayload()));
    expect(late.body.result).toBe("duplicate");
    expect(t.publisher.published).toHaveLength(1);
  });

  it("emits RenderFailed(RenderError) when Remotion hit a fatal error", async () => {
    const t = await watchdog({ done: false, fatalErrorEncountered: true, overallProgress: 0.2, errors: [{ name: "Error", message: "delayRender() timed out" }] });
    t.clock.advance(700);
    expect(await t.run()).toMatchObject({ failed: 1 });
    expect(t.publisher.published[0]).toMatchObject({ type: "RenderFailed", data: { reason: { code: "RenderError", message: expect.stringContaining("delayRender() timed out") } } });
  });

  it("a failed render's RenderFailed carries what Remotion says it accrued", async () => {
    const t = await watchdog({ done: false, fatalErrorEncountered: true, overallProgress: 0.6, errors: [{ name: "Error", message: "boom" }], costs: { estimated: 0.0031, currency: "USD" } });
    t.clock.advance(700);
    await t.run();
    expect(t.publisher.published[0]).toMatchObject({ type: "RenderFailed", data: { stepCost: { lines: [{ item: "remotion-render", usd: 0.0031, estimated: true }], totalUsd: 0.0031 } } });
  });

  it("waits for a render still running, then fails it with RenderTimeout past the hard limit", async () => {
    const t = await watchdog(running);
    t.clock.advance(900);
    expect(await t.run()).toMatchObject({ pending: 1 });
    expect(t.publisher.published).toEqual([]);
    t.clock.advance(1_000);
    expect(await t.run()).toMatchObject({ failed: 1 });
    expect(t.publisher.published[0]).toMatchObject({ type: "RenderFailed", data: { reason: { code: "RenderTimeout", message: expect.stringContaining("40%") } } });
  });

  it("fails a render reported done whose output is missing", async () => {
    const t = await watchdog({ done: true, fatalErrorEncountered: false, overallProgress: 1, errors: [] });
    t.clock.advance(700);
    expect(await t.run()).toMatchObject({ failed: 1 });
    expect(t.publisher.published[0]).toMatchObject({ type: "RenderFailed", data: { reason: { code: "RenderError", message: expect.stringContaining("no object at") } } });
  });

  it("counts a failing getRenderProgress as an error and keeps the render for the next run", async () => {
    const t = await watchdog(new Error("TooManyRequestsException"));
    t.clock.advance(700);
    expect(await t.run()).toMatchObject({ checked: 1, errors: 1 });
    expect(t.index.entries()).toHaveLength(1);
    expect(t.publisher.published).toEqual([]);
  });

  it("fails a render past the hard limit whose progress cannot be read with RenderTimeout, once", async () => {
    const denied = Object.assign(new Error("User is not authorized to perform: lambda:InvokeFunction"), { name: "AccessDeniedException" });
    const t = await watchdog(denied);
    t.clock.advance(1_801);
    expect(await t.run()).toMatchObject({ checked: 1, failed: 1, errors: 0 });
    expect(t.publisher.published).toEqual([
      expect.objectContaining({
        type: "RenderFailed",
        data: expect.objectContaining({ reason: { code: "RenderTimeout", message: expect.stringMatching(/could not be asked \(AccessDeniedException\)/), retryable: false } }),
      }),
    ]);
    expect(t.index.entries()).toEqual([]);
    t.clock.advance(300);
    expect(await t.run()).toMatchObject({ checked: 0 });
    expect(t.publisher.published).toHaveLength(1);
  });

  it("fails a render past the hard limit whose progress call never answers", async () => {
    const t = await watchdog(running);
    const deps = { ...t.deps, getRenderProgress: () => new Promise<never>(() => undefined), afterSeconds: 600, hardLimitSeconds: 1_800, progressTimeoutMs: 20 };
    t.clock.advance(1_900);
    expect(await reconcileRenders(deps, { logger: t.logger })).toMatchObject({ failed: 1 });
    expect(t.publisher.published[0]).toMatchObject({ type: "RenderFailed", data: { reason: { code: "RenderTimeout", message: expect.stringContaining("did not answer") } } });
  });

  it("renders whose progress keeps failing do not hold back newer ones", async () => {
    const t = await watchdog(running);
    // 60 older renders (more than a run used to take) whose progress call always fails.
    const stuck = Array.from({ length: 60 }, (_, i) => ({ jobId: `01JD7X8Q2RZ4V6N3K5M9P1T${String(i).padStart(3, "0")}`, renderId: `stuck-${i}` }));
    for (const s of stuck) {
      await t.state.putIfAbsent(s.jobId, RENDER_STATE, { ...(await t.state.get(JOB_ID, RENDER_STATE)), renderId: s.renderId, startedAt: "2026-11-20T10:00:00.000Z" });
      await t.index.add({ ...s, startedAt: "2026-11-20T10:00:00.000Z" });
    }
    const deps = {
      ...t.deps,
      afterSeconds: 600,
      getRenderProgress: async (q: { renderId: string }) => {
        if (q.renderId.startsWith("stuck-")) throw new Error("ResourceNotFoundException");
        return { done: true, fatalErrorEncountered: false, overallProgress: 1, errors: [] };
      },
    };
    t.writeOutput();
    t.clock.advance(700);
    expect(await reconcileRenders(deps, { logger: t.logger })).toMatchObject({ checked: 61, errors: 60, completed: 1 });
    expect(t.publisher.published.map((e) => e.jobId)).toEqual([JOB_ID]);
  });

  it("leaves what it cannot reach in time for the next run", async () => {
    const t = await watchdog(running);
    t.clock.advance(700);
    expect(await reconcileRenders({ ...t.deps, getRenderProgress: async () => running, afterSeconds: 600 }, { logger: t.logger, remainingMs: () => 5_000 })).toMatchObject({
      checked: 0,
      deferred: 1,
    });
    expect(t.index.entries()).toHaveLength(1);
  });

  it("drops index entries of renders the webhook already settled, without asking Remotion", async () => {
    const t = await watchdog(running);
    t.writeOutput();
    await handleRenderWebhook(t.deps, remotionDelivery(successPayload()));
    // Simulate a lost index removal.
    await t.index.add({ jobId: JOB_ID, renderId: RENDER_ID, startedAt: "2026-11-20T10:01:41.000Z" });
    t.clock.advance(700);
    expect(await t.run()).toMatchObject({ cleaned: 1 });
    expect(t.asked).toEqual([]);
    expect(t.publisher.published).toHaveLength(1);
  });
});
