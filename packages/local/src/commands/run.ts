import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { JobRecord } from "@reelbridge/core";
import type { JobCost } from "@reelbridge/events";
import { formatUsd } from "@reelbridge/core/jobs/cost";
import { formatCost } from "./cost-format";
import { aspects, failureTypes } from "@reelbridge/events";
import { terminalJobStatuses } from "@reelbridge/events/http";
import type { EventBridgeEnvelope } from "../eventbridge/types";
import { startRuntime } from "../runtime/runtime";
import type { Runtime } from "../runtime/runtime";
import { captureLambdaLogs, originalStderrWrite, originalStdoutWrite } from "../runtime/logs";
import { prepareDataDir } from "../runtime/data-dir";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
export const SAMPLE_PHOTO = join(repoRoot, "assets", "sample", "photo.jpg");

const USAGE = `usage: reelbridge run [image] [options]

Runs the whole pipeline offline on one photo (default: the sample photo) and prints where
everything is.

options:
  --title TEXT        title on the video            (default "Golden hour at the lake")
  --subtitle TEXT     subtitle                      (default "Made with reelbridge")
  --prompt TEXT       camera prompt                 (default "slow dolly in over the water")
  --music ID          music catalog id              (default: the catalog's first track)
  --aspect 9:16|16:9  aspect ratio                  (default 9:16)
  --duration SECONDS  base clip length, 2..20       (default 6)
  --scale N           render scale, 0.1..1          (default 1: full resolution)
  --max-cost USD      refuse the job before anything is paid if its quote is over USD
  --data-dir DIR      where everything is written   (default .reelbridge)
  --json              print one JSON object at the end instead of text
`;

const STEPS = [
  { event: "Object Created", label: "uploaded" },
  { event: "VideoBaseStarted", label: "photo validated, generation started" },
  { event: "VideoBaseReady", label: "base clip generated (FFmpeg offline generator)" },
  { event: "RenderStarted", label: "render started (Remotion, local Chromium)" },
  { event: "RenderCompleted", label: "final video rendered" },
  { event: "SegmentsReady", label: "HLS, clips and poster packaged" },
] as const;
const FAILURES = new Set<string>(failureTypes);

const sniffContentType = (bytes: Uint8Array, name: string): string => {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (Buffer.from(bytes.subarray(0, 4)).toString("latin1") === "RIFF" && Buffer.from(bytes.subarray(8, 12)).toString("latin1") === "WEBP") return "image/webp";
  // Not an image we recognise: declare what its name claims, as a browser would; the LTX step
  // validates the content and fails the job with a reason if it is not a real image.
  return /\.png$/i.test(name) ? "image/png" : /\.webp$/i.test(name) ? "image/webp" : "image/jpeg";
};

export interface RunResult {
  jobId: string;
  status: string;
  failure?: { type: string; code: string; message: string };
  steps: Array<{ step: string; event: string; at: string; secondsSinceUpload: number }>;
  outputs: Record<string, string | string[] | undefined>;
  record?: JobRecord;
  /** The job's generated_videos row in the embedded Postgres (issue #16), where it is and how to query it. */
  generatedVideos?: { database: string; server: string; psql: string; rows: Array<Record<string, unknown>> };
  /** What the upload API quoted for the job (every line estimated). */
  quote?: JobCost;
  /** What the job cost, line by line (the job record's cost): failed jobs too. */
  cost?: JobCost;
  deliveries: Array<{ webhookId: string; type?: string; status: number; verified: boolean; attempt: number; receivedAt: string }>;
  dataDir: string;
  logs: string;
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        title: { type: "string" },
        subtitle: { type: "string" },
        prompt: { type: "string" },
        music: { type: "string" },
        aspect: { type: "string" },
        duration: { type: "string" },
        scale: { type: "string" },
        "max-cost": { type: "string" },
        "data-dir": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const image = resolve(positionals[0] ?? SAMPLE_PHOTO);
  if (!existsSync(image)) {
    process.stderr.write(`no such file: ${image}\n`);
    return 2;
  }
  const aspect = (values.aspect as string | undefined) ?? "9:16";
  if (!(aspects as readonly string[]).includes(aspect)) {
    process.stderr.write(`--aspect must be one of ${aspects.join(", ")}\n`);
    return 2;
  }
  const scale = values.scale === undefined ? 1 : Number(values.scale);
  if (!(scale >= 0.1 && scale <= 1)) {
    process.stderr.write("--scale must be between 0.1 and 1\n");
    return 2;
  }
  const maxCostUsd = values["max-cost"] === undefined ? undefined : Number(values["max-cost"]);
  if (maxCostUsd !== undefined && !(maxCostUsd > 0 && maxCostUsd <= 1_000_000)) {
    process.stderr.write("--max-cost must be an amount in USD, more than 0 (e.g. --max-cost 0.50)\n");
    return 2;
  }
  const json = Boolean(values.json);
  const dataDir = resolve((values["data-dir"] as string | undefined) ?? process.env.REELBRIDGE_DATA_DIR ?? ".reelbridge");
  const out = (s: string) => originalStdoutWrite(s);
  const tty = !json && process.stdout.isTTY === true;
  const say = (line: string) => {
    if (!json) out(`${line}\n`);
  };

