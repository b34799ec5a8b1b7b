import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import { createPostgresGeneratedVideosSink } from "@reelbridge/core/adapters/postgres/generated-videos-sink";
import { applyGeneratedVideosSchema } from "@reelbridge/core/adapters/postgres/schema";
import { SinkRefusedError, SinkUnavailableError } from "@reelbridge/core/sinks/errors";
import { GENERATED_VIDEOS_COLUMNS } from "@reelbridge/core/sinks/generated-videos";
import { SAMPLE_JOB, SUCCESS, jobEvent, rows, sql, startTestPostgres } from "./support";
import type { AnyEvent } from "./support";

let server: Awaited<ReturnType<typeof startTestPostgres>>;
beforeAll(async () => {
  server = await startTestPostgres();
}, 120_000);
afterAll(async () => server?.cleanup());

/** What the DB writer records for the same events: the job record's generated_videos fields (the seed table's columns). */
async function recordedVideo(events: AnyEvent[]) {
  const jobs = createMemoryJobStore();
  for (const e of events) await jobs.apply(e);
  const video = (await jobs.get(events[0]!.detail.metadata.jobId))?.video;
  return video && Object.fromEntries(GENERATED_VIDEOS_COLUMNS.map((c) => [c, video[c]]));
}

/** The row as the job record names its fields: job_id back as id, the table's own id left out. */
const asRecordFields = (row: Record<string, unknown>) => {
  const { id: _id, job_id, ...rest } = row;
  return { id: job_id, ...rest };
};

const JOBS = ["01JD7X8Q2RZ4V6N3K5M9P1T0A1", "01JD7X8Q2RZ4V6N3K5M9P1T0A2", "01JD7X8Q2RZ4V6N3K5M9P1T0A3"];

