import { SinkRefusedError, SinkUnavailableError } from "../../sinks/errors";

/**
 * PostgreSQL's answer → retry with backoff, or refuse (DLQ). SQLSTATE classes from the
 * PostgreSQL 15 manual, Appendix A "PostgreSQL Error Codes".
 *
 * Transient (the same write succeeds later):
 *   08xxx connection exception · 40001 serialization_failure · 40P01 deadlock_detected ·
 *   53xxx insufficient resources (53300 too_many_connections, 53100 disk_full) ·
 *   55P03 lock_not_available · 57014 query_canceled (our statement_timeout) ·
 *   57P01 admin_shutdown · 57P02 crash_shutdown · 57P03 cannot_connect_now · 58xxx system/IO error ·
 *   and the socket's own errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, …), node-postgres's
 *   "Connection terminated" and connect timeouts.
 * Refused (retrying cannot help until someone changes the database or the secret):
 *   42xxx syntax error or access rule violation (42P01 undefined_table, 42703 undefined_column,
 *   42501 insufficient_privilege) · 28xxx invalid authorization (28P01 invalid_password) ·
 *   3D000 no such database · 3F000 no such schema · 22xxx data exception (a value a column
 *   refuses) · 23xxx integrity constraint (a NOT NULL or unique constraint of the team's own) ·
 *   25006 read_only_sql_transaction (a read replica) · 0A000 feature_not_supported.
 * Anything else is unknown and retried (core/errors.ts: unknown is transient), so it ends in
 * the DLQ too if it never clears.
 */
const TRANSIENT_CLASSES = ["08", "53", "58"];
const TRANSIENT_STATES = new Set(["40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"]);
const REFUSED_CLASSES = ["42", "28", "22", "23", "0A"];
const REFUSED_STATES = new Set(["3D000", "3F000", "25006"]);

export type PgErrorKind = "transient" | "refused";

export function classifyPgError(err: unknown): { kind: PgErrorKind; sqlState?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    if (TRANSIENT_STATES.has(code) || TRANSIENT_CLASSES.includes(code.slice(0, 2))) return { kind: "transient", sqlState: code };
    if (REFUSED_STATES.has(code) || REFUSED_CLASSES.includes(code.slice(0, 2))) return { kind: "refused", sqlState: code };
    return { kind: "transient", sqlState: code };
  }
  return { kind: "transient" };
}

/** The error the sink throws for a database failure (sinks/errors.ts), naming what failed. */
export function sinkErrorOf(err: unknown, what: string): SinkUnavailableError | SinkRefusedError {
  if (err instanceof SinkUnavailableError || err instanceof SinkRefusedError) return err;
  const { kind, sqlState } = classifyPgError(err);
  const e = err as { message?: unknown; code?: unknown } | null;
  const detail = `${typeof e?.code === "string" ? `${e.code} ` : ""}${typeof e?.message === "string" ? e.message : String(err)}`.slice(0, 500);
  return kind === "refused"
    ? new SinkRefusedError(`the database refused ${what}: ${detail}`, sqlState, { cause: err })
    : new SinkUnavailableError(`the database is unavailable for ${what}: ${detail}`, sqlState, { cause: err });
}
