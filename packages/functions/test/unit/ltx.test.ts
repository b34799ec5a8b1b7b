import { readFileSync } from "node:fs";
import type { Context, SQSBatchResponse } from "aws-lambda";
import { sqsEvent } from "../support/sqs";
import { describe, expect, it, vi } from "vitest";
import type { Data, JobParams } from "@reelbridge/events";
import { lambdaUsageName, sumUsage } from "@reelbridge/core/jobs/lambda-usage";
import { TransientError, createMemoryPublisher } from "@reelbridge/core";
import type { VideoGenerator } from "@reelbridge/core";
import { readMp4Info } from "@reelbridge/core/adapters/ltx/mp4-info";
import { encodeJobMetadata } from "@reelbridge/core/upload/metadata";
import { STEP_RETRY_BUDGET, generationClaimName, looksUntilDeadline } from "@reelbridge/core/usecases/ingest-upload";
import { LTX_CHECK_INTERVAL_SECONDS } from "@reelbridge/core/adapters/ltx/generator";
import { createFfmpegVideoGenerator } from "@reelbridge/core/adapters/ffmpeg/offline-generator";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import s3Sample from "@reelbridge/events/samples/v1/S3ObjectCreated.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { fixtureUrl } from "@reelbridge/testing/fixtures";
import { CLAIM_LEASE_SECONDS, MAX_RECEIVE_COUNT, createHandler } from "../../src/ltx";
import type { Deps } from "../../src/ltx";
import { subscriptions } from "../../src/topology";

// Handlers made in the tests below log at this level (the Powertools logger reads it when created).
process.env.LOG_LEVEL = "SILENT";

const PHOTO = new Uint8Array(readFileSync(fixtureUrl("unit/ingest/fixtures/photo-300x400.jpg")));
const CLIP = new Uint8Array(readFileSync(fixtureUrl("unit/ltx/fixtures/base-1080x1920-24fps-2s.mp4")));
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";

/** A generator in the submit/check shape: `pending` looks answer "processing" before the clip. */
function fakeGenerator(over: Partial<Pick<VideoGenerator, "submit" | "check">> = {}, pending = 0) {
  let submitted = 0;
  let looks = 0;
  const generator: VideoGenerator = {
    name: "fake-ltx",
    checkIntervalSeconds: { first: 30, next: 10 },
    submit:
      over.submit ??
      (async () => {
        submitted++;
        return { generationId: "gen-1" };
      }),
    check:
      over.check ??
      (async () => (++looks <= pending ? { status: "pending", providerStatus: "processing" } : { status: "completed", video: CLIP, contentType: "video/mp4" })),
  };
  return { generator, submitted: () => submitted, looks: () => looks };
}

function setup(over: Partial<Pick<VideoGenerator, "submit" | "check">> = {}, pending = 0) {
  const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
  const publisher = createMemoryPublisher();
  const fake = fakeGenerator(over, pending);
  const deps: Deps = {
    blobs,
    state: createMemoryStepStateStore(),
    publisher,
    generator: fake.generator,
    clock: { now: () => new Date("2026-11-20T10:00:00Z") },
    probeVideo: readMp4Info,
    maxInputPixels: 50_000_000,
    fps: 24,
    presignExpiresSeconds: 900,
  };
  const visibility: number[] = [];
  const reasons: Array<string | undefined> = [];
  const handler = createHandler(async () => deps, {
    changeVisibility: async (c) => {
      visibility.push(c.visibilityTimeoutSeconds);
      reasons.push(c.reason);
    },
  });
  return { deps, blobs, publisher, handler, submitted: fake.submitted, looks: fake.looks, visibility, reasons };
}

async function uploadPhoto(blobs: ReturnType<typeof createMemoryBlobStore>, bytes?: Uint8Array) {
  const jpeg = bytes ?? PHOTO;
  const params = { ...structuredClone(readySample.detail.data.job), jobId: JOB } as JobParams;
  blobs.seed(`uploads/${JOB}/source`, jpeg, { contentType: "image/jpeg", metadata: encodeJobMetadata(params) });
  return params;
}

const sqs = (body: unknown, receiveCount = 1) => sqsEvent(body, { queue: "ltx-step", receiveCount });

/** The ids of the records the handler reported failed (SQS redelivers them). */
const failedRecords = async (run: Promise<SQSBatchResponse>): Promise<string[]> => (await run).batchItemFailures.map((f) => f.itemIdentifier);

const context = { functionName: "ltx-step", memoryLimitInMB: "2048", awsRequestId: "req-1", getRemainingTimeInMillis: () => 600_000 } as unknown as Context;
const invocation = (n: number) => ({ ...context, awsRequestId: `req-${n}` }) as Context;

