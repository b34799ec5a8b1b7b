import { describe, expect, it } from "vitest";
import { createMemoryJobStore, JobNotFoundError } from "../../../src/jobs";
import { BlobNotFoundError } from "../../../src/ports";
import type { BlobStore } from "../../../src/ports";
import {
  getHlsPlaylist,
  HLS_SEGMENT_URL_TTL_SECONDS,
  HlsNotReadyError,
  resolveSegmentKey,
  rewriteHlsPlaylist,
} from "../../../src/usecases/job-status";
import { jobEvents } from "./fixtures";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const PLAYLIST_KEY = `jobs/${JOB}/hls/index.m3u8`;
const clock = { now: () => new Date("2026-11-20T12:00:00.000Z") };

/** What the FFmpeg segmenter writes: relative segment URIs next to the playlist. */
const PLAYLIST = [
  "#EXTM3U",
  "#EXT-X-VERSION:3",
  "#EXT-X-TARGETDURATION:2",
  "#EXT-X-MEDIA-SEQUENCE:0",
  "#EXT-X-PLAYLIST-TYPE:VOD",
  "#EXTINF:2.000000,",
  "segment-000.ts",
  "#EXTINF:2.000000,",
  "segment-001.ts",
  "#EXT-X-ENDLIST",
  "",
].join("\n");

function fakeBlobs(files: Record<string, string>) {
  const signed: Array<{ key: string; expiresInSeconds: number }> = [];
  const blobs: Pick<BlobStore, "get" | "presignGet"> = {
    get: async (key) => {
      const text = files[key];
      if (text === undefined) throw new BlobNotFoundError(key);
      return { bytes: new TextEncoder().encode(text), sizeBytes: text.length, metadata: {} };
    },
    presignGet: async (key, o) => {
      signed.push({ key, expiresInSeconds: o.expiresInSeconds });
      return `https://media.example/${key}?X-Amz-Expires=${o.expiresInSeconds}&X-Amz-Signature=abc`;
    },
  };
  return { blobs, signed };
}

async function packagedJob() {
  const jobs = createMemoryJobStore();
  for (const e of jobEvents(["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"])) await jobs.apply(e);
  return jobs;
}

describe("rewriteHlsPlaylist", () => {
  it("replaces only URI lines and keeps every tag, comment, blank line and line ending", async () => {
    const text = "#EXTM3U\r\n# made by reelbridge\r\n\r\n#EXTINF:2.0,\r\nsegment-000.ts\r\n#EXTINF:1.5,\r\n  segment-001.ts  \r\n#EXT-X-ENDLIST";
    const out = await rewriteHlsPlaylist(text, async (uri) => `https://signed/${uri}`);
    expect(out).toBe("#EXTM3U\r\n# made by reelbridge\r\n\r\n#EXTINF:2.0,\r\nhttps://signed/segment-000.ts\r\n#EXTINF:1.5,\r\nhttps://signed/segment-001.ts\r\n#EXT-X-ENDLIST");
  });

  it("signs the init segment of an fMP4 playlist and each URI once", async () => {
    const calls: string[] = [];
    const text = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"\n#EXTINF:2,\nmain.m4s\n#EXTINF:2,\nmain.m4s\n';
    const out = await rewriteHlsPlaylist(text, async (uri) => {
      calls.push(uri);
      return `https://signed/${uri}?sig=1`;
    });
    expect(out).toBe('#EXTM3U\n#EXT-X-MAP:URI="https://signed/init.mp4?sig=1",BYTERANGE="720@0"\n#EXTINF:2,\nhttps://signed/main.m4s?sig=1\n#EXTINF:2,\nhttps://signed/main.m4s?sig=1\n');
    expect(calls.sort()).toEqual(["init.mp4", "main.m4s"]);
  });
});

describe("resolveSegmentKey", () => {
  it("resolves URIs against the playlist's key like a URL; absolute URLs are left alone", () => {
    expect(resolveSegmentKey(PLAYLIST_KEY, "segment-000.ts")).toBe(`jobs/${JOB}/hls/segment-000.ts`);
    expect(resolveSegmentKey(PLAYLIST_KEY, "720p/seg%20a.ts?v=2")).toBe(`jobs/${JOB}/hls/720p/seg a.ts`);
    expect(resolveSegmentKey(PLAYLIST_KEY, "../final.mp4")).toBe(`jobs/${JOB}/final.mp4`);
    expect(resolveSegmentKey(PLAYLIST_KEY, "../../../uploads/x/source")).toBe("uploads/x/source");
    expect(resolveSegmentKey(PLAYLIST_KEY, "https://cdn.example/a.ts")).toBeUndefined();
    expect(resolveSegmentKey(PLAYLIST_KEY, "//cdn.example/a.ts")).toBeUndefined();
  });
});

