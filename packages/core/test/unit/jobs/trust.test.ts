import { describe, expect, it } from "vitest";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import segmentsSample from "@reelbridge/events/samples/v1/SegmentsReady.json";
import renderFailedSample from "@reelbridge/events/samples/v1/RenderFailed.json";
import baseFailedSample from "@reelbridge/events/samples/v1/VideoBaseFailed.json";
import { InvalidEventError } from "../../../src/errors";
import { createJobLedger } from "../../../src/jobs/ledger";
import { admitEvent, assertEventConsistent } from "../../../src/jobs/trust";
import { isJobKey, isSafeKey } from "../../../src/upload/keys";
import { seedLedger } from "../../support/ledger";
import { createMemoryStepStateStore } from "../../support/memory-step-state";

const A = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const B = "01JD7X8Q2RZ4V6N3K5M9P1T0CD";
const ev = <T>(x: T) => structuredClone(x) as unknown as PipelineEvent<DetailType>;

describe("the jobs/ layout", () => {
  it("accepts keys inside the job's folder and nothing that resolves elsewhere", () => {
    expect(isJobKey(`jobs/${A}/hls/seg-000.ts`, A)).toBe(true);
    for (const k of [`jobs/${B}/final.mp4`, `jobs/${A}/../${B}/final.mp4`, `jobs/${A}/./final.mp4`, `jobs/${A}//final.mp4`, `jobs/${A}/`, `/jobs/${A}/x`, `jobs/${A}/a\\b`, `jobs/${A}/a\0`, "../../secrets.json"]) {
      expect(isJobKey(k, A), k).toBe(false);
    }
    expect(isSafeKey("a".repeat(1025))).toBe(false);
  });
});

describe("assertEventConsistent", () => {
  it("passes the samples", () => {
    for (const s of [readySample, completedSample, segmentsSample, renderFailedSample, baseFailedSample]) expect(() => assertEventConsistent(ev(s))).not.toThrow();
  });

  it("refuses metadata.jobId ≠ data.job.jobId, another job's keys and keys that escape, as InvalidEventError", () => {
    const mismatch = ev(completedSample) as PipelineEvent<"RenderCompleted">;
    mismatch.detail.data.job.jobId = B;
    const othersVideo = ev(completedSample) as PipelineEvent<"RenderCompleted">;
    othersVideo.detail.data.video.key = `jobs/${B}/final.mp4`;
    const escaping = ev(segmentsSample) as PipelineEvent<"SegmentsReady">;
    escaping.detail.data.clips[0]!.key = `jobs/${A}/../../secrets.json`;
    const base = ev(readySample) as PipelineEvent<"VideoBaseReady">;
    base.detail.data.baseVideo.key = `jobs/${A}/other.mp4`;
    for (const [what, e] of [["jobId", mismatch], ["video", othersVideo], ["clip", escaping], ["base", base]] as const) {
      expect(() => assertEventConsistent(e), what).toThrow(InvalidEventError);
    }
  });
});

describe("admitEvent against the job ledger", () => {
  const view = async (seed: (s: ReturnType<typeof createMemoryStepStateStore>) => Promise<void>) => {
    const state = createMemoryStepStateStore();
    await seed(state);
    return createJobLedger(state).view(A);
  };

  it("refuses anything for a job the pipeline never started", async () => {
    const v = await view(async () => {});
    expect(admitEvent(v, ev(readySample), "act")).toMatchObject({ admitted: false, why: expect.stringMatching(/never started/) });
  });

  it("refuses another owner or callback than the job's recorded parameters", async () => {
    const v = await view((s) => seedLedger(s, readySample));
    const e = ev(readySample) as PipelineEvent<"VideoBaseReady">;
    e.detail.data.job.callbackUrl = "https://attacker.example.com/";
    expect(admitEvent(v, e, "act").admitted).toBe(false);
    expect(admitEvent(v, ev(readySample), "act").admitted).toBe(true);
  });

  it("admits only the job's own outcome, and nothing that contradicts it", async () => {
    const completed = await view(async (s) => { await seedLedger(s, readySample); await seedLedger(s, completedSample); });
    expect(admitEvent(completed, ev(completedSample), "follow").admitted).toBe(true);
    const forged = ev(completedSample);
    forged.detail.metadata.eventId = "forged";
    expect(admitEvent(completed, forged, "follow").admitted).toBe(false);
    expect(admitEvent(completed, ev(renderFailedSample), "follow").admitted).toBe(false);
    expect(admitEvent(completed, ev(segmentsSample), "record").admitted).toBe(true);
    // The render step starts nothing for a terminal job.
    expect(admitEvent(completed, ev(readySample), "act").admitted).toBe(false);

    const failed = await view(async (s) => { await seedLedger(s, readySample, { outcome: baseFailedSample }); });
    expect(admitEvent(failed, ev(baseFailedSample), "record").admitted).toBe(true);
    for (const s of [readySample, completedSample, segmentsSample]) expect(admitEvent(failed, ev(s), "record").admitted).toBe(false);
  });

  it("refuses an outcome the ledger never recorded (producers claim it before publishing)", async () => {
    const running = await view((s) => seedLedger(s, readySample));
    expect(admitEvent(running, ev(completedSample), "follow").admitted).toBe(false);
    expect(admitEvent(running, ev(renderFailedSample), "record").admitted).toBe(false);
  });
});

describe("eventJobId: the one way a jobId is read from an event", () => {
  it("reads a pipeline event's metadata, else an S3 key under uploads/ or jobs/, else nothing", async () => {
    const { eventJobId, JOB_ID_IN_TEXT } = await import("../../../src/upload/keys");
    const id = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
    expect(eventJobId({ detail: { metadata: { jobId: id } } })).toBe(id);
    expect(eventJobId({ detail: { object: { key: `uploads/${id}/source` } } })).toBe(id);
    expect(eventJobId({ detail: { object: { key: `jobs%2F${id}%2Ffinal.mp4` } } })).toBe(id);
    expect(eventJobId({ detail: { object: { key: "uploads/not-a-ulid/source" } } })).toBeUndefined();
    expect(eventJobId({ detail: { object: { key: "%E0%A4%A" } } })).toBeUndefined();
    expect(eventJobId(null)).toBeUndefined();
    expect(JOB_ID_IN_TEXT.exec(`wrote /data/blobs/b/jobs/${id}/hls/index.m3u8`)?.[1]).toBe(id);
  });
});
