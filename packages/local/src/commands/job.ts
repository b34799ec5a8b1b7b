/**
 * reelbridge job <jobId> [--data-dir DIR] [--json]
 *
 * One job as the data dir knows it: its status and failure reason and timeline (the job record,
 * through the running runtime's status API, or from DynamoDB's files when it is stopped), the
 * events the bus accepted for it and the deliveries that were dead-lettered (bus/), and its log
 * lines (logs/runtime.jsonl, every line with its jobId). A job with re-renders lists its versions
 * (the status API's `versions`, or the record's).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { JobRecord, RenderVersionEntry } from "@reelbridge/core";
import type { RenderVersionView } from "@reelbridge/events/http";
import type { JobCost } from "@reelbridge/events";
import { formatCost } from "./cost-format";
import { createDynamoJobStore } from "@reelbridge/core/adapters/aws/dynamodb-job-store";
import { LOCAL_JOBS_TABLE, startLocalDynamo } from "../dynamo/index";
import { files, listDlq, readJsonLines } from "../eventbridge/store";
import type { ArchiveEntry } from "../eventbridge/store";
import { resolveDataDir, runtimeIsUp } from "../eventbridge/client";
import { CliUsageError, reportCliError } from "./events";

const HELP = `usage: reelbridge job <jobId> [--data-dir DIR] [--json]

Shows one job from the data dir, whether the runtime is running or stopped: its status, failure
reason, cost, render versions (re-renders) and timeline, the bus events and dead letters that
concern it, and its log lines.

options:
  --data-dir DIR   the runtime's data dir (default $REELBRIDGE_DATA_DIR, else .reelbridge)
  --json           one JSON object instead of text
`;

export interface JobReport {
  jobId: string;
  dataDir: string;
  /** Where the record came from: the running runtime's status API, or the stopped DynamoDB files. */
  source: "runtime" | "data-dir" | "none";
  status?: string;
  failure?: { type?: string; code: string; message: string };
  /** What the job cost so far, line by line (the job record's cost). */
  cost?: JobCost;
  /** Its render versions, 1 first (present once the job was re-rendered): the status API's `versions`. */
  versions?: VersionLine[];
  timeline: Array<{ time: string; type: string; summary?: string }>;
  events: Array<{ time: string; detailType: string; source: string; id: string }>;
  deadLetters: Array<{ at: string; subscription: string; detailType: string; attempts: number; lastError: string }>;
  logs: Array<Record<string, unknown>>;
}

/** One render version as the report shows it. */
export interface VersionLine {
  version: number;
  status: string;
  title: string;
  music: string;
  aspect: string;
  requestedAt: string;
  updatedAt: string;
  failure?: { type?: string; code: string; message: string };
  /** The final video: a presigned URL (runtime) or its key (data dir). */
  video?: string;
}

const fromView = (v: RenderVersionView): VersionLine => ({
  version: v.version,
  status: v.status,
  title: v.title,
  music: v.music,
  aspect: v.aspect,
  requestedAt: v.requestedAt,
  updatedAt: v.updatedAt,
  ...(v.failure ? { failure: v.failure } : {}),
  ...(v.outputs.video ? { video: v.outputs.video.url } : {}),
});

const fromEntry = (v: RenderVersionEntry): VersionLine => ({
  version: v.version,
  status: v.status,
  title: v.params.title,
  music: v.params.music,
  aspect: v.params.aspect,
  requestedAt: v.requestedAt,
  updatedAt: v.updatedAt,
  ...(v.failure ? { failure: { type: v.failure.type, code: v.failure.code, message: v.failure.message } } : {}),
  ...(v.outputs.finalVideoKey ? { video: v.outputs.finalVideoKey } : {}),
});

const FAILED_TYPES = new Set(["VideoBaseFailed", "RenderFailed", "SegmentsFailed"]);

/** The job an archived event concerns: its metadata, or the key of an S3 "Object Created". */
function jobIdOf(event: ArchiveEntry["event"]): string | undefined {
  const d = event.detail as { metadata?: { jobId?: unknown }; object?: { key?: unknown } };
  if (typeof d?.metadata?.jobId === "string") return d.metadata.jobId;
  return typeof d?.object?.key === "string" ? /^(?:uploads|jobs)\/([^/]+)\//.exec(d.object.key)?.[1] : undefined;
}

