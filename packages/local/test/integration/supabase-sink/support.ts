import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { samplesDir } from "@reelbridge/testing/samples";
import { startEmbeddedPostgres } from "../../../src/postgres/embedded";
import type { EmbeddedPostgres } from "../../../src/postgres/embedded";

export type AnyEvent = PipelineEvent<DetailType>;
export const SAMPLE_JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";

/** A v1 sample, parsed, re-keyed for `jobId` (its eventIds too, so jobs do not share events). */
export function jobEvent<T extends DetailType>(type: T, jobId = SAMPLE_JOB): PipelineEvent<T> {
  const text = readFileSync(new URL(`${type}.json`, samplesDir), "utf8").replaceAll(SAMPLE_JOB, jobId).replaceAll("01JD7XA00000000000000000", jobId.slice(0, 24));
  return pipelineEvents[type].event.parse(JSON.parse(text)) as PipelineEvent<T>;
}

export const SUCCESS: DetailType[] = ["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady"];

/** A real PostgreSQL (the system's, as the embedded runtime uses it) in a temp folder. */
export async function startTestPostgres(): Promise<{ pg: EmbeddedPostgres; root: string; database(name: string): Promise<string>; cleanup(): Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), "reelbridge-pg-"));
  const server = await startEmbeddedPostgres({ dir: join(root, "cluster") });
  return {
    pg: server,
    root,
    /** A fresh database on the server; its URL. */
    async database(name) {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query(`create database "${name}"`);
      } finally {
        await admin.end();
      }
      const u = new URL(server.url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async cleanup() {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The table's rows, as JSON-comparable values (numeric → number, timestamptz → ISO). */
export async function rows(url: string, where = "true"): Promise<Array<Record<string, unknown>>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query(`select * from public.generated_videos where ${where} order by id`);
    return r.rows.map((row: Record<string, unknown>) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (["file_size_mb", "duration_seconds", "generation_time_seconds"].includes(k) && v !== null) out[k] = Number(v);
        else if (v instanceof Date) out[k] = v.toISOString();
        else out[k] = v;
      }
      return out;
    });
  } finally {
    await c.end();
  }
}

export async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}
