import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core";
import { createMemoryRenderIndex } from "@reelbridge/core/render/index";
import { startRender } from "@reelbridge/core/usecases/start-render";
import type { PipelineEvent } from "@reelbridge/events";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import { createHandler } from "../../src/render-watchdog";
import type { Deps } from "../../src/render-watchdog";

process.env.LOG_LEVEL = "SILENT";
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";

describe("render-watchdog handler", () => {
  it("settles a render whose webhook never arrived and reports what it did", async () => {
    const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
    blobs.seed(`jobs/${JOB}/base.mp4`, new Uint8Array(64), { contentType: "video/mp4" });
    const state = createMemoryStepStateStore();
    const index = createMemoryRenderIndex();
    let now = new Date("2026-11-20T10:01:41Z");
    const clock = { now: () => now };
    await startRender(
      { blobs, state, index, publisher: createMemoryPublisher(), clock, renderer: { name: "remotion-lambda", start: async () => ({ renderId: "r1" }) }, webhookUrl: "https://x/", keyframeIntervalSeconds: 2 },
      structuredClone(readySample) as PipelineEvent<"VideoBaseReady">,
      { logger: { debug() {}, info() {}, warn() {}, error() {} } },
    );
    const publisher = createMemoryPublisher();
    const deps: Deps = {
      state,
      index,
      blobs,
      publisher,
      clock,
      afterSeconds: 600,
      getRenderProgress: async () => ({ done: false, fatalErrorEncountered: true, overallProgress: 0.1, errors: [{ message: "Chrome crashed" }] }),
    };
    now = new Date("2026-11-20T10:15:00Z");
    const summary = await createHandler(async () => deps)({ "detail-type": "Scheduled Event" }, {} as Context);
    expect(summary).toMatchObject({ checked: 1, failed: 1, errors: 0 });
    expect(publisher.published).toEqual([expect.objectContaining({ type: "RenderFailed", data: expect.objectContaining({ reason: expect.objectContaining({ code: "RenderError" }) }) })]);
  });

  it("puts its invocation on the cost of the job it checked (issue #13 item 1), and none when it found nothing", async () => {
    const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
    blobs.seed(`jobs/${JOB}/base.mp4`, new Uint8Array(64), { contentType: "video/mp4" });
    const state = createMemoryStepStateStore();
    const index = createMemoryRenderIndex();
    let now = new Date("2026-11-20T10:01:41Z");
    const clock = { now: () => now };
    const ready = structuredClone(readySample) as PipelineEvent<"VideoBaseReady">;
    await startRender(
      { blobs, state, index, publisher: createMemoryPublisher(), clock, renderer: { name: "remotion-lambda", start: async () => ({ renderId: "r1" }) }, webhookUrl: "https://x/", keyframeIntervalSeconds: 2 },
      ready,
      { logger: { debug() {}, info() {}, warn() {}, error() {} } },
    );
    const jobs = createMemoryJobStore();
    await jobs.apply(ready as never);
    const deps: Deps = { state, index, blobs, publisher: createMemoryPublisher(), clock, afterSeconds: 600, jobs, getRenderProgress: async () => ({ done: false, fatalErrorEncountered: false, overallProgress: 0.5, errors: [] }) };
    const context = { memoryLimitInMB: "256", awsRequestId: "wd-1" } as unknown as Context;
    const handler = createHandler(async () => deps);
    // Too early: nothing listed, nothing attributed.
    await handler({}, { ...context, awsRequestId: "wd-0" });
    expect((await jobs.get(JOB))!.cost!.lines.find((l) => l.item === "lambda:render-watchdog")).toBeUndefined();
    now = new Date("2026-11-20T10:15:00Z");
    await handler({}, context);
    const line = (await jobs.get(JOB))!.cost!.lines.find((l) => l.item === "lambda:render-watchdog");
    expect(line).toMatchObject({ unit: "GB-s" });
    expect(line!.basis).toContain("1 invocation,");
  });
});
