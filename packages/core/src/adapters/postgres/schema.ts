import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { sinkErrorOf } from "./errors";

/**
 * The generated_videos migrations (packages/core/sql/generated-videos/, README there), in order.
 * Teams apply them to Supabase with psql; the embedded runtime and the tests apply them here.
 * Each file is idempotent and one transaction.
 */
export const GENERATED_VIDEOS_MIGRATIONS: readonly string[] = ["001_generated_videos.sql"].map((f) => fileURLToPath(new URL(`../../../sql/generated-videos/${f}`, import.meta.url)));

export async function applyGeneratedVideosSchema(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString, application_name: "reelbridge-migrate" });
  try {
    await client.connect();
    for (const file of GENERATED_VIDEOS_MIGRATIONS) await client.query(readFileSync(file, "utf8"));
  } catch (err) {
    throw sinkErrorOf(err, "the generated_videos migration");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A job's generated_videos rows (one, or none yet), for the CLI's summary and tests; numeric columns as numbers. */
export async function readGeneratedVideoRows(connectionString: string, jobId: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString, application_name: "reelbridge-read" });
  try {
    await client.connect();
    const r = await client.query<Record<string, unknown>>("select * from public.generated_videos where job_id = $1", [jobId]);
    return r.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, NUMERIC.has(k) && typeof v === "string" ? Number(v) : v instanceof Date ? v.toISOString() : v])));
  } finally {
    await client.end().catch(() => undefined);
  }
}

const NUMERIC = new Set(["file_size_mb", "duration_seconds", "generation_time_seconds"]);
