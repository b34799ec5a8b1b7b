/**
 * reelbridge dlq list [--subscription NAME] [--data-dir DIR]
 * reelbridge dlq redrive [--subscription NAME] [--data-dir DIR]
 *
 * `list` reads <dataDir>/bus/dlq.jsonl directly. `redrive` goes through the running runtime when
 * there is one (the events are delivered now); otherwise it moves the entries into the journal and
 * the next start of the runtime delivers them.
 */
import { parseArgs } from "node:util";
import { listDlq, redriveOffline } from "../eventbridge";
import { callRuntime, resolveDataDir, runtimeIsUp } from "../eventbridge/client";
import { reportCliError } from "./events";

const HELP = `usage:
  reelbridge dlq list [--subscription NAME] [--data-dir DIR]      one JSON line per dead letter
  reelbridge dlq redrive [--subscription NAME] [--data-dir DIR]   put dead letters back on their subscription
`;

const options = { subscription: { type: "string" }, "data-dir": { type: "string" } } as const;

async function list(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options, strict: true });
  for (const e of listDlq(resolveDataDir(values["data-dir"]), values.subscription)) {
    process.stdout.write(JSON.stringify({
      dlqId: e.dlqId, at: e.at, subscription: e.subscription, attempts: e.attempts, lastError: e.lastError,
      eventId: e.event.id, source: e.event.source, detailType: e.event["detail-type"], event: e.event,
    }) + "\n");
  }
  return 0;
}

async function redrive(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options, strict: true });
  const dataDir = resolveDataDir(values["data-dir"]);
  if (await runtimeIsUp(dataDir)) {
    const res = await callRuntime<{ Redriven: number }>(dataDir, "ReelbridgeLocal.RedriveDlq", values.subscription ? { Subscription: values.subscription } : {});
    process.stdout.write(JSON.stringify({ redriven: res.Redriven, via: "runtime" }) + "\n");
  } else {
    const n = redriveOffline(dataDir, values.subscription);
    process.stdout.write(JSON.stringify({ redriven: n, via: "journal", note: "delivered when the runtime next starts" }) + "\n");
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const run = sub === "list" ? list : sub === "redrive" ? redrive : undefined;
  if (sub === "--help" || sub === "-h") {
    process.stdout.write(HELP);
    return 0;
  }
  if (!run) {
    process.stderr.write(`${sub === undefined ? "missing dlq subcommand" : `unknown dlq subcommand "${sub}"`}\n\n${HELP}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    return reportCliError(e, HELP);
  }
}