async function recordFromRuntime(dataDir: string, jobId: string): Promise<{ status: string; failure?: JobReport["failure"]; cost?: JobCost; versions?: VersionLine[]; timeline: JobReport["timeline"] } | undefined> {
  const info = JSON.parse(readFileSync(files(dataDir).runtime, "utf8")) as { apiBase?: string };
  if (!info.apiBase) return undefined;
  const res = await fetch(`${info.apiBase}/jobs/${encodeURIComponent(jobId)}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`the status API answered ${res.status} for job ${jobId}`);
  const view = (await res.json()) as { status: string; failure?: JobReport["failure"]; cost?: JobCost; versions?: RenderVersionView[]; timeline?: JobReport["timeline"] };
  return {
    status: view.status,
    ...(view.failure ? { failure: view.failure } : {}),
    ...(view.cost ? { cost: view.cost } : {}),
    ...(view.versions?.length ? { versions: view.versions.map(fromView) } : {}),
    timeline: view.timeline ?? [],
  };
}

async function recordFromDataDir(dataDir: string, jobId: string): Promise<JobRecord | undefined> {
  if (!existsSync(join(dataDir, "dynamo"))) return undefined;
  const dynamo = await startLocalDynamo({ dataDir });
  try {
    return await createDynamoJobStore(dynamo.doc, { table: LOCAL_JOBS_TABLE }).get(jobId).catch((err: unknown) => {
      // A data dir whose table was never created (no job ever ran) has no record, not an error.
      if ((err as { name?: string }).name === "ResourceNotFoundException") return undefined;
      throw err;
    });
  } finally {
    await dynamo.close();
  }
}

export async function jobReport(dataDir: string, jobId: string): Promise<JobReport> {
  const report: JobReport = { jobId, dataDir, source: "none", timeline: [], events: [], deadLetters: [], logs: [] };
  if (await runtimeIsUp(dataDir)) {
    const r = await recordFromRuntime(dataDir, jobId);
    report.source = "runtime";
    if (r) Object.assign(report, r);
  } else {
    const r = await recordFromDataDir(dataDir, jobId);
    report.source = "data-dir";
    if (r) {
      report.status = r.status;
      if (r.failure) report.failure = { type: r.failure.type, code: r.failure.code, message: r.failure.message };
      if (r.cost) report.cost = r.cost;
      if (r.versions?.length) report.versions = r.versions.map(fromEntry);
      report.timeline = r.timeline.map((t) => ({ time: t.time, type: t.type, summary: t.summary }));
    }
  }

  for (const a of readJsonLines<ArchiveEntry>(files(dataDir).archive)) {
    if (jobIdOf(a.event) !== jobId) continue;
    report.events.push({ time: a.at, detailType: a.event["detail-type"], source: a.event.source, id: a.event.id });
    // No record (yet): the bus still knows why the job failed.
    if (!report.failure && FAILED_TYPES.has(a.event["detail-type"])) {
      const reason = (a.event.detail as { data?: { reason?: { code?: string; message?: string } } }).data?.reason;
      if (reason?.code) report.failure = { type: a.event["detail-type"], code: reason.code, message: reason.message ?? "" };
    }
  }
  for (const d of listDlq(dataDir)) {
    if (jobIdOf(d.event) === jobId) report.deadLetters.push({ at: d.at, subscription: d.subscription, detailType: d.event["detail-type"], attempts: d.attempts, lastError: d.lastError });
  }
  for (const line of readJsonLines<Record<string, unknown>>(join(dataDir, "logs", "runtime.jsonl"))) {
    if (line.jobId === jobId) report.logs.push(line);
  }
  return report;
}

const LOG_KEYS = new Set(["level", "timestamp", "service", "message", "jobId", "sampling_rate", "xray_trace_id", "attempt"]);

export function formatReport(r: JobReport): string {
  const out: string[] = [];
  out.push(`job ${r.jobId}: ${r.status ?? "no record"}${r.source === "runtime" ? " (from the running runtime)" : r.source === "data-dir" ? " (from the data dir; the runtime is stopped)" : ""}`);
  if (r.failure) out.push(`  failed: ${r.failure.code}${r.failure.type ? ` (${r.failure.type})` : ""} — ${r.failure.message}`);
  if (r.cost) out.push(...formatCost("cost", r.cost, { width: 4 }));
  if (r.versions?.length) {
    out.push("", "versions:");
    for (const v of [...r.versions].sort((a, b) => a.version - b.version)) {
      out.push(`  v${String(v.version).padEnd(3)} ${v.status.padEnd(10)} ${JSON.stringify(v.title)} · ${v.music} · ${v.aspect}  requested ${v.requestedAt}`);
      if (v.failure) out.push(`        failed: ${v.failure.code}${v.failure.type ? ` (${v.failure.type})` : ""} — ${v.failure.message}`);
      if (v.video) out.push(`        video: ${v.video}`);
    }
  }
  if (r.timeline.length) {
    out.push("", "timeline:");
    for (const t of r.timeline) out.push(`  ${t.time}  ${t.type.padEnd(22)} ${t.summary ?? ""}`.trimEnd());
  }
  if (r.events.length) {
    out.push("", "bus events:");
    for (const e of r.events) out.push(`  ${e.time}  ${e.detailType.padEnd(22)} ${e.source}`);
  }
  if (r.deadLetters.length) {
    out.push("", "dead letters (reelbridge dlq redrive):");
    for (const d of r.deadLetters) out.push(`  ${d.at}  ${d.subscription}: ${d.detailType} after ${d.attempts} attempt(s): ${d.lastError}`);
  }
  out.push("", `log lines (${join(r.dataDir, "logs", "runtime.jsonl")}):`);
  if (r.logs.length === 0) out.push("  none");
  for (const l of r.logs) {
    const extra = Object.fromEntries(Object.entries(l).filter(([k]) => !LOG_KEYS.has(k)));
    const fields = Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : "";
    out.push(`  ${String(l.timestamp ?? "")}  ${String(l.level ?? "").padEnd(5)} ${String(l.service ?? "")}: ${String(l.message ?? "")}${fields}`);
  }
  return `${out.join("\n")}\n`;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { "data-dir": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const [jobId, ...more] = positionals;
    if (!jobId || more.length) throw new CliUsageError(jobId ? "give one jobId" : "a jobId is required");
    const dataDir = resolveDataDir(values["data-dir"]);
    if (!existsSync(dataDir)) {
      process.stderr.write(`no data dir at ${dataDir} (pass --data-dir)\n`);
      return 1;
    }
    const report = await jobReport(dataDir, jobId);
    const known = report.status !== undefined || report.events.length > 0 || report.logs.length > 0;
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (known) process.stdout.write(formatReport(report));
    if (!known) {
      process.stderr.write(`no job ${jobId} in ${dataDir}: no record, no bus event and no log line names it\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    return reportCliError(e, HELP);
  }
}
