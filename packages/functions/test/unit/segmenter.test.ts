import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core";
import { FfmpegError } from "@reelbridge/core/media/errors";
import completedSample from "../../../events/samples/v1/RenderCompleted.json";
import { createMemoryBlobStore } from "../../../core/test/support/memory-blob-store";
import { FFMPEG_TIMEOUT_MS, createHandler } from "../../src/segmenter";
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
const invoke = (handler: ReturnType<typeof createHandler>, event: unknown) => (handler as unknown as (e: unknown, c: unknown) => Promise<void>)(event, {});

describe("segmenter handler", () => {
  it("kills FFmpeg before the function's own timeout", () => {
    const sub = subscriptions({ mediaBucket: "b" }).find((s) => s.name === "segmenter")!;
    expect(sub.delivery.kind).toBe("direct");
    expect(FFMPEG_TIMEOUT_MS).toBeLessThan(sub.timeoutSeconds * 1000);
  });

  it("reports an FFmpeg failure on the input as SegmentsFailed with the end of stderr", async () => {
    const { publisher, handler } = setup(new FfmpegError("ffprobe exited with code 1", { stderrTail: "[mov,mp4] moov atom not found\nfinal.mp4: Invalid data found when processing input" }));
    await invoke(handler, structuredClone(completedSample));
    expect(publisher.published).toMatchObject([
      { type: "SegmentsFailed", jobId: JOB, causationId: completedSample.detail.metadata.eventId, data: { reason: { code: "FfmpegFailed", message: expect.stringContaining("moov atom not found") } } },
    ]);
  });

  it("rethrows a transient failure so the platform retries", async () => {
    const { publisher, handler } = setup(new FfmpegError("ffmpeg timed out", { retryable: true }));
    await expect(invoke(handler, structuredClone(completedSample))).rejects.toThrow(/timed out/);
    expect(publisher.published).toHaveLength(0);
  });

  it("fails the job with InvalidEvent when the event breaks its contract but still names the job and video", async () => {
    const { publisher, handler } = setup(new Error("not reached"));
    const broken = structuredClone(completedSample) as { detail: { data: { renderId?: string } } };
    delete broken.detail.data.renderId;
    await invoke(handler, broken);
    expect(publisher.published).toMatchObject([{ type: "SegmentsFailed", data: { reason: { code: "InvalidEvent" }, video: { key: `jobs/${JOB}/final.mp4` } } }]);
  });
});
