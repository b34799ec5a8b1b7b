import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { startRuntime } from "../../../src/runtime/runtime";
import type { Runtime } from "../../../src/runtime/runtime";
import { samplesDir as samples } from "@reelbridge/testing/samples";

/**
 * HLS playback from the private media bucket, end to end over HTTP: the job view links the
 * status API's playlist route, the route answers a playlist whose segments are presigned, and
 * a real player (ffprobe's HLS demuxer) streams it. No whole job runs: a small HLS package made
 * with FFmpeg and the v1 sample events (re-keyed for a fresh job) stand in for the pipeline.
 */

process.env.LOG_LEVEL = "SILENT";
const run = promisify(execFile);
const SAMPLE_JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const JOB = ulid();

let dir: string;
let runtime: Runtime;
let segmentFiles: string[];

async function sampleFor(type: DetailType, segmentKeys: string[], jobId = JOB): Promise<PipelineEvent<DetailType>> {
  const raw = JSON.parse((await readFile(new URL(`${type}.json`, samples), "utf8")).replaceAll(SAMPLE_JOB, jobId));
  if (type === "SegmentsReady") {
    const hls = raw.detail.data.hls as { playlistKey: string; segmentKeys: string[] };
    hls.segmentKeys = segmentKeys;
    raw.detail.data.keys = [hls.playlistKey, ...segmentKeys, ...(raw.detail.data.keys as string[]).filter((k) => !k.includes("/hls/"))];
  }
  return pipelineEvents[type].event.parse(raw) as PipelineEvent<DetailType>;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rb-hls-"));
  runtime = await startRuntime({ dataDir: join(dir, "data"), logSink: () => undefined });

  // 4 s of test pattern in 2 s segments, keyframes on the segment boundaries.
  const hlsDir = join(dir, "hls");
  await mkdir(hlsDir, { recursive: true });
  await run("ffmpeg", [
    "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=4:size=320x240:rate=25",
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
    "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_filename", join(hlsDir, "segment-%03d.ts"), join(hlsDir, "index.m3u8"),
  ]);
  segmentFiles = (await readdir(hlsDir)).filter((f) => f.endsWith(".ts")).sort();
  const prefix = `jobs/${JOB}/hls/`;
  for (const f of segmentFiles) await runtime.s3.blobStore.putFile(`${prefix}${f}`, join(hlsDir, f), { contentType: "video/mp2t" });
  await runtime.s3.blobStore.putFile(`${prefix}index.m3u8`, join(hlsDir, "index.m3u8"), { contentType: "application/vnd.apple.mpegurl" });

  for (const type of ["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"] as const) {
    await runtime.jobs.apply(await sampleFor(type, segmentFiles.map((f) => `${prefix}${f}`)));
  }
});

afterAll(async () => {
  await runtime?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const playlistRoute = () => `${runtime.url}/api/jobs/${JOB}/hls/index.m3u8`;

describe("HLS playback through the status API (local runtime)", () => {
  it("the job view links the playlist route under the runtime's /api mount", async () => {
    const res = await fetch(`${runtime.url}/api/jobs/${JOB}`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as { status: string; outputs: { hlsPlaylist?: { url: string } } };
    expect(view.status).toBe("completed");
    expect(view.outputs.hlsPlaylist).toEqual({ url: playlistRoute() });
  });

  it("the route answers a playlist whose every segment URL plays: 200, video/mp2t", async () => {
    const res = await fetch(playlistRoute(), { headers: { origin: runtime.url } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(res.headers.get("cache-control")).toBe("private, max-age=60");
    expect(res.headers.get("access-control-allow-origin")).toBe(runtime.url);
    const text = await res.text();
    expect(text.startsWith("#EXTM3U")).toBe(true);
    expect(text).toContain("#EXT-X-ENDLIST");

    const uris = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    expect(uris).toHaveLength(segmentFiles.length);
    expect(segmentFiles.length).toBeGreaterThanOrEqual(2);
    for (const [i, uri] of uris.entries()) {
      expect(uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      const seg = await fetch(uri);
      expect(seg.status).toBe(200);
      expect(seg.headers.get("content-type")).toBe("video/mp2t");
      const bytes = Buffer.from(await seg.arrayBuffer());
      expect(bytes.equals(await readFile(join(dir, "hls", segmentFiles[i]!)))).toBe(true);
    }
  });

  it("a player streams the rewritten playlist end to end (ffprobe over HTTP)", async () => {
    const { stdout } = await run("ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=codec_name,width,height", "-of", "json", playlistRoute()]);
    const probe = JSON.parse(stdout) as { format: { duration: string }; streams: Array<{ codec_name: string; width: number; height: number }> };
    expect(probe.streams[0]).toMatchObject({ codec_name: "h264", width: 320, height: 240 });
    expect(Number(probe.format.duration)).toBeCloseTo(4, 0);
    // And it decodes every frame of both segments without an error.
    const { stderr } = await run("ffmpeg", ["-v", "error", "-i", playlistRoute(), "-f", "null", "-"]);
    expect(stderr.trim()).toBe("");
  });

  it("a presigned URL of the stored playlist could not play: its relative segments are refused", async () => {
    const stored = await runtime.s3.blobStore.presignGet(`jobs/${JOB}/hls/index.m3u8`, { expiresInSeconds: 60 });
    const text = await (await fetch(stored)).text();
    const first = text.split("\n").find((l) => l.trim() && !l.startsWith("#"))!;
    expect((await fetch(new URL(first, stored))).status).toBe(403);
  });

  it("a job that is not packaged yet is 404 HlsNotReady, and has no playlist link", async () => {
    const rendering = ulid();
    await runtime.jobs.apply(await sampleFor("VideoBaseReady", [], rendering));
    const res = await fetch(`${runtime.url}/api/jobs/${rendering}/hls/index.m3u8`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe("HlsNotReady");
    const view = (await (await fetch(`${runtime.url}/api/jobs/${rendering}`)).json()) as { outputs: { hlsPlaylist?: unknown } };
    expect(view.outputs.hlsPlaylist).toBeUndefined();
  });
});