  let restoreLogs = () => {};
  let runtime: Runtime | undefined;
  try {
    say(`reelbridge: starting the embedded runtime in ${dataDir}`);
    // Before the log capture: a data dir that cannot be written is refused with its name.
    prepareDataDir(dataDir);
    restoreLogs = captureLambdaLogs(join(dataDir, "logs", "runtime.jsonl"));
    runtime = await startRuntime({ dataDir, renderScale: scale, generatedVideos: "auto" });
    for (const n of runtime.startupNotices) say(`  ${n.level === "WARN" ? "warning" : "note"}: ${n.message}`);
    const result = await runJob(runtime, {
      image,
      title: (values.title as string | undefined) ?? "Golden hour at the lake",
      subtitle: (values.subtitle as string | undefined) ?? "Made with reelbridge",
      cameraPrompt: (values.prompt as string | undefined) ?? "slow dolly in over the water",
      music: values.music as string | undefined,
      aspect,
      durationSeconds: values.duration === undefined ? 6 : Number(values.duration),
      ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
      say,
      tty,
    });
    if (json) out(`${JSON.stringify({ ...result, startupNotices: runtime.startupNotices }, null, 2)}\n`);
    else printSummary(result, say);
    return result.status === "completed" ? 0 : 1;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (json) out(`${JSON.stringify({ status: "error", error: message })}\n`);
    else originalStderrWrite(`reelbridge run failed: ${message}\n`);
    return 1;
  } finally {
    await runtime?.close();
    restoreLogs();
  }
}

