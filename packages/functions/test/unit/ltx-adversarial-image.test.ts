import { readFileSync } from "node:fs";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { JobParams } from "@reelbridge/events";
import { createMemoryPublisher } from "@reelbridge/core";
import { readMp4Info } from "@reelbridge/core/adapters/ltx/mp4-info";
import { encodeJobMetadata } from "@reelbridge/core/upload/metadata";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import s3Sample from "@reelbridge/events/samples/v1/S3ObjectCreated.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { fixtureUrl } from "@reelbridge/testing/fixtures";
import { craftedPng } from "@reelbridge/testing/png";
import { sqsEvent } from "../support/sqs";
import { createHandler } from "../../src/ltx";
import type { Deps } from "../../src/ltx";

/**
 * Issue #11, item 1, through the pipeline: an upload shaped to pass the pixel budget but not a
 * frame (100×500,000 px, a few hundred KB) ends the job `failed` with its reason on the first
 * receive, instead of taking the 2 GB LTX step down on every receive into the DLQ.
 */

process.env.LOG_LEVEL = "SILENT";

const CLIP = new Uint8Array(readFileSync(fixtureUrl("unit/ltx/fixtures/base-1080x1920-24fps-2s.mp4")));
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const context = { functionName: "ltx-step", getRemainingTimeInMillis: () => 600_000 } as unknown as Context;



/** An 8-bit RGB PNG, every row the same: tiny on disk whatever its size in pixels. */
const stripPng = (width: number, height: number) => craftedPng(width, height, { fill: 0x80 });

function setup(photo: Uint8Array) {
  const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
  const publisher = createMemoryPublisher();
  let generations = 0;
  const deps: Deps = {
    blobs,
    state: createMemoryStepStateStore(),
    publisher,
    generator: {
      name: "fake-ltx",
      checkIntervalSeconds: { first: 30, next: 10 },
      submit: async () => {
        generations++;
        return { generationId: "gen-1" };
      },
      check: async () => ({ status: "completed", video: CLIP, contentType: "video/mp4" }),
    },
    clock: { now: () => new Date("2026-11-20T10:00:00Z") },
    probeVideo: readMp4Info,
    maxInputPixels: 50_000_000,
    fps: 24,
    presignExpiresSeconds: 900,
  };
  const params = { ...structuredClone(readySample.detail.data.job), jobId: JOB } as JobParams;
  blobs.seed(`uploads/${JOB}/source`, photo, { contentType: "image/png", metadata: encodeJobMetadata(params) });
  const handler = createHandler(async () => deps, { changeVisibility: async () => undefined });
  return { blobs, publisher, handler, generations: () => generations };
}

describe("ltx-step handler, adversarial image shapes", () => {
  it("ends a 100×500,000 PNG (exactly 50 Mpx) with VideoBaseFailed InvalidImage on the first receive, quickly", async () => {
    const png = stripPng(100, 500_000);
    expect(png.length).toBeLessThan(1024 * 1024);
    const t = setup(png);
    const started = performance.now();
    const res = await t.handler(sqsEvent(structuredClone(s3Sample), { queue: "ltx-step" }), context);
    const ms = performance.now() - started;

    // Not returned to the queue: a permanent failure, not a retry.
    expect(res).toEqual({ batchItemFailures: [] });
    expect(t.publisher.published).toHaveLength(1);
    expect(t.publisher.published[0]).toMatchObject({
      type: "VideoBaseFailed",
      jobId: JOB,
      data: { reason: { code: "InvalidImage", retryable: false, message: expect.stringContaining("100×500000 (1:5000)") } },
    });
    expect(t.generations()).toBe(0);
    expect(t.blobs.keys("jobs/")).toEqual([]);
    expect(ms).toBeLessThan(3000);
  });

  it("still turns an elongated but frameable photo (a 4:1 panorama) into the base clip", async () => {
    const t = setup(stripPng(4000, 1000));
    // Submitted on the first receive (back to the queue for the look), done on the second.
    expect(await t.handler(sqsEvent(structuredClone(s3Sample), { queue: "ltx-step" }), context)).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
    expect(await t.handler(sqsEvent(structuredClone(s3Sample), { queue: "ltx-step", receiveCount: 2 }), context)).toEqual({ batchItemFailures: [] });
    expect(t.publisher.published.map((e) => e.type)).toEqual(["VideoBaseStarted", "VideoBaseReady"]);
    expect(t.generations()).toBe(1);
  });
});
