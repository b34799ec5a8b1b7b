import { readFileSync } from "node:fs";
import type { Context, SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { JobParams } from "@reelbridge/events";
import { TransientError, createMemoryPublisher } from "@reelbridge/core";
import type { VideoGenerator } from "@reelbridge/core";
import { readMp4Info } from "@reelbridge/core/adapters/ltx/mp4-info";
import { decodeJobMetadata, encodeJobMetadata } from "@reelbridge/core/upload/metadata";
import readySample from "../../../events/samples/v1/VideoBaseReady.json";
import s3Sample from "../../../events/samples/v1/S3ObjectCreated.json";
import { createMemoryBlobStore } from "../../../core/test/support/memory-blob-store";
import { createMemoryStepStateStore } from "../../../core/test/support/memory-step-state";
import { MAX_RECEIVE_COUNT, createHandler } from "../../src/ltx";
import type { Deps } from "../../src/ltx";
import { subscriptions } from "../../src/topology";

// Handlers made in the tests below log at this level (the Powertools logger reads it when created).
process.env.LOG_LEVEL = "SILENT";

const PHOTO = new Uint8Array(readFileSync(new URL("../../../core/test/unit/ingest/fixtures/photo-300x400.jpg", import.meta.url)));
const CLIP = new Uint8Array(readFileSync(new URL("../../../core/test/unit/ltx/fixtures/base-1080x1920-24fps-2s.mp4", import.meta.url)));
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";

function setup(generate?: VideoGenerator["generate"]) {
  const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
  const publisher = createMemoryPublisher();
  let submitted = 0;
  const deps: Deps = {
    blobs,
    state: createMemoryStepStateStore(),
    publisher,
    generator: {
      name: "fake-ltx",
      generate:
        generate ??
        (async (_req, hooks) => {
          submitted++;
          await hooks.onSubmitted("gen-1");
          return { generationId: "gen-1", video: CLIP, contentType: "video/mp4" };
        }),
    },
    clock: { now: () => new Date("2026-11-20T10:00:00Z") },
    decodeJobMetadata: (m) => decodeJobMetadata(m),
    probeVideo: readMp4Info,
    maxInputPixels: 50_000_000,
    fps: 24,
    presignExpiresSeconds: 900,
  };
  const handler = createHandler(async () => deps);
  return { deps, blobs, publisher, handler, submitted: () => submitted };
}

async function uploadPhoto(blobs: ReturnType<typeof createMemoryBlobStore>, bytes?: Uint8Array) {
  const jpeg = bytes ?? PHOTO;
  const params = { ...structuredClone(readySample.detail.data.job), jobId: JOB } as JobParams;
  blobs.seed(`uploads/${JOB}/source`, jpeg, { contentType: "image/jpeg", metadata: encodeJobMetadata(params) });
  return params;
}

function sqs(body: unknown, receiveCount = 1): SQSEvent {
  return {
    Records: [
      {
        messageId: "m-1",
        receiptHandle: "r-1",
        body: JSON.stringify(body),
        attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: "0", SenderId: "x", ApproximateFirstReceiveTimestamp: "0" },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:eu-west-1:111122223333:ltx-step",
        awsRegion: "eu-west-1",
      },
    ],
  };
}

const context = { functionName: "ltx-step", getRemainingTimeInMillis: () => 600_000 } as unknown as Context;
const objectCreated = () => structuredClone(s3Sample);

describe("ltx-step handler", () => {
  it("takes maxReceiveCount from the topology's ltx-step subscription", () => {
    const sub = subscriptions({ mediaBucket: "b" }).find((s) => s.name === "ltx-step")!;
    expect(sub.delivery.kind === "queue" && sub.delivery.maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
  });

  it("processes an Object Created from the queue into VideoBaseReady", async () => {
    const { blobs, publisher, handler } = setup();
    const params = await uploadPhoto(blobs);
    const res = await handler(sqs(objectCreated()), context);
    expect(res).toEqual({ batchItemFailures: [] });
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({ type: "VideoBaseReady", jobId: JOB, causationId: s3Sample.id, data: { job: params } });
    expect(blobs.keys("jobs/")).toEqual([`jobs/${JOB}/base.mp4`, `jobs/${JOB}/image.jpg`]);
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

  it("returns a transient failure to the queue, and on the last receive ends the job with RetriesExhausted", async () => {
    const { blobs, publisher, handler } = setup(async () => {
      throw new TransientError("LTX 503 after 4 attempts");
    });
    await uploadPhoto(blobs);
    // A batch of one whose only record failed: Powertools fails the invocation, so SQS redelivers it.
    await expect(handler(sqs(objectCreated(), 1), context)).rejects.toThrow(/All records failed/);
    expect(publisher.published).toEqual([]);

    // The message still goes to the DLQ (nothing is lost) and the job is visibly failed.
    await expect(handler(sqs(objectCreated(), MAX_RECEIVE_COUNT), context)).rejects.toThrow(/All records failed/);
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({ type: "VideoBaseFailed", eventId: `${JOB}.VideoBaseFailed`, data: { reason: { code: "RetriesExhausted" } } });
    expect((publisher.published[0]!.data as { reason: { message: string } }).reason.message).toMatch(/LTX 503/);
  });

  it("pays for one generation when S3 delivers the same upload twice", async () => {
    const { blobs, publisher, handler, submitted } = setup();
    await uploadPhoto(blobs);
    await handler(sqs(objectCreated()), context);
    await handler(sqs({ ...objectCreated(), id: "duplicate-delivery" }), context);
    expect(submitted()).toBe(1);
    expect(new Set(publisher.published.map((e) => e.eventId))).toEqual(new Set([`${JOB}.VideoBaseReady`]));
  });
});
