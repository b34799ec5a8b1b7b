import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The handlers log with Powertools, which writes JSON lines to stdout, as Lambda wants. In the
 * CLI, stdout is the user's: this routes JSON log lines written to stdout into the runtime's log
 * file (one JSON object per line, jobId on each), and leaves everything else on stdout.
 */
const realWrite = process.stdout.write.bind(process.stdout);
export const originalStdoutWrite = (s: string): boolean => realWrite(s);

export function captureLambdaLogs(file: string): () => void {
  mkdirSync(dirname(file), { recursive: true });
  const patched = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (text.startsWith("{") && text.includes('"level"')) {
      appendFileSync(file, text.endsWith("\n") ? text : `${text}\n`);
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      cb?.();
      return true;
    }
    return (realWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stdout.write = patched;
  return () => {
    if (process.stdout.write === patched) process.stdout.write = realWrite as typeof process.stdout.write;
  };
}
