#!/usr/bin/env -S npx tsx
/**
 * `reelbridge <command> …`: a table-driven dispatcher. Each command lives in
 * src/commands/<name>.ts and exports `main(argv: string[]): Promise<number>` (the exit code).
 * To add one, add a row to COMMANDS.
 */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

export interface CommandModule { main(argv: string[]): Promise<number> }
export interface CommandEntry { summary: string; load: () => Promise<CommandModule> }

export const COMMANDS: Record<string, CommandEntry> = {
  dev: { summary: "run the local stack (web client, APIs, S3, bus, DynamoDB, renderer) until stopped", load: () => import("./commands/dev") },
  run: { summary: "run the whole pipeline offline on one photo (default: the sample) and print where everything is", load: () => import("./commands/run") },
  events: { summary: "test-pattern | put | replay: EventBridge patterns and the local bus", load: () => import("./commands/events") },
  dlq: { summary: "list | redrive: the local bus's dead-letter queue", load: () => import("./commands/dlq") },
  job: { summary: "one job's status, failure reason, timeline and log lines, from a running or stopped data dir", load: () => import("./commands/job") },
  psql: { summary: "psql on the embedded Postgres that holds the generated_videos table (running or stopped data dir)", load: () => import("./commands/psql") },
  rerender: { summary: "render a finished job again from its base clip (new title, subtitle, music or aspect) as version N+1", load: () => import("./commands/versions").then((m) => ({ main: m.rerender })) },
  cancel: { summary: "cancel a job in any step (or its re-render in flight)", load: () => import("./commands/versions").then((m) => ({ main: m.cancel })) },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ["usage: reelbridge <command> [args…]", "", "commands:", ...rows, "", "Run `reelbridge <command> --help` for a command's options.", ""].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return 0;
  }
  const entry = name === undefined ? undefined : Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    process.stderr.write(`${name === undefined ? "missing command" : `unknown command "${name}"`}\n\n${usage()}`);
    return 2;
  }
  const mod = await entry.load();
  return mod.main(rest);
}

function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(arg)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${JSON.stringify({ level: "error", msg: "reelbridge failed", error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })}\n`);
      process.exitCode = 1;
    },
  );
}
