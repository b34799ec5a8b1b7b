import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { FfmpegError, ToolNotFoundError, tailOf } from "../../media/errors";

export function defaultFfmpegPath(): string {
  return process.env.FFMPEG_PATH?.trim() || "ffmpeg";
}

export function defaultFfprobePath(): string {
  return process.env.FFPROBE_PATH?.trim() || "ffprobe";
}

/** The variable that chose a binary's path, if one did: names it in a ToolNotFoundError. */
function envVarOf(binary: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.FFMPEG_PATH?.trim() === binary) return "FFMPEG_PATH";
  if (env.FFPROBE_PATH?.trim() === binary) return "FFPROBE_PATH";
  return undefined;
}

const isExecutableFile = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/**
 * Finds a binary as spawn() would (a path as given, a bare name on PATH) without running it:
 * the path it would run, or a ToolNotFoundError naming where it looked. For a start-up check,
 * so a missing FFmpeg is reported before any job needs it.
 */
export function locateBinary(binary: string, env: NodeJS.ProcessEnv = process.env): { path: string } | { error: ToolNotFoundError } {
  if (binary.includes("/")) return isExecutableFile(binary) ? { path: resolve(binary) } : { error: toolNotFound(binary, env) };
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of dirs) if (isExecutableFile(join(dir, binary))) return { path: join(dir, binary) };
  return { error: toolNotFound(binary, env) };
}

function toolNotFound(binary: string, env: NodeJS.ProcessEnv, cause?: unknown): ToolNotFoundError {
  const name = binary.split("/").pop() || binary;
  const envVar = envVarOf(binary, env);
  const lookedIn = binary.includes("/") ? [binary] : (env.PATH ?? "").split(delimiter).filter(Boolean);
  return new ToolNotFoundError(name, binary, { lookedIn, ...(envVar ? { envVar } : {}), ...(cause ? { cause } : {}) });
}

export interface RunToolOptions {
  signal?: AbortSignal;
  /** Kill the process after this long; the failure is retryable (the machine may be busy). */
  timeoutMs?: number;
  /** Called with each complete stdout line (FFmpeg's `-progress pipe:1` writes key=value lines). */
  onStdoutLine?: (line: string) => void;
  /** Keep stdout and return it (ffprobe's JSON). */
  collectStdout?: boolean;
  /** Called once with the process's stdin, a pipe (otherwise stdin is /dev/null): FFmpeg's `-i pipe:0`. */
  onStdin?: (stdin: Writable) => void;
}

// stderr can be large (one line per warning); keep only what the tail needs.
const STDERR_KEEP = 64 * 1024;
// Failures that come from the machine, not the input: worth another attempt elsewhere.
const TRANSIENT_STDERR = /No space left on device|Cannot allocate memory|Resource temporarily unavailable|Too many open files/i;
const TRANSIENT_SPAWN = new Set(["EAGAIN", "ENOMEM", "EMFILE", "ENFILE"]);

/**
 * Runs FFmpeg or ffprobe without a shell and turns every failure into an FfmpegError that
 * carries the end of stderr. An abort rejects with the signal's reason, not an FfmpegError:
 * the caller asked for it.
 */
export function runTool(binary: string, args: readonly string[], options: RunToolOptions = {}): Promise<{ stdout: string }> {
  const { signal, timeoutMs, onStdoutLine, collectStdout, onStdin } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const child = onStdin ? spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] }) : spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    if (onStdin && child.stdin) {
      // A process that exits early closes the pipe: the writer's EPIPE is reported by "close".
      child.stdin.on("error", () => undefined);
      onStdin(child.stdin);
    }
    let stderr = "";
    let stdout = "";
    let pending = "";
    let timedOut = false;
    let aborted = false;
    let settled = false;

    const finish = (error: unknown, value?: { stdout: string }) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve(value!);
    };
    const onAbort = () => {
      aborted = true;
      child.kill("SIGKILL");
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, timeoutMs)
        : undefined;

    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (collectStdout) stdout += chunk;
      if (!onStdoutLine) return;
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trimEnd();
        pending = pending.slice(newline + 1);
        if (line) onStdoutLine(line);
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });

    const name = binary.split("/").pop() ?? binary;
    child.on("error", (error: NodeJS.ErrnoException) => {
      // Missing (ENOENT) or not executable (EACCES): the machine is at fault, not the input;
      // retryable, so the job waits for a fixed machine instead of failing.
      if (error.code === "ENOENT" || error.code === "EACCES") return finish(toolNotFound(binary, process.env, error));
      finish(new FfmpegError(`${name} could not start: ${error.message}`, { cause: error, args, retryable: TRANSIENT_SPAWN.has(error.code ?? "") }));
    });
    child.on("close", (exitCode, killSignal) => {
      if (aborted && signal) return finish(abortReason(signal));
      const stderrTail = tailOf(stderr);
      if (timedOut) {
        return finish(new FfmpegError(`${name} timed out after ${timeoutMs} ms`, { stderrTail, exitCode, signal: killSignal, args, retryable: true }));
      }
      if (killSignal) {
        // Killed from outside (often the OOM killer): the input is not to blame.
        return finish(new FfmpegError(`${name} was killed by ${killSignal}`, { stderrTail, exitCode, signal: killSignal, args, retryable: true }));
      }
      if (exitCode !== 0) {
        return finish(
          new FfmpegError(`${name} exited with code ${exitCode}`, { stderrTail, exitCode, args, retryable: TRANSIENT_STDERR.test(stderrTail) }),
        );
      }
      if (onStdoutLine && pending.trim()) onStdoutLine(pending.trim());
      finish(undefined, { stdout });
    });
  });
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/** A number as FFmpeg reads it in arguments and filter expressions: plain decimal, no exponent. */
export function num(value: number, digits = 6): string {
  return Number(value.toFixed(digits)).toString();
}
