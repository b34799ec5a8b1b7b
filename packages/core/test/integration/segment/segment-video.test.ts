import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipelineEvents } from "@reelbridge/events";
import type { PipelineEvent } from "@reelbridge/events";
import { createFfmpegSegmenter } from "../../../src/adapters/ffmpeg/segmenter";
import { shippedFfmpeg } from "../../../src/adapters/ffmpeg/shipped";
import { createMemoryPublisher } from "../../../src/publish";
import type { Logger } from "../../../src/ports";
import { segmentVideo } from "../../../src/usecases/segment-video";
import type { SegmentVideoDeps } from "../../../src/usecases/segment-video";
import { createMemoryBlobStore } from "../../support/memory-blob-store";

const exec = promisify(execFile);
const FFMPEG = process.env.FFMPEG_PATH ?? "ffmpeg";
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let dir: string;
let finalMp4: Uint8Array;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelbridge-seg-"));
  // What the render step delivers, small: 6 s, 180×320, 30 fps, H.264 with a 2 s GOP, AAC.
  const out = join(dir, "final.mp4");
  await exec(FFMPEG, [
    "-hide_banner", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=180x320:rate=30:duration=6",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=6",
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
    "-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart", out,
  ]);
  finalMp4 = readFileSync(out);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function renderCompleted(clips?: { lengthSeconds: number } | { cutPoints: number[] }, eventId = "01JD7XA0000000000000000004"): PipelineEvent<"RenderCompleted"> {
  const e = JSON.parse(readFileSync(join(__dirname, "../../../../events/samples/v1/RenderCompleted.json"), "utf8")) as PipelineEvent<"RenderCompleted">;
  if (clips) e.detail.data.job.clips = clips;
  else delete e.detail.data.job.clips;
  e.detail.data.video = { ...e.detail.data.video, bucket: "memory-media", key: `jobs/${JOB}/final.mp4`, durationSeconds: 6, width: 180, height: 320 };
  e.detail.metadata.eventId = eventId;
  return pipelineEvents.RenderCompleted.event.parse(e) as PipelineEvent<"RenderCompleted">;
}

async function setup(video: Uint8Array = finalMp4) {
  const blobs = createMemoryBlobStore();
  blobs.seed(`jobs/${JOB}/final.mp4`, video, { contentType: "video/mp4" });
  const publisher = createMemoryPublisher();
  const tmp = await mkdtemp(join(dir, "tmp-"));
  const deps: SegmentVideoDeps = { blobs, segmenter: createFfmpegSegmenter(shippedFfmpeg()), publisher, tmpDir: tmp, logger: quiet };
  return { deps, blobs, publisher, tmp };
}

