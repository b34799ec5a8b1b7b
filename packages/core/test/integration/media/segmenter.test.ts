import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFfmpegSegmenter, listOutputs } from "../../../src/adapters/ffmpeg/segmenter";
import { shippedFfmpeg } from "../../../src/adapters/ffmpeg/shipped";
import type { SegmentResult } from "../../../src/ports";
import { FfmpegError } from "../../../src/media/errors";
import { ffmpeg, ffprobe } from "./ffprobe";

let dir: string;
let regular: string; // 10 s, 360×640, keyframes every 2 s, AAC audio
let irregular: string; // 10 s, one keyframe at the start only
// The FFmpeg the segmenter ships with (decision 0007); the checks below use the system tools.
const segmenter = createFfmpegSegmenter(shippedFfmpeg());

function parsePlaylist(text: string) {
  const lines = text.trim().split("\n");
  const segments: Array<{ duration: number; uri: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^#EXTINF:([\d.]+),/.exec(lines[i]!);
    if (m) segments.push({ duration: Number(m[1]), uri: lines[++i]! });
  }
  const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1]);
  return { lines, segments, target };
}

async function duration(path: string): Promise<number> {
  return Number((await ffprobe(path)).format.duration);
}

async function hashes(outputDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of await listOutputs(outputDir)) out[path] = createHash("sha256").update(await readFile(join(outputDir, path))).digest("hex");
  return out;
}

