import { join } from "node:path";
import { applyGeneratedVideosSchema, readGeneratedVideoRows } from "@reelbridge/core/adapters/postgres/schema";
import { PostgresNotFoundError, startEmbeddedPostgres } from "../postgres/embedded";

/**
 * The embedded runtime's generated_videos table (issue #16 item 4): the same table and migration
 * as in Supabase (packages/core/sql/generated-videos/), in the embedded Postgres under
 * `<dataDir>/postgres`, kept by the same supabase-sink handler, whose SUPABASE_DB_URL secret is
 * this database's URL.
 */
export interface LocalGeneratedVideos {
  /** The database's URL (with its password: a secret, never printed). */
  url: string;
  /** Where the cluster lives. */
  dir: string;
  /** "PostgreSQL 15 on 127.0.0.1:5433" */
  describe: string;
  /** A shell command that opens psql on it (the password from a 0600 .pgpass file). */
  psqlCommand: string;
  rows(jobId: string): Promise<Array<Record<string, unknown>>>;
  /** Stops and starts the server (tests: the database going away mid-run). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `mode`: true = required (a missing PostgreSQL stops the start), "auto" = when the system has
 * one (else a notice saying what is missing), false/undefined = off.
 */
export async function startLocalGeneratedVideos(dataDir: string, mode: boolean | "auto" | undefined): Promise<{ table?: LocalGeneratedVideos; notice?: string }> {
  if (!mode) return {};
  let pg;
  try {
    pg = await startEmbeddedPostgres({ dir: join(dataDir, "postgres"), logFile: join(dataDir, "logs", "postgres.log") });
  } catch (err) {
    if (mode === "auto" && err instanceof PostgresNotFoundError) return { notice: `no generated_videos table this run: ${err.message}` };
    throw err;
  }
  try {
    await applyGeneratedVideosSchema(pg.url);
  } catch (err) {
    await pg.stop();
    throw err;
  }
  const server = pg;
  return {
    table: {
      get url() {
        return server.url;
      },
      dir: server.dir,
      get describe() {
        return `PostgreSQL ${server.major} on 127.0.0.1:${server.port}`;
      },
      get psqlCommand() {
        return server.psqlCommand;
      },
      rows: (jobId) => readGeneratedVideoRows(server.url, jobId),
      stop: () => server.stop(),
      start: () => server.start(),
      close: () => server.stop(),
    },
  };
}