export async function runJob(
  runtime: Runtime,
  job: { image: string; title: string; subtitle: string; cameraPrompt: string; music?: string | undefined; aspect: string; durationSeconds: number; maxCostUsd?: number; say?: (line: string) => void; tty?: boolean; timeoutMs?: number },
): Promise<RunResult> {
  const say = job.say ?? (() => undefined);
  const bytes = new Uint8Array(readFileSync(job.image));
  const contentType = sniffContentType(bytes, job.image);
  const music = job.music ?? (await import("@reelbridge/remotion/music")).DEFAULT_MUSIC_ID;

  // 1. The upload API, over HTTP, as the browser calls it.
  const created = await fetch(`${runtime.apiBase}/uploads`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: runtime.url },
    body: JSON.stringify({ title: job.title, subtitle: job.subtitle, cameraPrompt: job.cameraPrompt, music, aspect: job.aspect, durationSeconds: job.durationSeconds, contentType, ...(job.maxCostUsd !== undefined ? { maxCostUsd: job.maxCostUsd } : {}) }),
  });
  const createdBody = (await created.json()) as { jobId?: string; upload?: { url: string; fields: Record<string, string> }; quote?: JobCost; message?: string; details?: unknown; error?: string; limit?: { kind: string; usd: number } };
  if (created.status === 402 && createdBody.error === "BudgetExceeded") {
    // Refused before anything was reserved, uploaded or paid for: no job exists.
    say(`  ✗ refused: ${createdBody.message ?? "over budget"}`);
    return {
      jobId: "",
      status: "refused",
      failure: { type: "UploadRefused", code: "BudgetExceeded", message: createdBody.message ?? "" },
      steps: [],
      outputs: {},
      ...(createdBody.quote ? { quote: createdBody.quote } : {}),
      deliveries: [],
      dataDir: runtime.dataDir,
      logs: join(runtime.dataDir, "logs", "runtime.jsonl"),
    };
  }
  if (!created.ok || !createdBody.jobId || !createdBody.upload) {
    throw new Error(`the upload API refused the job (${created.status}): ${createdBody.message ?? ""} ${createdBody.details ? JSON.stringify(createdBody.details) : ""}`.trim());
  }
  const jobId = createdBody.jobId;
  const quote = createdBody.quote;
  if (quote) say(`  quote ${formatUsd(quote.totalUsd)}${job.maxCostUsd !== undefined ? ` (within --max-cost ${formatUsd(job.maxCostUsd)})` : ""}`);
  const uploadedAt = Date.now();
  const steps: RunResult["steps"] = [];
  let failure: RunResult["failure"];
  let done: (() => void) | undefined;
  const finished = new Promise<void>((ok) => (done = ok));
  let bar = "";
  const clearBar = () => {
    if (bar && job.tty) process.stdout.write("\r\x1b[2K");
    bar = "";
  };
  const jobOf = (e: EventBridgeEnvelope) =>
    (e.detail as { metadata?: { jobId?: string } }).metadata?.jobId ?? /uploads\/([0-9A-Z]{26})\//.exec(String((e.detail as { object?: { key?: string } }).object?.key ?? ""))?.[1];

  // 2. Follow the job on the bus (every event is archived and delivered; we just watch).
  const onAccepted = ({ event }: { event: EventBridgeEnvelope }) => {
    if (jobOf(event) !== jobId) return;
    const type = event["detail-type"];
    const step = STEPS.find((s) => s.event === type);
    const at = new Date().toISOString();
    const secondsSinceUpload = Math.round((Date.now() - uploadedAt) / 100) / 10;
    if (step || FAILURES.has(type)) {
      clearBar();
      steps.push({ step: step?.label ?? type, event: type, at, secondsSinceUpload });
      say(`  ${FAILURES.has(type) ? "✗" : "✓"} ${(step?.label ?? type).padEnd(48)} ${secondsSinceUpload.toFixed(1).padStart(6)} s`);
    }
    if (FAILURES.has(type)) {
      const reason = (event.detail as { data?: { reason?: { code: string; message: string } } }).data?.reason;
      failure = { type, code: reason?.code ?? "Unknown", message: reason?.message ?? "" };
    }
  };
  runtime.bus.on("accepted", onAccepted);
  const stopProgress = runtime.onProgress((p) => {
    if (p.jobId !== jobId) return;
    const width = 30;
    const filled = Math.round(Math.max(0, Math.min(1, p.fraction)) * width);
    const text = `  … ${p.step.padEnd(10)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.round(p.fraction * 100)}%`;
    if (job.tty) {
      process.stdout.write(`\r\x1b[2K${text}`);
      bar = text;
    }
  });

  // 3. The presigned POST, straight to storage, as a browser does it.
  say(`  job ${jobId}: uploading ${basename(job.image)} (${(bytes.length / 1024).toFixed(0)} KiB, ${contentType})`);
  const form = new FormData();
  for (const [k, v] of Object.entries(createdBody.upload.fields)) form.append(k, v);
  form.append("file", new Blob([bytes], { type: contentType }), basename(job.image));
  const posted = await fetch(createdBody.upload.url, { method: "POST", body: form });
  if (!posted.ok) {
    const text = await posted.text();
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? String(posted.status);
    const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? text;
    runtime.bus.off("accepted", onAccepted);
    stopProgress();
    return { jobId, status: "rejected", failure: { type: "UploadRejected", code, message }, steps, outputs: {}, ...(quote ? { quote } : {}), deliveries: [], dataDir: runtime.dataDir, logs: join(runtime.dataDir, "logs", "runtime.jsonl") };
  }

  // 4. Wait until the job record is terminal and every delivery triggered by it has settled.
  const deadline = Date.now() + (job.timeoutMs ?? 30 * 60_000);
  const poll = setInterval(async () => {
    const record = await runtime.jobs.get(jobId).catch(() => undefined);
    // Terminal: completed, failed, or cancelled (`reelbridge cancel` from another terminal).
    if (record && (terminalJobStatuses as readonly string[]).includes(record.status)) done?.();
    if (Date.now() > deadline) done?.();
  }, 500);
  await finished;
  clearInterval(poll);
  await runtime.bus.onIdle();
  clearBar();
  runtime.bus.off("accepted", onAccepted);
  stopProgress();

  const record = await runtime.jobs.get(jobId);
  const videos = runtime.generatedVideos;
  const generatedVideos = videos ? { database: videos.dir, server: videos.describe, psql: videos.psqlCommand, rows: await videos.rows(jobId) } : undefined;
  const blobPath = (key: string | undefined) => (key ? join(runtime.dataDir, "blobs", runtime.s3.bucket, key) : undefined);
  const o = record?.outputs ?? {};
  const deliveries = runtime.receiver.deliveries
    .filter((d) => JSON.stringify(d.payload).includes(jobId))
    .map((d) => ({ webhookId: d.webhookId, ...(d.type ? { type: d.type } : {}), status: d.status, verified: d.verified, attempt: d.attempt, receivedAt: d.receivedAt }));
  const status = record?.status ?? "unknown";
  return {
    jobId,
    status: Date.now() > deadline && !(terminalJobStatuses as readonly string[]).includes(status) ? "timed-out" : status,
    ...(failure ?? record?.failure ? { failure: failure ?? { type: record!.failure!.type, code: record!.failure!.code, message: record!.failure!.message } } : {}),
    steps,
    outputs: {
      finalVideo: blobPath(o.finalVideoKey),
      hlsPlaylist: blobPath(o.hlsPlaylistKey),
      clips: o.clipKeys?.map((k) => blobPath(k)!) ?? [],
      poster: blobPath(o.posterKey),
      baseVideo: blobPath(o.baseVideoKey),
      webhookLog: join(runtime.dataDir, "logs", "webhook-deliveries.jsonl"),
    },
    ...(record ? { record } : {}),
    ...(generatedVideos ? { generatedVideos } : {}),
    ...(quote ? { quote } : {}),
    ...(record?.cost ? { cost: record.cost } : {}),
    deliveries,
    dataDir: runtime.dataDir,
    logs: join(runtime.dataDir, "logs", "runtime.jsonl"),
  };
}

