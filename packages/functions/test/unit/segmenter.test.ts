import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core";
import { FfmpegError } from "@reelbridge/core/media/errors";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { FFMPEG_TIMEOUT_MS, MAX_RECEIVE_COUNT, createHandler } from "../../src/segmenter";
import type { Deps } from "../../src/segmenter";
import { subscriptions } from "../../src/topology";

process.env.LOG_LEVEL = "SILENT";
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "reelbridge-segmenter-handler-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function setup(error: Error) {
  const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
  blobs.seed(`jobs/${JOB}/final.mp4`, new Uint8Array([0, 0, 0, 0]), { contentType: "video/mp4" });
  const publisher = createMemoryPublisher();
  const deps: Deps = {
    blobs,
    publisher,
    tmpDir: tmp,
    segmenter: {
      segment: async () => {
        throw error;
      },
    },
  };
  return { publisher, handler: createHandler(async () => deps) };
}
/** The segmenter consumes its queue: the event arrives as an SQS record's body. */
const invoke = async (handler: ReturnType<typeof createHandler>, event: unknown, receiveCount = 1) => {
  const res = (await (handler as unknown as (e: unknown, c: unknown) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>)(
    {
      Records: [
        {
          messageId: "m-1",
          receiptHandle: "r-1",
          body: JSON.stringify(event),
          attributes: { ApproximateReceiveCount: String(receiveCount) },
          messageAttributes: {},
          eventSource: "aws:sqs",
          eventSourceARN: "arn:aws:sqs:us-east-1:111122223333:segmenter",
          awsRegion: "us-east-1",
        },
      ],
    },
    { getRemainingTimeInMillis: () => 300_000 },
  )) ?? { batchItemFailures: [] };
  return res.batchItemFailures.map((f) => f.itemIdentifier);
};

describe("segmenter handler", () => {
  it("kills FFmpeg before the function's own timeout", () => {
    const sub = subscriptions({ mediaBucket: "b" }).find((s) => s.name === "segmenter")!;
    expect(sub.delivery.kind).toBe("queue");
    expect(FFMPEG_TIMEOUT_MS).toBeLessThan(sub.timeoutSeconds * 1000);
  });

  it("reports an FFmpeg failure on the input as SegmentsFailed with the end of stderr", async () => {
    const { publisher, handler } = setup(new FfmpegError("ffprobe exited with code 1", { stderrTail: "[mov,mp4] moov atom not found\nfinal.mp4: Invalid data found when processing input" }));
    await invoke(handler, structuredClone(completedSample));
    expect(publisher.published).toMatchObject([
      { type: "SegmentsFailed", jobId: JOB, causationId: completedSample.detail.metadata.eventId, data: { reason: { code: "FfmpegFailed", message: expect.stringContaining("moov atom not found") } } },
    ]);
  });

  it("reports a transient failure as a batch item failure so the queue redelivers it", async () => {
    const { publisher, handler } = setup(new FfmpegError("ffmpeg timed out", { retryable: true }));
    expect(await invoke(handler, structuredClone(completedSample))).toEqual(["m-1"]);
    expect(publisher.published).toHaveLength(0);
  });

  it("ends the job with SegmentsFailed when a transient failure outlasts the last receive", async () => {
    const { publisher, handler } = setup(new FfmpegError("ffmpeg was killed (SIGKILL)", { retryable: true }));
    expect(await invoke(handler, structuredClone(completedSample), MAX_RECEIVE_COUNT)).toEqual(["m-1"]);
    expect(publisher.published).toMatchObject([{ type: "SegmentsFailed", data: { reason: { code: "RetriesExhausted", message: expect.stringContaining("killed") } } }]);
  });

  it("fails the job with InvalidEvent when the event breaks its contract but still names the job and video", async () => {
    const { publisher, handler } = setup(new Error("not reached"));
    const broken = structuredClone(completedSample) as { detail: { data: { renderId?: string } } };
    delete broken.detail.data.renderId;
    await invoke(handler, broken);
    expect(publisher.published).toMatchObject([{ type: "SegmentsFailed", data: { reason: { code: "InvalidEvent" }, video: { key: `jobs/${JOB}/final.mp4` } } }]);
  });
});
