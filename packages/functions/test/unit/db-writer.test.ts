import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { TransientError } from "@reelbridge/core";
import type { JobStore } from "@reelbridge/core";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import segmentsSample from "@reelbridge/events/samples/v1/SegmentsReady.json";
import { createHandler } from "../../src/db-writer";

process.env.LOG_LEVEL = "SILENT";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const ctx = {} as Context;
const clone = <T>(x: T): T => structuredClone(x);

describe("db-writer handler", () => {
  it("records each pipeline event EventBridge delivers, duplicates and all", async () => {
    const jobs = createMemoryJobStore();
    const handler = createHandler(async () => ({ jobs }));
    for (const e of [segmentsSample, completedSample, readySample, segmentsSample, readySample]) await handler(clone(e), ctx);
    const record = await jobs.get(JOB);
    expect(record?.status).toBe("completed");
    expect(record?.timeline.map((t) => t.type)).toEqual(["VideoBaseReady", "RenderCompleted", "SegmentsReady"]);
    expect(record?.video?.thumbnail_url).toBe(`jobs/${JOB}/poster.jpg`);
  });

  it("drops an event with an unknown detail-type or a broken detail without retrying", async () => {
    const jobs = createMemoryJobStore();
    const handler = createHandler(async () => ({ jobs }));
    await expect(handler({ ...clone(readySample), "detail-type": "VideoBaseExploded" }, ctx)).resolves.toBeUndefined();
    const broken = clone(completedSample) as { detail: { data: Partial<typeof completedSample.detail.data> } };
    delete broken.detail.data.video;
    await expect(handler(broken, ctx)).resolves.toBeUndefined();
    expect(await jobs.get(JOB)).toBeUndefined();
  });

  it("throws a write that keeps conflicting, so EventBridge delivers the event again", async () => {
    const jobs: JobStore = {
      ...createMemoryJobStore(),
      apply: async () => {
        throw new TransientError("the record kept changing");
      },
    };
    const handler = createHandler(async () => ({ jobs }));
    await expect(handler(clone(readySample), ctx)).rejects.toThrow("the record kept changing");
  });
});
