import { describe, expect, it } from "vitest";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { reduceEvents, toJobRecord } from "../../../src/jobs";
import type { JobState } from "../../../src/jobs";
import { GENERATED_VIDEOS_COLUMNS, SINK_COLUMNS, parseStoredState, planSinkWrite, rowValues, toGeneratedVideoRow, upsertRowSql } from "../../../src/sinks/generated-videos";
import type { GeneratedVideoRow } from "../../../src/sinks/generated-videos";
import { allTypes, jobEvents, permutations, rng, sample, shuffledWithDuplicates, variant } from "../jobs/fixtures";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
type AnyEvent = PipelineEvent<DetailType>;

/** Folds events through the sink's plan the way the adapter does: the state goes through JSON (jsonb) between writes. */
function sinkFold(events: AnyEvent[]): { row?: GeneratedVideoRow; writes: number } {
  let stored: unknown = {};
  let row: GeneratedVideoRow | undefined;
  let writes = 0;
  for (const e of events) {
    const plan = planSinkWrite(parseStoredState(stored, e.detail.metadata.jobId), e);
    if (!plan.applied) continue;
    stored = JSON.parse(JSON.stringify(plan.state));
    if (plan.row) {
      row = plan.row;
      writes++;
    }
  }
  return { ...(row ? { row } : {}), writes };
}

/** What the DB writer records for the same events: the job record's generated_videos fields. */
const recordVideo = (events: AnyEvent[]) => toJobRecord(reduceEvents(events) as JobState).video;

describe("the generated_videos row", () => {
  it("is the job record's generated_videos fields, its id as job_id, and names every seed column but id", () => {
    const events = jobEvents(["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"]);
    const video = recordVideo(events)!;
    const { row } = sinkFold(events);
    expect(row).toEqual(toGeneratedVideoRow(video));
    const { job_id, ...fields } = row!;
    expect(job_id).toBe(JOB);
    expect({ id: job_id, ...fields }).toEqual(Object.fromEntries(GENERATED_VIDEOS_COLUMNS.map((c) => [c, video[c]])));
    expect(row).toMatchObject({ status: "completed", thumbnail_url: `jobs/${JOB}/poster.jpg`, video_url: `jobs/${JOB}/final.mp4`, file_size_mb: 8.7, resolution: "1080x1920" });
    expect([...SINK_COLUMNS].sort()).toEqual([...GENERATED_VIDEOS_COLUMNS.filter((c) => c !== "id"), "job_id"].sort());
    expect(rowValues(row!)).toHaveLength(SINK_COLUMNS.length);
  });

  it("does not exist before the video does, and an early SegmentsReady is kept for it", () => {
    expect(sinkFold(jobEvents(["VideoBaseStarted", "VideoBaseReady", "RenderStarted"])).row).toBeUndefined();
    // The segmenter's outcome reaches the sink before the render's (they run in parallel).
    const early = sinkFold(jobEvents(["SegmentsReady"]));
    expect(early.row).toBeUndefined();
    const { row } = sinkFold(jobEvents(["SegmentsReady", "VideoBaseReady", "RenderCompleted"]));
    expect(row?.status).toBe("completed");
    expect(row?.thumbnail_url).toBe(`jobs/${JOB}/poster.jpg`);
  });

  it("is the same for every order of a job's events, with duplicates (all 120 orders, 500 shuffles)", () => {
    const base = jobEvents(["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"]);
    const expected = toGeneratedVideoRow(recordVideo(base)!);
    for (const order of permutations(base)) {
      expect(sinkFold([...order, order[0]!, order[3]!]).row).toEqual(expected);
    }
    const all = jobEvents(allTypes);
    const expectedAll = toGeneratedVideoRow(recordVideo(all)!);
    const rand = rng(16);
    for (let i = 0; i < 500; i++) expect(sinkFold(shuffledWithDuplicates(all, rand, 4)).row).toEqual(expectedAll);
  });

  it("a late older failure never overwrites newer state: a rendered or completed video stays", () => {
    const done = jobEvents(["VideoBaseReady", "RenderCompleted", "SegmentsReady"]);
    expect(sinkFold([...done, sample("RenderFailed"), sample("VideoBaseFailed")]).row?.status).toBe("completed");
    // SegmentsFailed fails the job (no HLS), the row stays with status failed; a SegmentsReady (re-drive) completes it.
    const segFailed = sinkFold(jobEvents(["VideoBaseReady", "RenderCompleted", "SegmentsFailed"]));
    expect(segFailed.row?.status).toBe("failed");
    expect(segFailed.row?.video_url).toBe(`jobs/${JOB}/final.mp4`);
    expect(sinkFold(jobEvents(["VideoBaseReady", "RenderCompleted", "SegmentsFailed", "SegmentsReady"])).row?.status).toBe("completed");
  });

  it("a re-render (version 2) updates the same row to the newest video, whichever arrives last", () => {
    const again = variant("RenderCompleted", { eventId: "01JD7XA00000000000000000RR", time: "2026-11-20T11:00:00.000Z" });
    again.detail.data.completedAt = "2026-11-20T11:00:00.000Z";
    again.detail.data.video.sizeBytes = 3 * 1024 * 1024;
    const againPackaged = variant("SegmentsReady", { eventId: "01JD7XA00000000000000000RS", time: "2026-11-20T11:00:05.000Z" });
    for (const e of [again, againPackaged]) (e.detail.data as { version?: number }).version = 2;
    const first = [sample("VideoBaseReady"), sample("RenderCompleted"), sample("SegmentsReady")];
    const expected = sinkFold([...first, again, againPackaged]).row;
    expect(expected).toMatchObject({ job_id: JOB, file_size_mb: 3, generation_time_seconds: 3600, status: "completed" });
    for (const events of [[again, againPackaged, ...first], [againPackaged, ...first.reverse(), again]]) {
      const r = sinkFold(events);
      expect(r.row).toEqual(expected);
    }
  });

  it("a duplicate is not written again; the stored state holds no callback URL, timeline or notifications", () => {
    const rc = sample("RenderCompleted");
    const first = planSinkWrite(undefined, sample("VideoBaseReady"));
    const second = planSinkWrite(first.state, rc);
    expect(second.applied).toBe(true);
    expect(planSinkWrite(second.state, sample("RenderCompleted")).applied).toBe(false);
    expect(sample("VideoBaseReady").detail.data.job.callbackUrl).toBeDefined();
    expect(second.state.params?.callbackUrl).toBeUndefined();
    expect(second.state.timeline).toEqual([]);
    expect(second.state.notifications).toEqual([]);
    expect(JSON.stringify(second.state)).not.toContain("hooks.example.com");
  });

  it("reads a stored state back only when it is the job's; the lock's placeholder is no state", () => {
    const s = planSinkWrite(undefined, sample("VideoBaseReady")).state;
    expect(parseStoredState({}, JOB)).toBeUndefined();
    expect(parseStoredState(JSON.parse(JSON.stringify(s)), "01JD7X8Q2RZ4V6N3K5M9P1T0ZZ")).toBeUndefined();
    expect(parseStoredState(JSON.parse(JSON.stringify(s)), JOB)).toEqual(s);
  });

  it("upserts on the job id and never writes the table's own id", () => {
    const sql = upsertRowSql();
    expect(sql).toMatch(/^insert into "public"\."generated_videos" \("job_id", "user_id",/);
    expect(sql).toContain(`on conflict ("job_id") do update set "user_id" = excluded."user_id"`);
    expect(sql).not.toMatch(/"id"/);
    expect(sql).toContain(`$${SINK_COLUMNS.length})`);
  });
});
