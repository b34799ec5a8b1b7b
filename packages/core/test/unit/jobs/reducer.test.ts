import { describe, expect, it } from "vitest";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { APPLIED_LIMIT, TIMELINE_LIMIT, applyEvent, comparableState, reduceEvents, statusRank, toJobRecord } from "../../../src/jobs";
import type { JobState } from "../../../src/jobs";
import { allTypes, jobEvents, permutations, rng, sample, shuffledWithDuplicates, successTypes, variant } from "./fixtures";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const fold = (events: PipelineEvent<DetailType>[]) => reduceEvents(events) as JobState;
const statusOf = (types: DetailType[]) => fold(types.map((t) => sample(t)));

describe("job record from the sample job's events", () => {
  it("a finished job carries every generated_videos field", () => {
    const record = toJobRecord(fold(jobEvents(["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"])));
    expect(record.status).toBe("completed");
    expect(record.owner).toBe("user_2f9a");
    expect(record.createdAt).toBe("2026-11-20T10:00:00.000Z");
    expect(record.updatedAt).toBe("2026-11-20T10:02:24.000Z");
    expect(record.video).toEqual({
      id: JOB,
      user_id: "user_2f9a",
      title: "Lisbon at golden hour",
      subtitle: "Alfama, from the Miradouro",
      video_url: `jobs/${JOB}/final.mp4`,
      thumbnail_url: `jobs/${JOB}/poster.jpg`,
      filename: `lisbon-at-golden-hour-${JOB}.mp4`,
      file_size_mb: 8.7,
      duration_seconds: 7.5,
      resolution: "1080x1920",
      camera_prompt: "slow dolly in towards the rooftops",
      music_file: "sunrise",
      status: "completed",
      generation_time_seconds: 140,
      created_at: "2026-11-20T10:00:00.000Z",
      // The sample events carry no stepCost: what the job cost is its four bus events.
      cost_usd: 0.0000685, // 4 bus events, their queued deliveries, the stored objects and the DB writes (cost-ledger.ts)
    });
    expect(record.outputs).toEqual({
      baseVideoKey: `jobs/${JOB}/base.mp4`,
      finalVideoKey: `jobs/${JOB}/final.mp4`,
      renderId: "8hfxlw7yoq",
      hlsPlaylistKey: `jobs/${JOB}/hls/index.m3u8`,
      clipKeys: [`jobs/${JOB}/clips/clip-000.mp4`, `jobs/${JOB}/clips/clip-001.mp4`],
      posterKey: `jobs/${JOB}/poster.jpg`,
    });
    expect(record.params.title).toBe("Lisbon at golden hour");
    expect(record.timeline.map((t) => t.type)).toEqual(["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"]);
    expect(record.timeline[2]?.summary).toBe("final video 7.5 s 1080×1920, 8.70 MB, rendered in 36.5 s");
  });

  it("before SegmentsReady the video row has no thumbnail and says rendered", () => {
    const record = toJobRecord(statusOf(["VideoBaseReady", "RenderCompleted"]));
    expect(record.status).toBe("rendered");
    expect(record.video?.thumbnail_url).toBeNull();
    expect(record.video?.status).toBe("rendered");
  });

  it("records notifications, delivered beating failed for the same webhook and endpoint", () => {
    for (const order of [["NotificationFailed", "NotificationDelivered"], ["NotificationDelivered", "NotificationFailed"]] as const) {
      const record = toJobRecord(statusOf([...order]));
      expect(record.notifications).toEqual([
        { webhookId: `msg_01JD7XA0000000000000000004`, endpoint: "https://hooks.example.com/reelbridge", outcome: "delivered", attempts: 1, time: "2026-11-20T10:02:21.000Z" },
      ]);
    }
  });
});

