import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { JOB_ID_IN_TEXT } from "@reelbridge/core/upload/keys";

/**
 * One shape for every line of `logs/runtime.jsonl`, whoever wrote it (the handlers' Powertools
 * loggers, the runtime's own logger, the local bus): `level` (DEBUG | INFO | WARN | ERROR),
 * `timestamp`, `service`, `message`, then the fields; and `jobId` on every line that concerns a
 * job, taken from an object key or path (uploads/{jobId}/…, jobs/{jobId}/…) when the writer did
 * not set it. `reelbridge job <jobId>` selects a job's lines by that field.
 */
export const LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
const JOB_ID_IN_KEY = JOB_ID_IN_TEXT;

export function normalizeLogRecord(record: Record<string, unknown>, defaults: { service?: string } = {}): Record<string, unknown> {
  const { level, timestamp, service, message, msg, jobId, ...rest } = record;
  const lvl = typeof level === "string" ? level.toUpperCase() : "INFO";
  const text = typeof message === "string" ? message : typeof msg === "string" ? msg : message === undefined && msg === undefined ? "" : String(message ?? msg);
  const id = typeof jobId === "string" && jobId !== "unknown" ? jobId : JOB_ID_IN_KEY.exec(JSON.stringify(rest))?.[1]?.toUpperCase() ?? JOB_ID_IN_KEY.exec(text)?.[1]?.toUpperCase();
  return {
    level: (LEVELS as readonly string[]).includes(lvl) ? lvl : lvl === "WARNING" ? "WARN" : lvl === "CRITICAL" ? "ERROR" : "INFO",
    timestamp: typeof timestamp === "string" ? timestamp : new Date().toISOString(),
    service: typeof service === "string" ? service : defaults.service ?? "reelbridge-local",
    message: text,
    ...(id ? { jobId: id } : {}),
    ...rest,
  };
}

/** A JSON log line (or several), normalised; undefined when the text is not a JSON log line. */
export function normalizeLogText(text: string, defaults: { service?: string } = {}): string | undefined {
  const lines = text.split("\n").filter((l) => l.trim());
  if (lines.length === 0) return undefined;
  const out: string[] = [];
  for (const line of lines) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !("level" in parsed)) return undefined;
    out.push(JSON.stringify(normalizeLogRecord(parsed as Record<string, unknown>, defaults)));
  }
  return `${out.join("\n")}\n`;
}

/** Appends normalised lines to a log file, private to the user (0600). */
export function logFileSink(file: string, defaults: { service?: string } = {}): (line: string) => void {
  return (line) => appendFileSync(file, normalizeLogText(line, defaults) ?? (line.endsWith("\n") ? line : `${line}\n`), { mode: 0o600 });
}

/**
 * The handlers log with Powertools, which writes JSON lines to stdout and, for WARN and ERROR,
 * to stderr, as Lambda wants. In the CLI, both are the user's: this routes JSON log lines
 * written to either into the runtime's log file (normalised, see above), and leaves everything
 * else where it was going.
 */
const realWrite = process.stdout.write.bind(process.stdout);
const realErrWrite = process.stderr.write.bind(process.stderr);
export const originalStdoutWrite = (s: string): boolean => realWrite(s);
export const originalStderrWrite = (s: string): boolean => realErrWrite(s);

export function captureLambdaLogs(file: string): () => void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const sink = logFileSink(file);
  const patch = (real: typeof realWrite) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (text.startsWith("{") && text.includes('"level"') && normalizeLogText(text) !== undefined) {
        sink(text);
        const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        cb?.();
        return true;
      }
      return (real as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
  const out = patch(realWrite);
  const err = patch(realErrWrite);
  process.stdout.write = out;
  process.stderr.write = err;
  return () => {
    if (process.stdout.write === out) process.stdout.write = realWrite as typeof process.stdout.write;
    if (process.stderr.write === err) process.stderr.write = realErrWrite as typeof process.stderr.write;
  };
}
