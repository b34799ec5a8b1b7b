/**
 * Issue #11 items 2, 3 and 4 through the real handlers with in-memory fakes: events are input
 * too. Each case forges what anyone who can PutEvents on the bus could send, and asserts that
 * no consumer changes anything or sends anything, and that nothing is retried into the DLQ.
 */
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core";
import type { JobRecord } from "@reelbridge/core";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import type { WebhookRequest } from "@reelbridge/core/notify/http";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import renderFailedSample from "@reelbridge/events/samples/v1/RenderFailed.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { seedLedger } from "@reelbridge/testing/ledger";
import { sqsEvent } from "../support/sqs";
import * as dbWriter from "../../src/db-writer";
import * as notifier from "../../src/notifier";
import * as render from "../../src/render";
import * as segmenter from "../../src/segmenter";
import * as statusApi from "../../src/status-api";
import { openCaller } from "@reelbridge/core/upload/auth";

process.env.LOG_LEVEL = "SILENT";

const A = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const B = "01JD7X8Q2RZ4V6N3K5M9P1T0CD";
const NEVER = "01JD7X8Q2RZ4V6N3K5M9P1T0EF";
const clone = <T>(x: T): T => structuredClone(x);
const ctx = { functionName: "x", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
type Batch = { batchItemFailures: Array<{ itemIdentifier: string }> };

/** Job A ran to completion: the ledger and the record know it as the pipeline wrote them. */
async function world() {
  const state = createMemoryStepStateStore();
  const jobs = createMemoryJobStore({ state });
  const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
  const publisher = createMemoryPublisher();
  const sent: WebhookRequest[] = [];
  const renders: unknown[] = [];
  await seedLedger(state, readySample);
  await seedLedger(state, completedSample);
  for (const e of [readySample, completedSample]) await jobs.apply(clone(e) as never);
  blobs.seed(`jobs/${A}/base.mp4`, new Uint8Array(64), { contentType: "video/mp4" });
  blobs.seed(`jobs/${A}/final.mp4`, new Uint8Array(64), { contentType: "video/mp4" });
  blobs.seed(`jobs/${B}/final.mp4`, new Uint8Array(32), { contentType: "video/mp4" });
  blobs.seed("assets/music/sunrise.m4a", new Uint8Array(8), { contentType: "audio/mp4" });
  const segmented: unknown[] = [];
  const handlers = {
    dbWriter: dbWriter.createHandler(async () => ({ jobs })),
    segmenter: segmenter.createHandler(async () => ({
      blobs,
      publisher,
      state,
      tmpDir: "/tmp/reelbridge-trust-test",
      segmenter: {
        segment: async (req) => {
          segmented.push(req);
          throw new Error("the segmenter must not run for a forged event");
        },
      },
    })),
    notifier: notifier.createHandler(async () => ({
      sender: { send: async (req) => (sent.push(req), { status: 200, bodySnippet: "" }) },
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      state,
      publisher,
      stageEndpoints: ["https://stage.example.com/hooks"],
      policy: { requireHttps: true },
      links: async () => ({}),
      retry: { attemptsPerInvocation: 1 },
    })),
    render: render.createHandler(async () => ({
      blobs,
      state,
      publisher,
      renderer: { name: "remotion-lambda", start: async (req) => (renders.push(req), { renderId: "forged-render" }) },
      clock: { now: () => new Date("2026-11-20T10:30:00Z") },
      webhookUrl: "https://abc.lambda-url.eu-west-1.on.aws/",
      keyframeIntervalSeconds: 2,
    })),
    status: statusApi.createHandler(async () => ({ jobs, blobs, clock: { now: () => new Date("2026-11-20T10:30:00Z") }, auth: openCaller, webOrigins: [] })),
  };
  const queued = async (h: (e: never, c: never) => Promise<unknown>, queue: string, event: unknown, receiveCount = 1) =>
    ((await h(sqsEvent(event, { queue, receiveCount }) as never, ctx as never)) as Batch).batchItemFailures;
  /** Delivers a forged event to every consumer its detail-type reaches, as the rules would. */
  const deliver = async (event: unknown, receiveCount = 1) => {
    const type = (event as { "detail-type": string })["detail-type"];
    const failures: unknown[] = [];
    await handlers.dbWriter(clone(event) as never, ctx as never);
    if (type === "RenderCompleted") failures.push(...(await queued(handlers.segmenter as never, "segmenter", event, receiveCount)));
    if (type === "VideoBaseReady") failures.push(...(await queued(handlers.render as never, "render-step", event, receiveCount)));
    if (["RenderCompleted", "RenderFailed", "VideoBaseFailed", "SegmentsReady", "SegmentsFailed"].includes(type)) {
      failures.push(...(await queued(handlers.notifier as never, "notifier", event, receiveCount)));
    }
    return failures;
  };
  const status = async (jobId: string) => {
    const res = (await handlers.status({ rawPath: `/jobs/${jobId}`, requestContext: { http: { method: "GET" } }, headers: { host: "status.example.com" } } as never, ctx as never)) as { statusCode: number; body: string };
    return { statusCode: res.statusCode, body: JSON.parse(res.body) as { status?: string; outputs?: { video?: { url: string } } } };
  };
  return { state, jobs, blobs, publisher, sent, renders, segmented, deliver, status };
}

const withEventId = <T extends { detail: { metadata: { eventId: string } } }>(e: T, eventId: string): T => {
  const c = clone(e);
  c.detail.metadata.eventId = eventId;
  return c;
};

describe("forged events change nothing and send nothing (issue #11 item 3)", () => {
  it("a RenderCompleted for job A whose video is job B's: A's record keeps its video, the segmenter writes nothing, no webhook", async () => {
    const w = await world();
    const before = (await w.jobs.get(A)) as JobRecord;
    const forged = withEventId(completedSample, "forged-1");
    forged.detail.data.video.key = `jobs/${B}/final.mp4`;
    forged.detail.data.job.callbackUrl = "https://attacker.example.com/steal";
    expect(await w.deliver(forged)).toEqual([]);
    expect(await w.jobs.get(A)).toEqual(before);
    expect(w.segmented).toEqual([]);
    expect(w.blobs.keys(`jobs/${A}/`).sort()).toEqual([`jobs/${A}/base.mp4`, `jobs/${A}/final.mp4`]);
    expect(w.sent).toEqual([]);
    expect(w.publisher.published).toEqual([]);
  });

  it("a RenderCompleted for job A with A's own key but another eventId, owner or callback: still nothing", async () => {
    const w = await world();
    const before = await w.jobs.get(A);
    const otherId = withEventId(completedSample, "forged-2");
    const otherOwner = clone(completedSample);
    otherOwner.detail.data.job.owner = "attacker";
    const otherCallback = clone(completedSample);
    otherCallback.detail.data.job.callbackUrl = "https://attacker.example.com/steal";
    for (const e of [otherId, otherOwner, otherCallback]) expect(await w.deliver(e)).toEqual([]);
    expect(await w.jobs.get(A)).toEqual(before);
    expect(w.segmented).toEqual([]);
    expect(w.sent).toEqual([]);
    expect(w.publisher.published).toEqual([]);
  });

  it("a VideoBaseReady for a job that never existed is neither rendered nor recorded", async () => {
    const w = await world();
    const forged = clone(readySample);
    forged.detail.metadata.jobId = NEVER;
    forged.detail.data.job.jobId = NEVER;
    forged.detail.data.job.owner = "attacker";
    for (const k of ["source", "image", "baseVideo"] as const) forged.detail.data[k].key = forged.detail.data[k].key.replace(A, NEVER);
    w.blobs.seed(`jobs/${NEVER}/base.mp4`, new Uint8Array(64), { contentType: "video/mp4" });
    expect(await w.deliver(forged)).toEqual([]);
    expect(w.renders).toEqual([]);
    expect(await w.jobs.get(NEVER)).toBeUndefined();
    expect(await w.jobs.listByOwner("attacker", { limit: 10 })).toEqual({ items: [] });
    expect(w.publisher.published).toEqual([]);
  });

  it("a RenderFailed for a completed job sends no video.failed and leaves the job completed", async () => {
    const w = await world();
    const before = await w.jobs.get(A);
    expect(await w.deliver(clone(renderFailedSample))).toEqual([]);
    expect(w.sent).toEqual([]);
    expect(await w.jobs.get(A)).toEqual(before);
  });

  it("the job's own RenderCompleted is still delivered (the check is not a wall)", async () => {
    const w = await world();
    await w.deliver(clone(completedSample));
    expect(w.segmented).toHaveLength(1);
    expect(w.sent.map((s) => JSON.parse(s.body).type)).toEqual(["video.completed", "video.completed"]);
  });
});

describe("keys that escape their prefix (issue #11 item 4)", () => {
  it("are rejected without a retry, the record never holds them, and the status API answers 200", async () => {
    const w = await world();
    const forged = withEventId(completedSample, "forged-3");
    forged.detail.data.video.key = `jobs/${A}/../../secrets.json`;
    // Even on the queue's last receive: no RetriesExhausted, no DLQ.
    expect(await w.deliver(forged, 3)).toEqual([]);
    expect((await w.jobs.get(A))!.outputs.finalVideoKey).toBe(`jobs/${A}/final.mp4`);
    const res = await w.status(A);
    expect(res.statusCode).toBe(200);
    expect(res.body.status).toBe("rendered");
    expect(w.sent).toEqual([]);
    expect(w.publisher.published).toEqual([]);
  });

  it("the job's own RenderCompleted made inconsistent ends the segmenting visibly with SegmentsFailed(InvalidEvent)", async () => {
    const w = await world();
    const broken = clone(completedSample);
    broken.detail.data.video.key = "../../secrets.json";
    expect(await w.deliver(broken)).toEqual([]);
    expect(w.segmented).toEqual([]);
    expect(w.publisher.published).toMatchObject([{ type: "SegmentsFailed", jobId: A, data: { reason: { code: "InvalidEvent" } } }]);
  });

  it("a record written before the checks, pointing outside the job, is shown without that output rather than a 500", async () => {
    const w = await world();
    const old = clone(completedSample);
    old.detail.metadata.eventId = "legacy";
    old.detail.metadata.time = "2026-11-20T11:00:00Z";
    old.detail.data.video.key = "../../secrets.json";
    await w.jobs.apply(old as never);
    const res = await w.status(A);
    expect(res.statusCode).toBe(200);
    expect(res.body.outputs?.video).toBeUndefined();
  });
});
