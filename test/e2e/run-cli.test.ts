import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-run-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `pnpm reelbridge run …` as a user runs it; resolves with its exit code and output. */
async function reelbridge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("pnpm", ["--silent", "reelbridge", "run", ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const ffprobe = async (file: string) =>
  JSON.parse((await run("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", file])).stdout) as {
    streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>;
    format: { duration: string };
  };

describe("reelbridge run (the README's main command), end to end offline", () => {
  it("turns the sample photo into a packaged, recorded and notified video, and says where everything is", async () => {
    const { code, stdout, stderr } = await reelbridge(["--json", "--scale", "0.25", "--duration", "2", "--title", "東京の夜 — Tokyo by night 🌃", "--data-dir", dataDir]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as {
      jobId: string;
      status: string;
      steps: Array<{ event: string; secondsSinceUpload: number }>;
      outputs: { finalVideo: string; hlsPlaylist: string; clips: string[]; poster: string };
      record: { status: string; video: Record<string, unknown> & { title: string; resolution: string; filename: string }; timeline: unknown[] };
      generatedVideos: { database: string; psql: string; rows: Array<Record<string, unknown>> };
      deliveries: Array<{ type: string; status: number; verified: boolean }>;
    };
    expect(result.status).toBe("completed");
    expect(result.steps.map((s) => s.event)).toEqual(["Object Created", "VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"]);

    // The final MP4 is real: H.264 + AAC, base clip (2 s) plus the end card, 9:16.
    const probe = await ffprobe(result.outputs.finalVideo);
    const video = probe.streams.find((s) => s.codec_type === "video")!;
    expect(video.codec_name).toBe("h264");
    expect(probe.streams.some((s) => s.codec_type === "audio" && s.codec_name === "aac")).toBe(true);
    expect(video.height! / video.width!).toBeCloseTo(16 / 9, 1);
    expect(Number(probe.format.duration)).toBeGreaterThan(3);

    // The HLS playlist is a finished VOD playlist whose segments exist; clips and poster too.
    const playlist = readFileSync(result.outputs.hlsPlaylist, "utf8");
    expect(playlist).toContain("#EXT-X-ENDLIST");
    for (const seg of playlist.split("\n").filter((l) => l && !l.startsWith("#"))) expect(existsSync(join(result.outputs.hlsPlaylist, "..", seg))).toBe(true);
    expect(result.outputs.clips.length).toBeGreaterThan(0);
    for (const c of result.outputs.clips) expect(existsSync(c)).toBe(true);
    expect(readFileSync(result.outputs.poster).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    // The job record has the generated_videos row, with the Unicode title intact.
    expect(result.record.status).toBe("completed");
    expect(result.record.video.title).toBe("東京の夜 — Tokyo by night 🌃");
    // What was rendered (issue #12 item 7): --scale 0.25 renders 1080×1920 at 270×480, and the
    // record says so, as ffprobe reads the final MP4.
    expect(result.record.video.resolution).toBe(`${video.width}x${video.height}`);
    expect(result.record.video.resolution).toBe("270x480");

    // The same row in the embedded Postgres's generated_videos table (issue #16): one, keyed on the
    // job id, its values the job record's generated_videos fields.
    expect(result.generatedVideos.database).toBe(join(dataDir, "postgres"));
    expect(result.generatedVideos.rows).toHaveLength(1);
    const { id: _tableId, job_id, ...columns } = result.generatedVideos.rows[0]!;
    expect(job_id).toBe(result.jobId);
    expect({ id: job_id, ...columns }).toEqual(Object.fromEntries(Object.keys({ id: 0, ...columns }).map((k) => [k, result.record.video[k]])));

    // Both webhooks reached the demo receiver, signed per Standard Webhooks.
    expect(result.deliveries.map((d) => d.type).sort()).toEqual(["video.completed", "video.segments_ready"]);
    expect(result.deliveries.every((d) => d.verified && d.status < 300)).toBe(true);
  });

  it("fails a text file named .jpg visibly, exits 1 with the reason, and the runtime stays usable", async () => {
    const fake = join(dataDir, "not-a-photo.jpg");
    writeFileSync(fake, "this is not an image, whatever its name says\n");
    const bad = await reelbridge(["--json", "--data-dir", dataDir, fake]);
    expect(bad.code).toBe(1);
    const result = JSON.parse(bad.stdout) as { status: string; failure: { code: string; message: string }; record: { status: string } };
    expect(result.status).toBe("failed");
    expect(result.failure.code).toBe("InvalidImage");
    expect(result.record.status).toBe("failed");

    const text = await reelbridge(["--data-dir", dataDir, fake]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/failed: InvalidImage/);
  });

  it("explains bad options instead of running", async () => {
    const r = await reelbridge(["--aspect", "4:3"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--aspect must be one of 9:16, 16:9/);
  });
});
