import { describe, expect, it } from "vitest";
import { createMemoryJobStore, InvalidCursorError, InvalidListRequestError, JobNotFoundError } from "../../../src/jobs";
import { parsePipelineEvent, recordEvent } from "../../../src/usecases/record-event";
import { getJobStatus, listJobs } from "../../../src/usecases/job-status";
import { InvalidEventError } from "../../../src/errors";
import type { Logger } from "../../../src/ports";
import { jobEvents, sample, variant } from "./fixtures";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
const logger: Logger = {
  debug: (message, extra) => lines.push({ level: "debug", message, extra }),
  info: (message, extra) => lines.push({ level: "info", message, extra }),
  warn: (message, extra) => lines.push({ level: "warn", message, extra }),
  error: (message, extra) => lines.push({ level: "error", message, extra }),
};
const clock = { now: () => new Date("2026-11-20T12:00:00.000Z") };
const presigned: Array<{ key: string; opts: unknown }> = [];
const blobs = {
  presignGet: async (key: string, opts: { expiresInSeconds: number; downloadFileName?: string }) => {
    presigned.push({ key, opts });
    return `https://media.example/${key}?sig=x&exp=${opts.expiresInSeconds}`;
  },
};

async function finishedJob() {
  const jobs = createMemoryJobStore();
  for (const e of jobEvents(["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady", "NotificationDelivered"])) await recordEvent({ jobs, logger }, e);
  return jobs;
}

describe("recordEvent", () => {
  it("records an event once and says so in the log", async () => {
    const jobs = createMemoryJobStore();
    expect((await recordEvent({ jobs, logger }, sample("VideoBaseReady"))).applied).toBe(true);
    expect((await recordEvent({ jobs, logger }, sample("VideoBaseReady"))).applied).toBe(false);
    expect(lines.at(-1)).toMatchObject({ message: "event already recorded; nothing to write", extra: { jobId: JOB, status: "generated" } });
  });

  it("parsePipelineEvent takes any pipeline event by its detail-type and rejects others as invalid", () => {
    expect(parsePipelineEvent(sample("SegmentsReady"))["detail-type"]).toBe("SegmentsReady");
    expect(() => parsePipelineEvent({ ...sample("SegmentsReady"), "detail-type": "Object Created" })).toThrow(InvalidEventError);
    expect(() => parsePipelineEvent(null)).toThrow(InvalidEventError);
    const broken = sample("RenderCompleted") as unknown as { detail: { data: { video?: unknown } } };
    delete broken.detail.data.video;
    expect(() => parsePipelineEvent(broken)).toThrow(/video/);
  });
});

