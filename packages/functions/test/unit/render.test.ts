import type { Context, SQSBatchResponse } from "aws-lambda";
import { sqsEvent } from "../support/sqs";
import { describe, expect, it } from "vitest";
import { PermanentError, TransientError, createMemoryPublisher } from "@reelbridge/core";
import type { RenderRequest } from "@reelbridge/core";
import { createMemoryRenderIndex } from "@reelbridge/core/render/index";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { seedLedger } from "@reelbridge/testing/ledger";
import { MAX_RECEIVE_COUNT, createHandler } from "../../src/render";
import type { Deps } from "../../src/render";

process.env.LOG_LEVEL = "SILENT";
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";

async function setup(start?: (req: RenderRequest) => Promise<{ renderId: string }>) {
  const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
  blobs.seed(`jobs/${JOB}/base.mp4`, new Uint8Array(64), { contentType: "video/mp4" });
  blobs.seed("assets/music/sunrise.m4a", new Uint8Array(8), { contentType: "audio/mp4" });
  const publisher = createMemoryPublisher();
  const requests: RenderRequest[] = [];
  // The LTX step recorded the job it started (jobs/ledger.ts): the render step renders no other.
  const state = createMemoryStepStateStore();
  await seedLedger(state, readySample);
  const deps: Deps = {
    blobs,
    state,
    index: createMemoryRenderIndex(),
    publisher,
    renderer: {
      name: "remotion-lambda",
      start: async (req) => {
        requests.push(req);
        return start ? start(req) : { renderId: "8hfxlw7yoq" };
      },
    },
    clock: { now: () => new Date("2026-11-20T10:01:41Z") },
    webhookUrl: "https://abc.lambda-url.eu-west-1.on.aws/",
    keyframeIntervalSeconds: 2,
  };
  return { deps, publisher, requests, handler: createHandler(async () => deps) };
}

const sqs = (body: unknown, receiveCount = 1) => sqsEvent(body, { queue: "render-step", receiveCount });
const context = { functionName: "render-step", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const ready = () => structuredClone(readySample);
const invoke = (t: Awaited<ReturnType<typeof setup>>, ev: unknown, n = 1) => t.handler(sqs(ev, n), context) as Promise<SQSBatchResponse>;

describe("render-step handler", () => {
  it("starts the render from the queued VideoBaseReady and emits RenderStarted", async () => {
    const t = await setup();
    const res = await invoke(t, ready());
    expect(res.batchItemFailures).toEqual([]);
    expect(t.requests).toHaveLength(1);
    expect(t.requests[0]).toMatchObject({ compositionId: "ReelVertical", outputKey: `jobs/${JOB}/final.mp4`, webhook: { customData: { jobId: JOB } } });
    expect(t.publisher.published.map((e) => e.type)).toEqual(["RenderStarted"]);
  });

  it("a duplicated message starts nothing new", async () => {
    const t = await setup();
    await invoke(t, ready());
    await invoke(t, ready(), 2);
    expect(t.requests).toHaveLength(1);
    expect(t.publisher.published).toHaveLength(1);
  });

  it("ends the job with RenderFailed(RenderStartFailed) when Remotion refuses the render, without a retry", async () => {
    const t = await setup(async () => {
      throw new PermanentError("RenderStartFailed", "No composition with the ID ReelVertical");
    });
    const res = await invoke(t, ready());
    expect(res.batchItemFailures).toEqual([]);
    expect(t.publisher.published).toEqual([
      expect.objectContaining({ type: "RenderFailed", eventId: `${JOB}:render-failed:start`, data: expect.objectContaining({ reason: expect.objectContaining({ code: "RenderStartFailed" }) }) }),
    ]);
  });

  it("retries a throttled start, and fails the job with RetriesExhausted on the last receive", async () => {
    const t = await setup(async () => {
      throw new TransientError("Rate Exceeded");
    });
    // A batch of one whose only record failed reports it, so SQS redelivers it (after a backoff).
    expect(await invoke(t, ready(), 1)).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
    expect(t.publisher.published).toEqual([]);
    expect(await invoke(t, ready(), MAX_RECEIVE_COUNT)).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
    expect(t.publisher.published).toEqual([
      expect.objectContaining({ type: "RenderFailed", data: expect.objectContaining({ reason: expect.objectContaining({ code: "RetriesExhausted" }) }) }),
    ]);
  });

  it("fails an event that does not match its contract with RenderFailed(InvalidEvent)", async () => {
    const t = await setup();
    const ev = ready();
    (ev.detail.data.baseVideo as { durationSeconds: unknown }).durationSeconds = "six";
    await invoke(t, ev);
    expect(t.requests).toEqual([]);
    expect(t.publisher.published).toEqual([expect.objectContaining({ type: "RenderFailed", data: expect.objectContaining({ reason: expect.objectContaining({ code: "InvalidEvent" }) }) })]);
  });
});
