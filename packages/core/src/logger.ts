import type { Logger } from "./ports";

/**
 * Structured JSON logs, one object per line, with the keys given (always the jobId where a job
 * is concerned). Lambdas use Powertools' Logger, which has the same shape; the local runtime and
 * tests use this one.
 */
export function createJsonLogger(
  base: Record<string, unknown>,
  write: (line: string) => void = (l) => process.stderr.write(l + "\n"),
  level: "debug" | "info" | "warn" | "error" = (process.env.LOG_LEVEL?.toLowerCase() as "info") ?? "info",
): Logger & { child(extra: Record<string, unknown>): Logger } {
  const order = { debug: 10, info: 20, warn: 30, error: 40 } as const;
  const min = order[level] ?? 20;
  const log = (lvl: keyof typeof order) => (message: string, extra?: Record<string, unknown>) => {
    if (order[lvl] < min) return;
    write(JSON.stringify({ level: lvl.toUpperCase(), timestamp: new Date().toISOString(), message, ...base, ...extra }));
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (extra) => createJsonLogger({ ...base, ...extra }, write, level),
  };
}

/** Error fields safe to log: name, code, message, cause chain; never request bodies or secrets. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const e = err as Error & { code?: unknown; retryable?: unknown };
  return {
    error: { name: e.name, message: e.message, code: e.code, retryable: e.retryable, cause: e.cause instanceof Error ? e.cause.message : undefined },
  };
}
