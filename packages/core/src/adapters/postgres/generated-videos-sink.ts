import pg from "pg";
import type { Logger } from "../../ports";
import { errorFields } from "../../logger";
import { lockStateSql, parseStoredState, planSinkWrite, rowValues, upsertRowSql } from "../../sinks/generated-videos";
import type { GeneratedVideosSink } from "../../sinks/generated-videos";
import { sinkErrorOf } from "./errors";

export type { GeneratedVideosSink, SinkOutcome } from "../../sinks/generated-videos";

export interface PostgresSinkOptions {
  /** postgres:// URL (an SST secret in AWS; the embedded database's locally). Never logged. */
  connectionString: string;
  /** Connections this process may hold (1 in Lambda: one event per invocation). */
  maxConnections?: number;
  connectTimeoutMs?: number;
  /** Server-side statement_timeout, so a stuck lock ends as a retried 57014, never a hung Lambda. */
  statementTimeoutMs?: number;
  /** For errors of idle connections (the database restarting): logged, the pool reconnects. */
  logger?: Logger;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

/**
 * The sink over node-postgres (Supabase's Postgres, direct or through its pooler; the embedded
 * one locally). One transaction per event:
 *
 *   1. insert the job's state row if absent (two first events of a job race here; the loser
 *      waits for the winner's commit and inserts nothing), then lock it: `select … for update`;
 *   2. fold the event into the stored state (sinks/generated-videos.ts planSinkWrite: the DB
 *      writer's reducer), store it;
 *   3. when the job has a video, upsert its row on job_id.
 *
 * Events of one job are serialised by the row lock and the row is a function of the set of
 * events, so concurrent deliveries, duplicates and any order end in the same single row. Only
 * unnamed statements and transaction-scoped locks: Supabase's transaction pooler accepts them.
 * Every failure is thrown as SinkUnavailableError or SinkRefusedError (sinks/errors.ts).
 */
export function createPostgresGeneratedVideosSink(opts: PostgresSinkOptions): GeneratedVideosSink {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.maxConnections ?? 1,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    application_name: "reelbridge-supabase-sink",
    // Idle connections do not keep a process alive (the CLI exits when its run is done).
    allowExitOnIdle: true,
  });
  // An idle connection's error (the server restarting) is emitted here; without a listener it
  // would crash the process. The pool drops that client and opens a new one on the next event.
  pool.on("error", (err) => opts.logger?.warn("an idle database connection failed; the next event reconnects", errorFields(err)));
  const sql = lockStateSql();
  const upsert = upsertRowSql();

  return {
    async apply(event) {
      const jobId = event.detail.metadata.jobId;
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw sinkErrorOf(err, "a connection");
      }
      let failed: unknown;
      try {
        await client.query("begin");
        await client.query(sql.ensure, [jobId]);
        const { rows } = await client.query<{ state: unknown }>(sql.select, [jobId]);
        const plan = planSinkWrite(parseStoredState(rows[0]?.state, jobId), event);
        if (plan.applied) {
          await client.query(sql.update, [jobId, JSON.stringify(plan.state)]);
          if (plan.row) await client.query(upsert, rowValues(plan.row));
        }
        await client.query("commit");
        return { applied: plan.applied, ...(plan.row ? { row: plan.row } : {}) };
      } catch (err) {
        failed = err;
        await client.query("rollback").catch(() => undefined);
        throw sinkErrorOf(err, `the generated_videos row of job ${jobId}`);
      } finally {
        // A connection that saw an error is not reused: it may be half-closed.
        client.release(failed instanceof Error ? failed : failed === undefined ? undefined : true);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