describe("segmentVideo with FFmpeg", () => {
  it("uploads HLS, clips and poster under jobs/{jobId}/ with content types, then announces every key", async () => {
    const { deps, blobs, publisher, tmp } = await setup();
    const outcome = await segmentVideo(deps, renderCompleted({ cutPoints: [2, 4] }));
    expect(outcome.status).toBe("ready");

    const written = blobs.keys(`jobs/${JOB}/`).filter((k) => !k.endsWith("final.mp4"));
    expect(written).toEqual(
      expect.arrayContaining([
        `jobs/${JOB}/hls/index.m3u8`,
        `jobs/${JOB}/hls/segment-000.ts`,
        `jobs/${JOB}/clips/clip-000.mp4`,
        `jobs/${JOB}/clips/clip-002.mp4`,
        `jobs/${JOB}/poster.jpg`,
      ]),
    );
    const type = (k: string) => blobs.objects.get(k)!.contentType;
    expect(type(`jobs/${JOB}/hls/index.m3u8`)).toBe("application/vnd.apple.mpegurl");
    expect(type(`jobs/${JOB}/hls/segment-000.ts`)).toBe("video/mp2t");
    expect(type(`jobs/${JOB}/clips/clip-000.mp4`)).toBe("video/mp4");
    expect(type(`jobs/${JOB}/poster.jpg`)).toBe("image/jpeg");
    expect(blobs.objects.get(`jobs/${JOB}/hls/index.m3u8`)!.cacheControl).toMatch(/max-age/);
    expect([...blobs.objects.get(`jobs/${JOB}/poster.jpg`)!.bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);

    // The playlist: VOD, every segment 2–4 s (the 2 s GOP allows 4 s copies), naming stored keys.
    const playlist = Buffer.from(blobs.objects.get(`jobs/${JOB}/hls/index.m3u8`)!.bytes).toString("utf8");
    expect(playlist).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
    expect(playlist).toContain("#EXT-X-ENDLIST");
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
    expect(durations.reduce((a, b) => a + b, 0)).toBeCloseTo(6, 1);
    for (const d of durations.slice(0, -1)) {
      expect(d).toBeGreaterThanOrEqual(2);
      expect(d).toBeLessThanOrEqual(4);
    }
    for (const name of playlist.split("\n").filter((l) => l.endsWith(".ts"))) expect(blobs.objects.has(`jobs/${JOB}/hls/${name}`)).toBe(true);

    expect(publisher.published).toHaveLength(1);
    const ready = publisher.published[0]!;
    expect(ready).toMatchObject({ type: "SegmentsReady", jobId: JOB, causationId: "01JD7XA0000000000000000004" });
    const data = pipelineEvents.SegmentsReady.data.parse(ready.data);
    expect(data.hls.mode).toBe("copy");
    expect(data.clips.map((c) => [c.startSeconds, c.endSeconds, c.mode])).toEqual([
      [0, 2, "copy"],
      [2, 4, "copy"],
      [4, 6, "copy"],
    ]);
    expect([...data.keys].sort()).toEqual(written);
    expect(data.posterKey).toBe(`jobs/${JOB}/poster.jpg`);
    expect(await readdir(tmp)).toEqual([]);
  });

  it("makes one 6 s clip by default and is deterministic: a repeated event overwrites the same keys with the same bytes", async () => {
    const { deps, blobs, publisher } = await setup();
    await segmentVideo(deps, renderCompleted());
    const first = new Map([...blobs.objects].map(([k, v]) => [k, Buffer.from(v.bytes).toString("base64")]));
    await segmentVideo(deps, renderCompleted());
    const second = new Map([...blobs.objects].map(([k, v]) => [k, Buffer.from(v.bytes).toString("base64")]));
    expect([...second.keys()].sort()).toEqual([...first.keys()].sort());
    for (const [k, v] of first) expect(second.get(k), k).toBe(v);
    expect(publisher.published).toHaveLength(2);
    expect(publisher.published[0]!.eventId).toBe(publisher.published[1]!.eventId);
    const data = pipelineEvents.SegmentsReady.data.parse(publisher.published[0]!.data);
    expect(data.clips).toHaveLength(1);
    expect(data.clips[0]).toMatchObject({ startSeconds: 0, mode: "copy" });
  });

  it("turns a corrupt video into SegmentsFailed carrying the end of FFmpeg's error output, writing nothing", async () => {
    // An MP4 whose header survived but whose boxes are garbage.
    const corrupt = Buffer.concat([Buffer.from(finalMp4.subarray(0, 32)), Buffer.alloc(4096, 0x41)]);
    const { deps, blobs, publisher, tmp } = await setup(corrupt);
    const outcome = await segmentVideo(deps, renderCompleted());
    expect(outcome.status).toBe("failed");
    expect(blobs.keys(`jobs/${JOB}/`)).toEqual([`jobs/${JOB}/final.mp4`]);
    expect(publisher.published).toHaveLength(1);
    const failed = publisher.published[0]!;
    expect(failed.type).toBe("SegmentsFailed");
    const reason = pipelineEvents.SegmentsFailed.data.parse(failed.data).reason;
    expect(reason).toMatchObject({ code: "FfmpegFailed", retryable: false });
    expect(reason.message).toMatch(/moov atom not found/);
    expect(reason.message).toMatch(/final\.mp4: Invalid data found when processing input/);
    expect(reason.message).not.toContain(tmp);
    expect(await readdir(tmp)).toEqual([]);
  });
});