async function expectValidHls(outputDir: string, result: SegmentResult, inputDuration: number) {
  const text = await readFile(join(outputDir, result.hls.playlist), "utf8");
  const { lines, segments, target } = parsePlaylist(text);
  expect(lines[0]).toBe("#EXTM3U");
  expect(text).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
  expect(lines.at(-1)).toBe("#EXT-X-ENDLIST");
  expect(segments).toHaveLength(result.hls.segments);
  let total = 0;
  for (const [i, s] of segments.entries()) {
    expect(Math.round(s.duration)).toBeLessThanOrEqual(target);
    expect(s.duration).toBeLessThanOrEqual(4.05);
    if (i < segments.length - 1) expect(s.duration).toBeGreaterThanOrEqual(2);
    // What the playlist says is what the file holds, and every segment opens on a keyframe.
    const path = join(outputDir, "hls", s.uri);
    expect(Math.abs((await duration(path)) - s.duration)).toBeLessThan(0.06);
    const probe = await ffprobe(path);
    expect(probe.format.format_name).toBe("mpegts");
    expect(probe.streams.find((st) => st.codec_type === "video")?.codec_name).toBe("h264");
    total += s.duration;
  }
  expect(Math.abs(total - inputDuration)).toBeLessThan(0.1);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelbridge-seg-"));
  regular = join(dir, "regular.mp4");
  irregular = join(dir, "irregular.mp4");
  const source = ["-f", "lavfi", "-i", "testsrc2=s=360x640:r=24:d=10"];
  const x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-sc_threshold", "0"];
  await Promise.all([
    ffmpeg([...source, "-f", "lavfi", "-i", "sine=frequency=440:duration=10", ...x264, "-g", "48", "-keyint_min", "48", "-force_key_frames", "expr:gte(t,n_forced*2)", "-c:a", "aac", "-shortest", regular]),
    ffmpeg([...source, ...x264, "-g", "1000", "-keyint_min", "1000", irregular]),
  ]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("FFmpeg segmenter", () => {
  it("probes duration, size, fps, codecs and keyframe times", async () => {
    const probe = await segmenter.probe(regular);
    expect(probe).toMatchObject({ width: 360, height: 640, fps: 24, videoCodec: "h264", audioCodec: "aac", keyframeTimes: [0, 2, 4, 6, 8] });
    expect(probe.durationSeconds).toBeCloseTo(10, 1);
    expect(probe.sizeBytes).toBeGreaterThan(0);
  });

  it("packages a well-keyframed video by stream copy: HLS VOD, clips snapped to keyframes, poster", async () => {
    const out = join(dir, "out-regular");
    const result = await segmenter.segment({
      inputPath: regular,
      outputDir: out,
      hls: { targetSegmentSeconds: 4 },
      // 4.2 is within tolerance of the keyframe at 4 and moves onto it; 7 is not near one.
      clips: { cutPoints: [4.2, 7] },
      poster: { atSeconds: 1 },
    });

    expect(result.hls.mode).toBe("copy");
    await expectValidHls(out, result, 10);

    // Only what must be re-encoded is: the clip from 0 to 4 starts and ends on keyframes.
    expect(result.clips.map((c) => [c.startSeconds, c.endSeconds, c.mode])).toEqual([
      [0, 4, "copy"],
      [4, 7, "reencode"],
      [7, 10, "reencode"],
    ]);
    for (const clip of result.clips) {
      expect(Math.abs((await duration(join(out, clip.path))) - (clip.endSeconds - clip.startSeconds))).toBeLessThan(0.1);
    }

    const poster = await sharp(await readFile(join(out, result.poster))).metadata();
    expect(poster).toMatchObject({ format: "jpeg", width: 360, height: 640 });

    const byPath = Object.fromEntries(result.files.map((f) => [f.path, f]));
    expect(byPath["hls/index.m3u8"]?.contentType).toBe("application/vnd.apple.mpegurl");
    expect(byPath["hls/segment-000.ts"]?.contentType).toBe("video/mp2t");
    expect(byPath["clips/clip-000.mp4"]?.contentType).toBe("video/mp4");
    expect(byPath["poster.jpg"]?.contentType).toBe("image/jpeg");
    expect(result.files.every((f) => f.sizeBytes > 0)).toBe(true);
    expect(result.files.map((f) => f.path).sort()).toEqual(await listOutputs(out));
  });

  it("gives the same files on a repeated run and leaves nothing stale behind", async () => {
    const out = join(dir, "out-repeat");
    const req = { inputPath: regular, outputDir: out, hls: { targetSegmentSeconds: 2 }, clips: { lengthSeconds: 4 }, poster: {} };
    const first = await segmenter.segment(req);
    expect(first.hls.mode).toBe("copy");
    expect(first.hls.segmentDurations).toEqual([2, 2, 2, 2, 2]);
    expect(first.clips.every((c) => c.mode === "copy")).toBe(true);
    const before = await hashes(out);
    await writeFile(join(out, "hls", "segment-099.ts"), "left over from an older run");

    const second = await segmenter.segment(req);
    expect(second.files).toEqual(first.files);
    expect(await hashes(out)).toEqual(before);
  });

  it("re-encodes a video whose keyframes don't allow 2–4 s segments, with keyframes where the cuts fall", async () => {
    const out = join(dir, "out-irregular");
    const result = await segmenter.segment({ inputPath: irregular, outputDir: out, hls: { targetSegmentSeconds: 4 }, clips: { lengthSeconds: 5 }, poster: {} });
    expect(result.hls.mode).toBe("reencode");
    await expectValidHls(out, result, 10);
    expect(result.clips.map((c) => [c.startSeconds, c.endSeconds, c.mode])).toEqual([
      [0, 5, "reencode"],
      [5, 10, "reencode"],
    ]);
    for (const clip of result.clips) expect(Math.abs((await duration(join(out, clip.path))) - 5)).toBeLessThan(0.1);
    expect(await sharp(await readFile(join(out, "poster.jpg"))).metadata()).toMatchObject({ width: 360, height: 640 });
  });

  it("fails with an FfmpegError carrying the end of FFmpeg's stderr on a corrupt input", async () => {
    const corrupt = join(dir, "corrupt.mp4");
    const good = await readFile(regular);
    await writeFile(corrupt, Buffer.concat([good.subarray(0, 64), Buffer.alloc(4096, 0x5a)]));
    const error = await segmenter
      .segment({ inputPath: corrupt, outputDir: join(dir, "out-corrupt"), hls: { targetSegmentSeconds: 4 }, clips: { lengthSeconds: 4 }, poster: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect(error).toMatchObject({ code: "FfmpegFailed", retryable: false });
    expect((error as FfmpegError).stderrTail).toMatch(/invalid|moov|error/i);
    expect((error as FfmpegError).stderrTail.length).toBeLessThanOrEqual(2048);
  });
});
