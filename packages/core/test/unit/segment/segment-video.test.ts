import { mkdtemp, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PipelineEvent } from "@reelbridge/events";
import type { SegmentRequest, SegmentResult } from "../../../src/ports";
import { FfmpegError, InvalidMediaRequestError } from "../../../src/media/errors";
import { createMemoryPublisher } from "../../../src/publish";
import type { Logger } from "../../../src/ports";
import { DEFAULT_CLIPS, ffmpegFailureReason, HLS_TARGET_SEGMENT_SECONDS, segmentVideo } from "../../../src/usecases/segment-video";
import { createMemoryBlobStore } from "../../support/memory-blob-store";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "reelbridge-seg-unit-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function event(): PipelineEvent<"RenderCompleted"> {
  const e = JSON.parse(readFileSync(join(__dirname, "../../../../events/samples/v1/RenderCompleted.json"), "utf8")) as PipelineEvent<"RenderCompleted">;
  e.detail.data.video.bucket = "memory-media";
  return e;
}

/** A segmenter that writes placeholder files where FFmpeg would, or fails as told. */
function fakeSegmenter(fail?: Error) {
  const requests: SegmentRequest[] = [];
  return {
    requests,
    async segment(req: SegmentRequest): Promise<SegmentResult> {
      requests.push(req);
      if (fail) throw fail;
      const files = [
        { path: "hls/index.m3u8", contentType: "application/vnd.apple.mpegurl" },
        { path: "hls/segment-000.ts", contentType: "video/mp2t" },
        { path: "hls/segment-001.ts", contentType: "video/mp2t" },
        { path: "clips/clip-000.mp4", contentType: "video/mp4" },
        { path: "poster.jpg", contentType: "image/jpeg" },
      ];
      for (const f of files) {
        await mkdir(dirname(join(req.outputDir, f.path)), { recursive: true });
        await writeFile(join(req.outputDir, f.path), f.path);
      }
      return {
        files: files.map((f) => ({ ...f, sizeBytes: f.path.length })),
        hls: { playlist: "hls/index.m3u8", segments: 2, mode: "copy", targetDurationSeconds: 4, segmentDurations: [4, 3.5] },
        clips: [{ path: "clips/clip-000.mp4", startSeconds: 0, endSeconds: 7.5, mode: "copy" }],
        poster: "poster.jpg",
        probe: { durationSeconds: 7.5, width: 1080, height: 1920, fps: 30, videoCodec: "h264", audioCodec: "aac", keyframeTimes: [0, 2, 4, 6], sizeBytes: 1 },
      };
    },
  };
}

function setup(fail?: Error) {
  const blobs = createMemoryBlobStore();
  blobs.seed(`jobs/${JOB}/final.mp4`, new Uint8Array([1, 2, 3]), { contentType: "video/mp4" });
  const publisher = createMemoryPublisher();
  const segmenter = fakeSegmenter(fail);
  return { blobs, publisher, segmenter, deps: { blobs, publisher, segmenter, tmpDir: tmp, logger: quiet } };
}

describe("segmentVideo", () => {
  it("asks for 4 s HLS segments and the job's clips (6 s by default), uploads the playlist last, then publishes", async () => {
    const { deps, blobs, publisher, segmenter } = setup();
    const e = event();
    delete e.detail.data.job.clips;
    await segmentVideo(deps, e);
    expect(segmenter.requests[0]).toMatchObject({ hls: { targetSegmentSeconds: HLS_TARGET_SEGMENT_SECONDS }, clips: DEFAULT_CLIPS });
    const puts = blobs.calls.filter((c) => c.op === "putFile").map((c) => c.key);
    expect(puts.at(-1)).toBe(`jobs/${JOB}/hls/index.m3u8`);
    expect(publisher.published[0]).toMatchObject({
      type: "SegmentsReady",
      data: { hls: { playlistKey: `jobs/${JOB}/hls/index.m3u8`, segmentKeys: [`jobs/${JOB}/hls/segment-000.ts`, `jobs/${JOB}/hls/segment-001.ts`] } },
    });
    await segmentVideo(deps, event());
    expect(segmenter.requests[1]!.clips).toEqual({ lengthSeconds: 5 });
    expect(await readdir(tmp)).toEqual([]);
  });

  it("rethrows a retryable FFmpeg failure (killed, timed out) for the platform to retry, publishing nothing", async () => {
    const { deps, publisher, blobs } = setup(new FfmpegError("ffmpeg was killed by SIGKILL", { retryable: true }));
    await expect(segmentVideo(deps, event())).rejects.toBeInstanceOf(FfmpegError);
    expect(publisher.published).toHaveLength(0);
    expect(blobs.calls.filter((c) => c.op === "putFile")).toHaveLength(0);
    expect(await readdir(tmp)).toEqual([]);
  });

  it("turns a request FFmpeg cannot honour into SegmentsFailed (FfmpegFailed)", async () => {
    const { deps, publisher } = setup(new InvalidMediaRequestError("clips.cutPoints must be finite numbers"));
    const outcome = await segmentVideo(deps, event());
    expect(outcome.status).toBe("failed");
    expect(publisher.published[0]).toMatchObject({ type: "SegmentsFailed", data: { reason: { code: "FfmpegFailed", message: "clips.cutPoints must be finite numbers" } } });
  });

  it("keeps the end of a long stderr within the contract's 2000 characters", () => {
    const tail = Array.from({ length: 200 }, (_, i) => `line ${i}: [h264 @ 0x1] error while decoding MB`).join("\n");
    const reason = ffmpegFailureReason(new FfmpegError("ffmpeg exited with code 1", { stderrTail: tail }));
    expect(reason.message.length).toBeLessThanOrEqual(2000);
    expect(reason.message.startsWith("ffmpeg exited with code 1")).toBe(true);
    expect(reason.message.endsWith("line 199: [h264 @ 0x1] error while decoding MB")).toBe(true);
  });
});