describe("getJobStatus", () => {
  it("answers status, timeline, parameters and presigned outputs to the owner", async () => {
    const jobs = await finishedJob();
    const playlistRoute = `https://status.example/jobs/${JOB}/hls/index.m3u8`;
    const view = await getJobStatus({ jobs, blobs, clock }, { jobId: JOB, caller: { owner: "user_2f9a" }, hlsPlaylistUrl: playlistRoute });
    const exp = "2026-11-20T12:15:00.000Z";
    expect(view.status).toBe("completed");
    expect(view.outputs).toEqual({
      video: { url: `https://media.example/jobs/${JOB}/final.mp4?sig=x&exp=900`, expiresAt: exp, filename: `lisbon-at-golden-hour-${JOB}.mp4` },
      hlsPlaylist: { url: playlistRoute },
      clips: [0, 1].map((i) => ({ url: `https://media.example/jobs/${JOB}/clips/clip-00${i}.mp4?sig=x&exp=900`, expiresAt: exp })),
      poster: { url: `https://media.example/jobs/${JOB}/poster.jpg?sig=x&exp=900`, expiresAt: exp },
    });
    // The stored playlist is never presigned: its relative segment URIs would be fetched unsigned.
    expect(presigned.some((p) => p.key.endsWith(".m3u8"))).toBe(false);
    expect(presigned.find((p) => p.key.endsWith("final.mp4"))?.opts).toEqual({ expiresInSeconds: 900, downloadFileName: `lisbon-at-golden-hour-${JOB}.mp4` });
    expect(view.video?.video_url).toBe(view.outputs.video?.url);
    expect(view.video?.thumbnail_url).toBe(view.outputs.poster?.url);
    expect(view.params).toEqual({
      title: "Lisbon at golden hour",
      subtitle: "Alfama, from the Miradouro",
      cameraPrompt: "slow dolly in towards the rooftops",
      music: "sunrise",
      aspect: "9:16",
      durationSeconds: 6,
      callbackUrl: "https://hooks.example.com/reelbridge",
      clips: { lengthSeconds: 5 },
    });
    expect(view.timeline.map((t) => t.type)).toEqual(["VideoBaseReady", "RenderStarted", "RenderCompleted", "NotificationDelivered", "SegmentsReady"]);
    expect(view.notifications).toHaveLength(1);
  });

  it("never echoes a callback URL's query string", async () => {
    const jobs = createMemoryJobStore();
    const e = sample("VideoBaseReady");
    e.detail.data.job.callbackUrl = "https://hooks.example.com/cb?token=s3cret";
    await jobs.apply(e);
    const view = await getJobStatus({ jobs, blobs, clock }, { jobId: JOB, caller: undefined });
    expect(view.params?.callbackUrl).toBe("https://hooks.example.com/cb");
    expect(JSON.stringify(view)).not.toContain("s3cret");
  });

  it("a job that is someone else's is answered like a missing one", async () => {
    const jobs = await finishedJob();
    await expect(getJobStatus({ jobs, blobs, clock }, { jobId: JOB, caller: { owner: "intruder" } })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(getJobStatus({ jobs, blobs, clock }, { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AC", caller: { owner: "user_2f9a" } })).rejects.toBeInstanceOf(JobNotFoundError);
    // Auth off: anyone may read.
    expect((await getJobStatus({ jobs, blobs, clock }, { jobId: JOB, caller: undefined })).status).toBe("completed");
  });

  it("a failed job shows its reason and only the outputs that exist", async () => {
    const jobs = createMemoryJobStore();
    for (const e of jobEvents(["VideoBaseReady", "RenderStarted", "RenderFailed"])) await jobs.apply(e);
    const view = await getJobStatus({ jobs, blobs, clock }, { jobId: JOB, caller: { owner: "user_2f9a" } });
    expect(view.status).toBe("failed");
    expect(view.failure).toEqual({ type: "RenderFailed", code: "RenderTimeout", message: "Remotion Lambda reported a timeout before the render finished." });
    expect(view.outputs).toEqual({ clips: [] });
    expect(view.video).toBeUndefined();
  });
});

describe("listJobs", () => {
  it("pages through the owner's jobs newest first", async () => {
    const jobs = createMemoryJobStore();
    const ids = Array.from({ length: 5 }, (_, i) => `01JD7X8Q2R${String(i).padStart(16, "0")}`);
    for (const [i, id] of ids.entries()) {
      await jobs.apply(variant("VideoBaseReady", { jobId: id, eventId: `e-${i}`, createdAt: `2026-11-2${i}T00:00:00.000Z` }));
    }
    await jobs.apply(variant("VideoBaseReady", { jobId: "01JD7X8Q2R9999999999999999", eventId: "other", owner: "someone_else" }));
    const first = await listJobs({ jobs }, { owner: "user_2f9a", limit: 2 });
    expect(first.items.map((j) => j.jobId)).toEqual([ids[4], ids[3]]);
    expect(first.items[0]).toEqual({ jobId: ids[4], status: "generated", title: "Lisbon at golden hour", createdAt: "2026-11-24T00:00:00.000Z", updatedAt: "2026-11-20T10:01:40.000Z", costUsd: 0.000020625 });
    const second = await listJobs({ jobs }, { owner: "user_2f9a", limit: 2, cursor: first.cursor! });
    const third = await listJobs({ jobs }, { owner: "user_2f9a", limit: 2, cursor: second.cursor! });
    expect([...second.items, ...third.items].map((j) => j.jobId)).toEqual([ids[2], ids[1], ids[0]]);
    expect(third.cursor).toBeUndefined();
    await expect(listJobs({ jobs }, { owner: "someone_else", cursor: first.cursor! })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(listJobs({ jobs }, { owner: "user_2f9a", limit: 51 })).rejects.toBeInstanceOf(InvalidListRequestError);
    await expect(listJobs({ jobs }, { owner: "user_2f9a", limit: 0 })).rejects.toBeInstanceOf(InvalidListRequestError);
  });
});
