import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { applyEvent, toJobRecord } from "../jobs/reducer";
import type { JobState } from "../jobs/reducer";
import type { GeneratedVideo } from "../ports";

/**
 * The generated_videos sink's pure part (issue #16): the row a job's events give, and the plan of
 * one write. The SQL it runs against is packages/core/sql/generated-videos/; the Postgres adapter
 * is adapters/postgres/generated-videos-sink.ts.
 *
 * The row is the job record's `video` (jobs/generated-video.ts), computed by the DB writer's own
 * reducer from the same events, so it is the same row by construction, with the same
 * order-independence: the reducer's state is a merge that is commutative, associative and
 * idempotent (jobs/README.md), so duplicates, shuffles and replays end in the same state, hence
 * the same row. The sink keeps that merged state per job (reelbridge.job_state) and upserts the
 * row from it, keyed on the job id, under the state's row lock: one row per job, never a
 * second one, and a late older event changes nothing the newer ones decided (status precedence
 * and the (time, eventId) stamps are the reducer's). A re-render's RenderCompleted updates the
 * same row to what the reducer says the video now is.
 */

/** The seed system's columns, in its order. `id` is the table's own key: the sink never writes it. */
export const GENERATED_VIDEOS_COLUMNS = [
  "id",
  "user_id",
  "title",
  "subtitle",
  "video_url",
  "thumbnail_url",
  "filename",
  "file_size_mb",
  "duration_seconds",
  "resolution",
  "camera_prompt",
  "music_file",
  "status",
  "generation_time_seconds",
  "created_at",
] as const;

/** The column reelbridge adds (the migration): the job id, unique, the upsert's key. */
export const JOB_ID_COLUMN = "job_id";

/** Every column the sink writes, key first. */
export const SINK_COLUMNS = [JOB_ID_COLUMN, ...GENERATED_VIDEOS_COLUMNS.filter((c) => c !== "id")] as const;
export type SinkColumn = (typeof SINK_COLUMNS)[number];

/** The row as written: the record's generated_videos fields, its `id` (the jobId) as job_id. */
export type GeneratedVideoRow = { [K in SinkColumn]: K extends "job_id" ? string : GeneratedVideo[Exclude<K, "job_id">] };

export const GENERATED_VIDEOS_TABLE = "public.generated_videos";
export const SINK_STATE_TABLE = "reelbridge.job_state";

/**
 * The record's generated_videos fields → the row's columns: the seed system's columns only (a
 * field the record gains later is not a column of the team's table), its `id` as job_id.
 */
export function toGeneratedVideoRow(video: GeneratedVideo): GeneratedVideoRow {
  const row: Record<string, unknown> = { job_id: video.id };
  for (const c of SINK_COLUMNS) if (c !== JOB_ID_COLUMN) row[c] = video[c];
  return row as GeneratedVideoRow;
}

/**
 * What the sink keeps of the reducer's state: everything the row is computed from, without what
 * it is not (the timeline, the notifications) and without the job's callback URL, which may
 * carry a token and has no business in the team's database. Applying an event to the trimmed
 * state gives the same row as applying it to the full one: those parts never feed `video`.
 */
export function sinkState(s: JobState): JobState {
  const { timeline: _t, notifications: _n, ...rest } = s;
  // Wherever job parameters sit in the state (the job's, a re-render's), without callbackUrl.
  return JSON.parse(JSON.stringify({ ...rest, timeline: [], notifications: [] }, (k, v: unknown) => (k === "callbackUrl" ? undefined : v))) as JobState;
}

/** What one event did to the table. */
export interface SinkOutcome {
  /** False for a recent duplicate: nothing was written. */
  applied: boolean;
  /** The row as upserted; undefined while the job has no video yet. */
  row?: GeneratedVideoRow;
}

/** The port the supabase-sink uses: one pipeline event → the job's generated_videos row (adapters/postgres). */
export interface GeneratedVideosSink {
  apply(event: PipelineEvent<DetailType>): Promise<SinkOutcome>;
  close(): Promise<void>;
}

export interface SinkPlan {
  /** False when the state already holds this event (a recent duplicate): nothing to write. */
  applied: boolean;
  /** The state to store. */
  state: JobState;
  /** The row to upsert; undefined while the job has no video yet (nothing is inserted). */
  row?: GeneratedVideoRow;
}

/** One event against the stored state (undefined for a job the sink has not seen). Pure. */
export function planSinkWrite(stored: JobState | undefined, event: PipelineEvent<DetailType>): SinkPlan {
  const { applied, state } = applyEvent(stored, event);
  const next = sinkState(state);
  const video = toJobRecord(next).video;
  return { applied, state: next, ...(video ? { row: toGeneratedVideoRow(video) } : {}) };
}

const ident = (name: string) => name.split(".").map((p) => `"${p.replace(/"/g, '""')}"`).join(".");

/**
 * The upsert: insert the row, or on the job id's conflict set every column the sink writes.
 * Parameters are $1.. in SINK_COLUMNS order (rowValues).
 */
export function upsertRowSql(table = GENERATED_VIDEOS_TABLE): string {
  const cols = SINK_COLUMNS.map((c) => ident(c)).join(", ");
  const params = SINK_COLUMNS.map((_, i) => `$${i + 1}`).join(", ");
  const sets = SINK_COLUMNS.filter((c) => c !== JOB_ID_COLUMN).map((c) => `${ident(c)} = excluded.${ident(c)}`).join(", ");
  return `insert into ${ident(table)} (${cols}) values (${params}) on conflict (${ident(JOB_ID_COLUMN)}) do update set ${sets}`;
}

export const rowValues = (row: GeneratedVideoRow): unknown[] => SINK_COLUMNS.map((c) => row[c]);

export const lockStateSql = (table = SINK_STATE_TABLE) => ({
  /** Makes the job's state row exist, so the next statement can lock it (two first events race here). */
  ensure: `insert into ${ident(table)} (job_id, state) values ($1, '{}'::jsonb) on conflict (job_id) do nothing`,
  select: `select state from ${ident(table)} where job_id = $1 for update`,
  update: `update ${ident(table)} set state = $2::jsonb, updated_at = now() where job_id = $1`,
});

/** A stored state, or undefined for the placeholder `{}` the lock inserted. */
export function parseStoredState(v: unknown, jobId: string): JobState | undefined {
  if (!v || typeof v !== "object") return undefined;
  const s = v as Partial<JobState>;
  if (s.jobId !== jobId || !Array.isArray(s.seen) || !Array.isArray(s.appliedEventIds)) return undefined;
  return s as JobState;
}
