/**
 * reelbridge events test-pattern --event-pattern <json|file://path> --event <json|file://path>
 * reelbridge events test-pattern --batch            (JSON lines {"pattern","event"} on stdin)
 * reelbridge events put --entries <json|file://path> [--data-dir DIR]
 * reelbridge events replay --from <time> [--to <time>] [--event-pattern <json|file://path>] [--data-dir DIR]
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { compilePattern, InvalidEventError, InvalidEventPatternError, testEventPattern } from "../eventbridge";
import type { CompiledPattern } from "../eventbridge";
import { callRuntime, resolveDataDir, RuntimeCallError } from "../eventbridge/client";

const HELP = `usage:
  reelbridge events test-pattern --event-pattern <json|file://path> --event <json|file://path>
      prints {"Result": true|false} (exit 0); an invalid pattern or event: error on stderr, exit 2
  reelbridge events test-pattern --batch
      stdin: JSON lines {"pattern": …, "event": …}; stdout: one line each, {"result": …} or {"error": "…"}
  reelbridge events put --entries <json|file://path> [--data-dir DIR]
      PutEvents on the running local runtime; prints the PutEvents response
  reelbridge events replay --from <time> [--to <time>] [--event-pattern <json|file://path>] [--data-dir DIR]
      replays archived events whose time is in [from, to] into the running runtime's bus
`;

export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
  readonly code = "CliUsage";
}

/** `<json | file://path>` as the AWS CLI accepts it. */
export function readJsonArg(value: string | undefined, flag: string): unknown {
  if (value === undefined) throw new CliUsageError(`${flag} is required`);
  const text = value.startsWith("file://") ? readFileSync(value.slice("file://".length), "utf8") : value;
  try {
    return JSON.parse(text);
  } catch {
    throw new CliUsageError(`${flag} is not valid JSON`);
  }
}

function awsError(op: string, e: { code: string; message: string }): string {
  return `An error occurred (${e.code}) when calling the ${op} operation: ${e.message}\n`;
}

async function testPattern(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { "event-pattern": { type: "string" }, event: { type: "string" }, batch: { type: "boolean" } }, strict: true });
  if (values.batch) return batch();
  const pattern = readJsonArg(values["event-pattern"], "--event-pattern");
  const event = readJsonArg(values.event, "--event");
  try {
    process.stdout.write(`{"Result": ${testEventPattern(pattern, event)}}\n`);
    return 0;
  } catch (e) {
    if (e instanceof InvalidEventPatternError || e instanceof InvalidEventError) {
      process.stderr.write(awsError("TestEventPattern", e));
      return 2;
    }
    throw e;
  }
}

/** Batch mode: no envelope check; patterns are compiled once per distinct pattern text. */
async function batch(): Promise<number> {
  const cache = new Map<string, CompiledPattern | InvalidEventPatternError>();
  const out: string[] = [];
  const flush = () => {
    if (out.length) process.stdout.write(out.join("\n") + "\n");
    out.length = 0;
  };
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === "") continue;
    let result: string;
    try {
      const input = JSON.parse(line) as { pattern?: unknown; event?: unknown };
      if (typeof input !== "object" || input === null || !("pattern" in input) || !("event" in input)) throw new Error('each line must be an object with "pattern" and "event"');
      const key = JSON.stringify(input.pattern);
      let compiled = cache.get(key);
      if (!compiled) {
        try {
          compiled = compilePattern(input.pattern);
        } catch (e) {
          if (!(e instanceof InvalidEventPatternError)) throw e;
          compiled = e;
        }
        cache.set(key, compiled);
      }
      result = compiled instanceof InvalidEventPatternError
        ? `{"error": ${JSON.stringify(compiled.message)}}`
        : `{"result": ${compiled.matches(input.event)}}`;
    } catch (e) {
      result = `{"error": ${JSON.stringify(e instanceof SyntaxError ? `line is not valid JSON: ${e.message}` : (e as Error).message)}}`;
    }
    out.push(result);
    if (out.length >= 1000) flush();
  }
  flush();
  return 0;
}

async function put(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { entries: { type: "string" }, "data-dir": { type: "string" } }, strict: true });
  const raw = readJsonArg(values.entries, "--entries");
  const entries = Array.isArray(raw) ? raw : (raw as { Entries?: unknown })?.Entries;
  if (!Array.isArray(entries)) throw new CliUsageError("--entries must be a JSON array of PutEvents entries (or {\"Entries\": [...]})");
  const res = await callRuntime(resolveDataDir(values["data-dir"]), "AWSEvents.PutEvents", { Entries: entries });
  process.stdout.write(JSON.stringify(res, null, 2) + "\n");
  return 0;
}

async function replay(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { from: { type: "string" }, to: { type: "string" }, "event-pattern": { type: "string" }, "data-dir": { type: "string" } }, strict: true });
  if (!values.from) throw new CliUsageError("--from is required");
  for (const [flag, v] of [["--from", values.from], ["--to", values.to]] as const) {
    if (v !== undefined && Number.isNaN(Date.parse(v))) throw new CliUsageError(`${flag} must be a timestamp, e.g. 2026-11-20T10:00:00Z`);
  }
  const pattern = values["event-pattern"] === undefined ? undefined : readJsonArg(values["event-pattern"], "--event-pattern");
  if (pattern !== undefined) compilePattern(pattern); // fail fast, locally
  const res = await callRuntime(resolveDataDir(values["data-dir"]), "ReelbridgeLocal.Replay", {
    From: values.from, ...(values.to ? { To: values.to } : {}), ...(pattern !== undefined ? { EventPattern: pattern } : {}),
  });
  process.stdout.write(JSON.stringify(res) + "\n");
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = { "test-pattern": testPattern, put, replay };

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    (sub === undefined ? process.stderr : process.stdout).write(HELP);
    return sub === undefined ? 2 : 0;
  }
  const run = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (!run) {
    process.stderr.write(`unknown events subcommand "${sub}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    return reportCliError(e, HELP);
  }
}

/** Shared by the commands: usage errors exit 2, a missing runtime or failed call exits 1. */
export function reportCliError(e: unknown, help: string): number {
  if (e instanceof CliUsageError || (e as { code?: unknown })?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || (e as { code?: unknown })?.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" || (e as { code?: unknown })?.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    process.stderr.write(`${(e as Error).message}\n\n${help}`);
    return 2;
  }
  if (e instanceof InvalidEventPatternError) {
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  if (e instanceof RuntimeCallError) {
    process.stderr.write(`An error occurred (${e.code}): ${e.message}\n`);
    return 1;
  }
  const err = e as { name?: string; message?: string; code?: string };
  process.stderr.write(`${JSON.stringify({ level: "error", msg: err?.message ?? String(e), error: err?.name, code: err?.code })}\n`);
  return 1;
}