/**
 * A word for a POSIX shell (sh, bash, zsh): single quotes, each ' inside written as '\''. Nothing
 * is special inside single quotes, so spaces, $, `, \ and newlines stay literal.
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function printSummary(r: RunResult, say: (line: string) => void): void {
  say("");
  if (r.status === "completed") say(`✓ job ${r.jobId} completed`);
  else if (r.status === "refused") say(`✗ job refused before anything was paid: ${r.failure?.code} — ${r.failure?.message}`);
  else say(`✗ job ${r.jobId} ${r.status}${r.failure ? `: ${r.failure.code} — ${r.failure.message}` : ""}`);
  if (r.status === "refused") {
    if (r.quote) for (const line of formatCost("quote", r.quote)) say(line);
    say(`  ${"logs".padEnd(14)} ${r.logs}`);
    return;
  }
  const o = r.outputs;
  const rows: Array<[string, string | undefined]> = [
    ["final MP4", o.finalVideo as string | undefined],
    ["HLS playlist", o.hlsPlaylist as string | undefined],
    ...((o.clips as string[] | undefined) ?? []).map((c, i) => [`clip ${i + 1}`, c] as [string, string]),
    ["poster", o.poster as string | undefined],
    ["base clip", o.baseVideo as string | undefined],
  ];
  for (const [label, path] of rows) if (path) say(`  ${label.padEnd(14)} ${path}`);
  if (r.record) say(`  ${"job record".padEnd(14)} status ${r.record.status}; ${r.record.timeline.length} events; DynamoDB (dynalite) in ${join(r.dataDir, "dynamo")}`);
  if (r.record?.video) say(`  ${"".padEnd(14)} generated_videos: ${r.record.video.filename}, ${r.record.video.file_size_mb} MB, ${r.record.video.duration_seconds} s, ${r.record.video.resolution}`);
  if (r.generatedVideos) {
    const g = r.generatedVideos;
    const row = g.rows[0];
    say(`  ${"Postgres".padEnd(14)} generated_videos: ${g.rows.length} row${g.rows.length === 1 ? "" : "s"} for the job${row ? ` (status ${String(row.status)}, ${String(row.video_url)})` : ""}; ${g.server}, in ${g.database}`);
    say(`  ${"".padEnd(14)} pnpm reelbridge psql --data-dir ${shellQuote(r.dataDir)} -c ${shellQuote(`select * from generated_videos where job_id = '${r.jobId}'`)}`);
  }
  if (r.cost) for (const line of formatCost("cost", r.cost, r.quote ? { note: `quoted ${formatUsd(r.quote.totalUsd)}` } : {})) say(line);
  say(`  ${"webhooks".padEnd(14)} ${r.deliveries.length} delivered to the demo receiver (${r.deliveries.filter((d) => d.verified).length} signature-verified): ${o.webhookLog}`);
  for (const d of r.deliveries) say(`  ${"".padEnd(14)} ${d.type ?? "?"} → ${d.status}${d.attempt > 1 ? ` (attempt ${d.attempt})` : ""}`);
  say(`  ${"logs".padEnd(14)} ${r.logs}`);
  if (r.status === "completed" && o.finalVideo) say(`\nPlay it: ffplay ${shellQuote(o.finalVideo as string)}   (or open the HLS playlist in any HLS player)`);
}