/** SQS: the same message again each time the handler reported it failed, until it is deleted. */
async function untilDeleted(handler: ReturnType<typeof setup>["handler"], body: unknown, max = 20): Promise<number> {
  for (let receive = 1; receive <= max; receive++) {
    const res = await handler(sqs(body, receive), invocation(receive));
    if (res.batchItemFailures.length === 0) return receive;
  }
  throw new Error(`still in the queue after ${max} receives`);
}
const objectCreated = () => structuredClone(s3Sample);

describe("ltx-step handler", () => {
  it("takes maxReceiveCount from the topology's ltx-step subscription", () => {
    const sub = subscriptions({ mediaBucket: "b" }).find((s) => s.name === "ltx-step")!;
    expect(sub.delivery.kind === "queue" && sub.delivery.maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
  });

  it("holds a generation claim longer than an invocation can run, so a live holder is never taken over", () => {
    const sub = subscriptions({ mediaBucket: "b" }).find((s) => s.name === "ltx-step")!;
    expect(CLAIM_LEASE_SECONDS).toBeGreaterThan(sub.timeoutSeconds);
    expect(CLAIM_LEASE_SECONDS).toBeGreaterThanOrEqual(900);
  });

  it("keeps its backstop above the looks a generation gets before its deadline, with the step's budgets on top", () => {
    expect(looksUntilDeadline(LTX_CHECK_INTERVAL_SECONDS) + 2 * STEP_RETRY_BUDGET).toBeLessThan(MAX_RECEIVE_COUNT);
    expect(looksUntilDeadline(createFfmpegVideoGenerator({ workDir: "/nonexistent" }).checkIntervalSeconds) + 2 * STEP_RETRY_BUDGET).toBeLessThan(MAX_RECEIVE_COUNT);
  });

  it("processes an Object Created from the queue into VideoBaseReady: submits, hands the message back for each look, deletes it when done", async () => {
    const { blobs, publisher, handler, visibility, reasons, submitted, looks } = setup({}, 2);
    const params = await uploadPhoto(blobs);
    // Submitted: the record goes back to the queue, visible again when the first look is due.
    expect(await failedRecords(handler(sqs(objectCreated(), 1), invocation(1)))).toEqual(["m-1"]);
    expect(publisher.published.map((e) => e.type)).toEqual(["VideoBaseStarted"]);
    expect(await failedRecords(handler(sqs(objectCreated(), 2), invocation(2)))).toEqual(["m-1"]);
    expect(await failedRecords(handler(sqs(objectCreated(), 3), invocation(3)))).toEqual(["m-1"]);
    expect(await handler(sqs(objectCreated(), 4), invocation(4))).toEqual({ batchItemFailures: [] });
    expect(visibility).toEqual([30, 10, 10]);
    expect(reasons).toEqual(["check", "check", "check"]);
    expect(submitted()).toBe(1);
    expect(looks()).toBe(3);
    expect(publisher.published.map((e) => e.type)).toEqual(["VideoBaseStarted", "VideoBaseReady"]);
    expect(publisher.published[0]).toMatchObject({ eventId: `${JOB}.VideoBaseStarted`, jobId: JOB, causationId: s3Sample.id, data: { job: params, generator: { generationId: "gen-1" } } });
    expect(publisher.published[1]).toMatchObject({ jobId: JOB, causationId: s3Sample.id, data: { job: params } });
    expect(blobs.keys("jobs/")).toEqual([`jobs/${JOB}/base.mp4`, `jobs/${JOB}/image.jpg`]);
  });

  it("measures every invocation (duration × context.memoryLimitInMB) per job, and VideoBaseReady's Lambda line sums them", async () => {
    const { deps, blobs, publisher, handler } = setup({}, 1);
    deps.pricing = { provider: "offline", model: "ltx-2-fast", lambdaArch: "x86_64", fn: "ltx-step" };
    await uploadPhoto(blobs);
    const receives = await untilDeleted(handler, objectCreated());
    expect(receives).toBe(3);
    const recorded = sumUsage(await deps.state.get(JOB, lambdaUsageName("ltx-step")));
    expect(recorded.invocations).toBe(3);
    // 2,048 MB: each millisecond is 2 GB-ms.
    expect(recorded.gbSeconds).toBeCloseTo((recorded.ms / 1000) * 2, 9);
    expect(recorded.ms).toBeGreaterThan(0);
    const ready = publisher.published.find((e) => e.type === "VideoBaseReady")!.data as Data<"VideoBaseReady">;
    const lambda = ready.stepCost!.lines.find((l) => l.item === "lambda:ltx-step")!;
    // Published during the third invocation: the two before it, plus the third up to the publish.
    expect(lambda.basis).toMatch(/3 invocations, x86_64/);
    expect(lambda.quantity).toBeGreaterThan(sumUsage(Object.fromEntries(Object.entries((await deps.state.get(JOB, lambdaUsageName("ltx-step")))!).filter(([k]) => !k.includes("req-3")))).gbSeconds);
    expect(lambda.quantity).toBeLessThanOrEqual(recorded.gbSeconds);
    // The offline generator pays nothing, and its line says so.
    expect(ready.stepCost!.lines.find((l) => l.item === "ltx-generation")).toMatchObject({ unitPriceUsd: 0, usd: 0 });
  });

  it("ends a bad upload with VideoBaseFailed and does not retry it", async () => {
    const { blobs, publisher, handler } = setup();
    await uploadPhoto(blobs, new TextEncoder().encode("GIF89a, or so it says"));
    const res = await handler(sqs(objectCreated()), context);
    expect(res).toEqual({ batchItemFailures: [] });
    expect(publisher.published.map((e) => [e.type, (e.data as { reason?: { code: string } }).reason?.code])).toEqual([["VideoBaseFailed", "UnsupportedFormat"]]);
  });

  it("fails the job with InvalidEvent (and its parameters) when the event breaks the S3 contract", async () => {
    const { blobs, publisher, handler } = setup();
    const params = await uploadPhoto(blobs);
    const broken = objectCreated() as Record<string, unknown>;
    delete (broken.detail as { object: { size?: number } }).object.size;
    expect(await handler(sqs(broken), context)).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({ type: "VideoBaseFailed", jobId: JOB, data: { job: params, reason: { code: "InvalidEvent" } } });
  });

  it("returns a transient failure to the queue, and on the step's budget's last delivery ends the job with RetriesExhausted", async () => {
    const { blobs, publisher, handler, reasons } = setup({
      submit: async () => {
        throw new TransientError("LTX 503 after 4 attempts");
      },
    });
    await uploadPhoto(blobs);
    // The record is reported failed, so SQS redelivers it, after a backoff (not a scheduled check).
    expect(await failedRecords(handler(sqs(objectCreated(), 1), context))).toEqual(["m-1"]);
    expect(reasons).toEqual(["retry"]);
    expect(publisher.published).toEqual([]);

    // Nothing paid yet and the budget spent: the job is visibly failed, and the message deleted.
    expect(await failedRecords(handler(sqs(objectCreated(), STEP_RETRY_BUDGET), context))).toEqual([]);
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({ type: "VideoBaseFailed", eventId: `${JOB}.VideoBaseFailed`, data: { reason: { code: "RetriesExhausted" } } });
    expect((publisher.published[0]!.data as { reason: { message: string } }).reason.message).toMatch(/LTX 503/);
  });

  it("pays for one generation when S3 delivers the same upload twice", async () => {
    const { blobs, publisher, handler, submitted } = setup();
    await uploadPhoto(blobs);
    await untilDeleted(handler, objectCreated());
    await untilDeleted(handler, { ...objectCreated(), id: "duplicate-delivery" });
    expect(submitted()).toBe(1);
    expect(new Set(publisher.published.map((e) => e.eventId))).toEqual(new Set([`${JOB}.VideoBaseStarted`, `${JOB}.VideoBaseReady`]));
  });

  it("pays for one generation when the duplicate arrives while the first is still submitting", async () => {
    const gate = Promise.withResolvers<void>();
    let submitted = 0;
    const { deps, blobs, publisher, handler, visibility } = setup({
      submit: async () => {
        await gate.promise;
        submitted++;
        return { generationId: "gen-1" };
      },
    });
    await uploadPhoto(blobs);
    const first = handler(sqs(objectCreated()), context);
    await vi.waitFor(async () => expect(await deps.state.get(JOB, generationClaimName(1))).toBeDefined());
    // The duplicate finds the submission claimed and nothing recorded yet: back to the queue, not to LTX.
    expect(await failedRecords(handler(sqs({ ...objectCreated(), id: "duplicate-delivery" }), context))).toEqual(["m-1"]);
    // …30 s later, by when the holder has recorded its generation for the duplicate to follow.
    expect(visibility).toEqual([30]);
    // Even on its last receive it does not fail the job the first delivery is making.
    expect(await failedRecords(handler(sqs({ ...objectCreated(), id: "duplicate-delivery" }, MAX_RECEIVE_COUNT), context))).toEqual([]);
    gate.resolve();
    // The first delivery submitted: back to the queue for its first look.
    expect(await failedRecords(first)).toEqual(["m-1"]);
    // The duplicate, redelivered, looks at the recorded generation: done.
    expect(await failedRecords(handler(sqs({ ...objectCreated(), id: "duplicate-delivery" }, 2), context))).toEqual([]);
    expect(await failedRecords(handler(sqs(objectCreated(), 2), context))).toEqual([]);
    expect(submitted).toBe(1);
    expect(publisher.published.map((e) => e.type)).toEqual(["VideoBaseStarted", "VideoBaseReady", "VideoBaseReady"]);
  });
});