describe("the generated_videos sink against PostgreSQL", () => {
  it("a completed job's row equals the job record's generated_videos fields", async () => {
    const url = await server.database("completed");
    await applyGeneratedVideosSchema(url);
    const sink = createPostgresGeneratedVideosSink({ connectionString: url });
    try {
      const events = [...SUCCESS, "NotificationDelivered" as const].map((t) => jobEvent(t));
      for (const e of events) await sink.apply(e);
      const [row, ...more] = await rows(url);
      expect(more).toEqual([]);
      const video = await recordedVideo(events);
      expect(video?.status).toBe("completed");
      expect(asRecordFields(row!)).toEqual(video);
      expect(row!.job_id).toBe(SAMPLE_JOB);
      expect(typeof row!.id).toBe("string"); // bigint identity, the table's own
    } finally {
      await sink.close();
    }
  });

  it("duplicate and shuffled events, delivered concurrently, give one row per job with the record's values", async () => {
    const url = await server.database("shuffled");
    await applyGeneratedVideosSchema(url);
    const sink = createPostgresGeneratedVideosSink({ connectionString: url, maxConnections: 6 });
    try {
      const perJob = JOBS.map((j) => [...SUCCESS, "RenderFailed" as const, "SegmentsFailed" as const].map((t) => jobEvent(t, j)));
      const all = perJob.flat();
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const deliveries = [...all, ...all, ...all.slice(0, 9)].sort(() => rand() - 0.5);
      // Six at a time, as six queue consumers would: same-job events race for the state's row lock.
      for (let i = 0; i < deliveries.length; i += 6) await Promise.all(deliveries.slice(i, i + 6).map((e) => sink.apply(e)));
      const got = await rows(url);
      expect(got.map((r) => r.job_id).sort()).toEqual([...JOBS].sort());
      for (const [i, j] of JOBS.entries()) {
        const row = got.find((r) => r.job_id === j)!;
        expect(asRecordFields(row)).toEqual(await recordedVideo(perJob[i]!));
        expect(row.status).toBe("completed");
      }
      // Replaying everything again changes nothing.
      for (const e of all) await sink.apply(e);
      expect(await rows(url)).toEqual(got);
    } finally {
      await sink.close();
    }
  });

  it("a re-render updates the job's one row to the newest video", async () => {
    const url = await server.database("rerender");
    await applyGeneratedVideosSchema(url);
    const sink = createPostgresGeneratedVideosSink({ connectionString: url });
    try {
      const first = jobEvent("RenderCompleted");
      const again = jobEvent("RenderCompleted");
      again.detail.metadata.eventId = "01JD7XA000000000000000RR02";
      again.detail.metadata.time = "2026-11-20T11:00:00.000Z";
      again.detail.data.completedAt = "2026-11-20T11:00:00.000Z";
      again.detail.data.video.sizeBytes = 5 * 1024 * 1024;
      const againPackaged = jobEvent("SegmentsReady");
      againPackaged.detail.metadata.eventId = "01JD7XA000000000000000RS02";
      againPackaged.detail.metadata.time = "2026-11-20T11:00:05.000Z";
      // A re-render's events carry its version (issue #16: optional, 1 when absent).
      for (const e of [again, againPackaged]) (e.detail.data as { version?: number }).version = 2;
      // The re-render delivered first, the first render's events late: the row keeps the re-render.
      for (const e of [jobEvent("VideoBaseReady"), againPackaged, again, first, jobEvent("SegmentsReady")]) await sink.apply(e);
      const got = await rows(url);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ job_id: SAMPLE_JOB, file_size_mb: 5, generation_time_seconds: 3600, status: "completed" });
    } finally {
      await sink.close();
    }
  });

  it("migrates the seed system's existing table without losing or changing its rows", async () => {
    const url = await server.database("seeded");
    // The seed system's shape: its own uuid ids and defaults, no job_id.
    await sql(
      url,
      `create table public.generated_videos (
         id uuid primary key default gen_random_uuid(), user_id text not null, title text, subtitle text,
         video_url text, thumbnail_url text, filename text, file_size_mb double precision, duration_seconds double precision,
         resolution text, camera_prompt text, music_file text, status text default 'completed', generation_time_seconds double precision,
         created_at timestamptz default now());
       insert into public.generated_videos (user_id, title, subtitle, video_url, thumbnail_url, filename, file_size_mb, duration_seconds, resolution, camera_prompt, music_file, status, generation_time_seconds, created_at)
       select 'seed-user-' || n, 'Seed video ' || n, '', 'https://cdn.example.com/v' || n || '.mp4', null, 'v' || n || '.mp4', 1.5 * n, 8, '1080x1920', 'dolly in', 'sunrise', 'completed', 95.25, ('2026-01-0' || n || 'T00:00:00Z')::timestamptz
       from generate_series(1, 5) n;`,
    );
    const before = await rows(url);
    expect(before).toHaveLength(5);
    await applyGeneratedVideosSchema(url);
    await applyGeneratedVideosSchema(url); // idempotent
    const after = await rows(url);
    expect(after.map(({ job_id, ...r }) => (expect(job_id).toBeNull(), r))).toEqual(before);

    const sink = createPostgresGeneratedVideosSink({ connectionString: url });
    try {
      const events = SUCCESS.map((t) => jobEvent(t));
      for (const e of events) await sink.apply(e);
    } finally {
      await sink.close();
    }
    const withJob = await rows(url);
    expect(withJob).toHaveLength(6);
    const ours = withJob.find((r) => r.job_id === SAMPLE_JOB)!;
    expect(ours.id).toMatch(/^[0-9a-f-]{36}$/); // the table's own default made the id
    expect(asRecordFields(ours)).toEqual(await recordedVideo(SUCCESS.map((t) => jobEvent(t))));
    expect(withJob.filter((r) => r.job_id === null).map(({ job_id: _j, ...r }) => r)).toEqual(before);
  });

  it("a table without the migration, a wrong password or a value the column refuses is refused (DLQ), not retried with backoff", async () => {
    const bare = await server.database("bare");
    const sink = createPostgresGeneratedVideosSink({ connectionString: bare });
    const err = await sink.apply(jobEvent("RenderCompleted")).catch((e: unknown) => e);
    await sink.close();
    expect(err).toBeInstanceOf(SinkRefusedError);
    expect((err as SinkRefusedError).sqlState).toBe("42P01");
    expect((err as SinkRefusedError).retryAfterSeconds).toBe(0);

    const wrong = new URL(bare);
    wrong.password = "not-the-password";
    const denied = createPostgresGeneratedVideosSink({ connectionString: wrong.toString() });
    const authErr = await denied.apply(jobEvent("RenderCompleted")).catch((e: unknown) => e);
    await denied.close();
    expect(authErr).toBeInstanceOf(SinkRefusedError);
    expect((authErr as SinkRefusedError).sqlState).toBe("28P01");
    expect(String((authErr as Error).message)).not.toContain("not-the-password");

    const typed = await server.database("typed");
    await sql(typed, "create table public.generated_videos (id bigint generated by default as identity primary key, user_id uuid not null, created_at timestamptz default now())");
    await applyGeneratedVideosSchema(typed);
    const strict = createPostgresGeneratedVideosSink({ connectionString: typed });
    try {
      await strict.apply(jobEvent("VideoBaseReady"));
      const valueErr = await strict.apply(jobEvent("RenderCompleted")).catch((e: unknown) => e);
      expect(valueErr).toBeInstanceOf(SinkRefusedError);
      expect((valueErr as SinkRefusedError).sqlState).toBe("22P02"); // "user_2f9a" is no uuid
      // Rolled back: the refused event is not in the stored state, so a redrive applies it.
      const state = await sql(typed, `select state from reelbridge.job_state where job_id = '${SAMPLE_JOB}'`);
      expect((state.rows[0] as { state: { seen: string[] } }).state.seen).toEqual(["VideoBaseReady"]);
    } finally {
      await strict.close();
    }
  });

  it("the database going away mid-run and coming back loses nothing: retried events land the row", async () => {
    const url = await server.database("outage");
    await applyGeneratedVideosSchema(url);
    const sink = createPostgresGeneratedVideosSink({ connectionString: url, connectTimeoutMs: 1_000 });
    try {
      const events = SUCCESS.map((t) => jobEvent(t));
      await sink.apply(events[0]!);
      await sink.apply(events[1]!);
      await server.pg.stop();
      // Down: each remaining event fails as unavailable (retried with backoff), never refused.
      const pending: AnyEvent[] = [];
      for (const e of events.slice(2)) {
        const err = await sink.apply(e).catch((x: unknown) => x);
        expect(err).toBeInstanceOf(SinkUnavailableError);
        expect((err as SinkUnavailableError).retryAfterSeconds).toBeUndefined();
        pending.push(e);
      }
      await server.pg.start();
      // The queue's redeliveries, in another order.
      for (const e of pending.reverse()) await sink.apply(e);
      const [row, ...more] = await rows(url);
      expect(more).toEqual([]);
      expect(asRecordFields(row!)).toEqual(await recordedVideo(events));
    } finally {
      await sink.close();
    }
  });
});