describe("a job being generated (VideoBaseStarted)", () => {
  it("exists with its parameters and reads generating, with the submission on its timeline", () => {
    const record = toJobRecord(fold(jobEvents(["VideoBaseStarted"])));
    expect(record).toMatchObject({ jobId: JOB, owner: "user_2f9a", status: "generating", createdAt: "2026-11-20T10:00:00.000Z", updatedAt: "2026-11-20T10:00:08.000Z", outputs: {} });
    expect(record.params.title).toBe("Lisbon at golden hour");
    expect(record.video).toBeUndefined();
    expect(record.timeline).toEqual([
      {
        eventId: `${JOB}.VideoBaseStarted`,
        type: "VideoBaseStarted",
        time: "2026-11-20T10:00:08.000Z",
        summary: "animating the photo on ltx-2 (ltx-2-fast), dolly_in, generation a1b2c3d4-e5f6-7890-abcd-ef1234567890",
      },
    ]);
  });

  it("ranks between uploaded and generated", () => {
    expect(statusRank.uploaded).toBeLessThan(statusRank.generating);
    expect(statusRank.generating).toBeLessThan(statusRank.generated);
  });
});

describe("status rules (README.md state machine)", () => {
  const cases: Array<[DetailType[], string, string | undefined]> = [
    [["VideoBaseStarted"], "generating", undefined],
    [["VideoBaseStarted", "NotificationDelivered"], "generating", undefined],
    [["VideoBaseReady"], "generated", undefined],
    // Started says nothing about the outcome: whatever ends the base step wins, in either order.
    [["VideoBaseReady", "VideoBaseStarted"], "generated", undefined],
    [["VideoBaseStarted", "VideoBaseFailed"], "failed", "UnsupportedFormat"],
    [["VideoBaseFailed", "VideoBaseStarted"], "failed", "UnsupportedFormat"],
    [["VideoBaseStarted", "RenderStarted"], "rendering", undefined],
    [["VideoBaseReady", "RenderStarted"], "rendering", undefined],
    [["VideoBaseFailed"], "failed", "UnsupportedFormat"],
    [["VideoBaseReady", "RenderStarted", "RenderFailed"], "failed", "RenderTimeout"],
    // A late failure never overturns proof that the step succeeded.
    [["RenderCompleted", "RenderFailed"], "rendered", undefined],
    [["VideoBaseReady", "RenderCompleted", "SegmentsReady", "RenderFailed", "VideoBaseFailed"], "completed", undefined],
    // completed needs the packaging; its failure fails the job but keeps the video.
    [["VideoBaseReady", "RenderCompleted", "SegmentsFailed"], "failed", "FfmpegFailed"],
    [["SegmentsFailed", "SegmentsReady", "RenderCompleted"], "completed", undefined],
    [["NotificationDelivered"], "uploaded", undefined],
  ];
  it.each(cases)("%j → %s", (types, status, code) => {
    const s = statusOf(types);
    expect(s.status).toBe(status);
    expect(s.failure?.code).toBe(code);
  });

  it("a packaging failure keeps the final video's fields", () => {
    const record = toJobRecord(statusOf(["RenderCompleted", "SegmentsFailed"]));
    expect(record.failure).toEqual({ type: "SegmentsFailed", code: "FfmpegFailed", message: "FFmpeg exited with code 1: moov atom not found", retryable: false });
    expect(record.video?.video_url).toBe(`jobs/${JOB}/final.mp4`);
    expect(record.video?.status).toBe("failed");
    expect(record.outputs.finalVideoKey).toBe(`jobs/${JOB}/final.mp4`);
  });
});