describe("getHlsPlaylist", () => {
  it("answers the owner the stored playlist with each segment presigned for an hour", async () => {
    const jobs = await packagedJob();
    const { blobs, signed } = fakeBlobs({ [PLAYLIST_KEY]: PLAYLIST });
    const res = await getHlsPlaylist({ jobs, blobs, clock }, { jobId: JOB, caller: { owner: "user_2f9a" } });

    const before = PLAYLIST.split("\n");
    const after = res.playlist.split("\n");
    expect(after).toHaveLength(before.length);
    before.forEach((line, i) => {
      if (line.startsWith("#") || line === "") expect(after[i]).toBe(line);
      else expect(after[i]).toBe(`https://media.example/jobs/${JOB}/hls/${line}?X-Amz-Expires=3600&X-Amz-Signature=abc`);
    });
    expect(signed).toEqual([
      { key: `jobs/${JOB}/hls/segment-000.ts`, expiresInSeconds: HLS_SEGMENT_URL_TTL_SECONDS },
      { key: `jobs/${JOB}/hls/segment-001.ts`, expiresInSeconds: HLS_SEGMENT_URL_TTL_SECONDS },
    ]);
    expect(res.expiresAt).toBe("2026-11-20T13:00:00.000Z");
  });

  it("someone else's job is answered like a missing one; auth off lets anyone read", async () => {
    const jobs = await packagedJob();
    const { blobs, signed } = fakeBlobs({ [PLAYLIST_KEY]: PLAYLIST });
    await expect(getHlsPlaylist({ jobs, blobs, clock }, { jobId: JOB, caller: { owner: "intruder" } })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(getHlsPlaylist({ jobs, blobs, clock }, { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AC", caller: undefined })).rejects.toBeInstanceOf(JobNotFoundError);
    expect(signed).toEqual([]);
    expect((await getHlsPlaylist({ jobs, blobs, clock }, { jobId: JOB, caller: undefined })).playlist).toContain("#EXT-X-ENDLIST");
  });

  it("is HlsNotReady before the segmenter has packaged the job, or when the playlist is gone", async () => {
    const rendering = createMemoryJobStore();
    for (const e of jobEvents(["VideoBaseReady", "RenderStarted", "RenderCompleted"])) await rendering.apply(e);
    const { blobs } = fakeBlobs({});
    await expect(getHlsPlaylist({ jobs: rendering, blobs, clock }, { jobId: JOB, caller: undefined })).rejects.toBeInstanceOf(HlsNotReadyError);
    await expect(getHlsPlaylist({ jobs: await packagedJob(), blobs, clock }, { jobId: JOB, caller: undefined })).rejects.toBeInstanceOf(HlsNotReadyError);
  });

  it("never signs a key outside the job's folder; absolute URLs pass through unsigned", async () => {
    const jobs = await packagedJob();
    const escaping = fakeBlobs({ [PLAYLIST_KEY]: "#EXTM3U\n#EXTINF:2,\n../../01JD7X8Q2RZ4V6N3K5M9P1T0AC/final.mp4\n" });
    await expect(getHlsPlaylist({ jobs, blobs: escaping.blobs, clock }, { jobId: JOB, caller: undefined })).rejects.toThrow(/outside jobs\/01JD7X8Q2RZ4V6N3K5M9P1T0AB\//);
    expect(escaping.signed).toEqual([]);

    const absolute = fakeBlobs({ [PLAYLIST_KEY]: "#EXTM3U\n#EXTINF:2,\nhttps://cdn.example/a.ts\n" });
    expect((await getHlsPlaylist({ jobs, blobs: absolute.blobs, clock }, { jobId: JOB, caller: undefined })).playlist).toBe("#EXTM3U\n#EXTINF:2,\nhttps://cdn.example/a.ts\n");
  });
});