describe("idempotent and order-independent", () => {
  it("every order of the success events, each with two events delivered twice, ends in the same record", () => {
    const events = jobEvents(successTypes);
    const expected = comparableState(fold(events));
    expect(expected.status).toBe("completed");
    let n = 0;
    for (const order of permutations(events)) {
      const withDups = [...order.slice(0, 3), structuredClone(order[0]!), ...order.slice(3), structuredClone(order[2]!)];
      let s: JobState | undefined;
      let rank = -1;
      for (const e of withDups) {
        s = applyEvent(s, e).state;
        // Never backwards: without failures in play the rank only grows.
        expect(statusRank[s.status]).toBeGreaterThanOrEqual(rank);
        rank = statusRank[s.status];
      }
      expect(comparableState(s!)).toEqual(expected);
      n++;
    }
    expect(n).toBe(5040);
  });

  it("random orders of all ten events with random repeats end in the same record", () => {
    const events = jobEvents(allTypes);
    const expected = comparableState(fold(events));
    expect(expected.status).toBe("completed");
    expect(expected.timeline).toHaveLength(10);
    const rand = rng(42);
    for (let i = 0; i < 1000; i++) {
      const s = fold(shuffledWithDuplicates(events, rand, 1 + (i % 5)));
      expect(comparableState(s)).toEqual(expected);
    }
  });

  it("every order of a failing render ends failed with the same reason", () => {
    const events = jobEvents(["VideoBaseReady", "RenderStarted", "RenderFailed", "NotificationFailed"]);
    const expected = comparableState(fold(events));
    expect(expected.status).toBe("failed");
    for (const order of permutations(events)) expect(comparableState(fold([...order, structuredClone(order[1]!)]))).toEqual(expected);
  });

  it("once completed, no late event moves the job", () => {
    const done = fold(jobEvents(["VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"]));
    for (const t of allTypes) {
      const again = applyEvent(done, sample(t));
      expect(again.state.status).toBe("completed");
      const late = applyEvent(done, variant(t, { eventId: `late-${t}`, time: "2026-11-21T00:00:00.000Z" })).state;
      expect(late.status).toBe("completed");
      expect(toJobRecord(late).outputs).toEqual(toJobRecord(done).outputs);
      expect(late.video?.video_url).toBe(done.video?.video_url);
    }
  });

  it("a duplicate is recognised and changes nothing, and the input state is never mutated", () => {
    const s1 = fold([sample("VideoBaseReady"), sample("RenderCompleted")]);
    const snapshot = structuredClone(s1);
    const dup = applyEvent(s1, sample("VideoBaseReady"));
    expect(dup.applied).toBe(false);
    expect(dup.state).toBe(s1);
    applyEvent(s1, sample("SegmentsReady"));
    expect(s1).toEqual(snapshot);
  });
});

describe("bounds", () => {
  it("keeps the newest timeline entries, sorted by time, and a bounded applied set", () => {
    const events = Array.from({ length: 120 }, (_, i) =>
      variant("NotificationFailed", { eventId: `evt-${String(i).padStart(3, "0")}`, time: new Date(Date.UTC(2026, 10, 20, 11, 0, i)).toISOString() }),
    );
    // The oldest first, the rest newest first: the timeline must sort them.
    const s = fold([events[0]!, ...events.slice(1).reverse()]);
    expect(s.timeline).toHaveLength(TIMELINE_LIMIT);
    expect(s.timeline[0]?.eventId).toBe("evt-070");
    expect(s.timeline.at(-1)?.eventId).toBe("evt-119");
    expect(s.appliedEventIds).toHaveLength(APPLIED_LIMIT);
    // An old duplicate that fell out of both windows still changes nothing.
    const again = applyEvent(s, structuredClone(events[0]!));
    expect(again.applied).toBe(true);
    expect(comparableState(again.state)).toEqual(comparableState(s));
  });
});

describe("a VideoBaseFailed without job parameters", () => {
  it("records the failure without an owner, and a later event with parameters fills them in", () => {
    const e = sample("VideoBaseFailed");
    delete (e.detail.data as { job?: unknown }).job;
    const s = fold([e]);
    expect(s.status).toBe("failed");
    expect(s.owner).toBeUndefined();
    expect(s.createdAt).toBe("2026-11-20T10:00:05.000Z");
    const later = applyEvent(s, sample("NotificationFailed")).state;
    expect(later.owner).toBe("user_2f9a");
    expect(later.createdAt).toBe("2026-11-20T10:00:00.000Z");
  });
});
