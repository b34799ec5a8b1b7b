/**
 * reelbridge rerender <jobId> --title … [--subtitle …] [--music …] [--aspect …]
 * reelbridge cancel <jobId>
 *
 * Against a running `reelbridge dev` (found through the data dir's runtime.json, or --api), or,
 * when none runs, on the data dir itself: the embedded runtime is started on it for as long as
 * the request takes to play out (docs/decisions/0009). Both go through the jobs API, as a
 * browser's request would: POST /jobs/{jobId}/renders with an Idempotency-Key, POST
 * /jobs/{jobId}/cancel.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ParseArgsOptionsConfig } from "node:util";
import { parseArgs } from "node:util";
import { cancelResponseSchema, errorBodySchema, jobViewSchema, rerenderResponseSchema } from "@reelbridge/events/http";
import type { CancelResponse, JobView, RerenderResponse } from "@reelbridge/events/http";
import { files } from "../eventbridge/store";
import { resolveDataDir, runtimeIsUp } from "../eventbridge/client";
import { startRuntime } from "../runtime/runtime";
import { CliUsageError, reportCliError } from "./events";

const RERENDER_HELP = `usage: reelbridge rerender <jobId> [--title T] [--subtitle S] [--music ID] [--aspect 9:16|16:9]
                         [--idempotency-key K] [--no-wait] [--data-dir DIR | --api URL] [--json]

Renders a finished job again from its stored base clip (no new generation is paid for), as
version N+1 with the new text, music or aspect. Waits for the version to finish unless --no-wait
(when no runtime is running, the data dir's runtime is started for the render and always waits).

options:
  --title, --subtitle, --music, --aspect   what changes (at least one)
  --idempotency-key K   sent as Idempotency-Key (default: a new UUID); the same key returns the same version
  --data-dir DIR        the runtime's data dir (default $REELBRIDGE_DATA_DIR, else .reelbridge)
  --api URL             a jobs API base URL instead (e.g. http://127.0.0.1:5173/api)
  --json                one JSON object instead of text
`;

const CANCEL_HELP = `usage: reelbridge cancel <jobId> [--data-dir DIR | --api URL] [--json]

Cancels a job in any step (or its re-render in flight): JobCancelled, the running render is
stopped, subscribers get video.cancelled. Cancelling twice is fine; a completed job answers 409.

options:
  --data-dir DIR   the runtime's data dir (default $REELBRIDGE_DATA_DIR, else .reelbridge)
  --api URL        a jobs API base URL instead
  --json           one JSON object instead of text
`;

interface Target {
  api: string;
  /** The data dir of a runtime this command started (its presigned URLs die with it: print paths). */
  dataDir?: string;
  /** Set when this command started the runtime itself: it must be stopped at the end. */
  close?: () => Promise<void>;
  idle?: () => Promise<void>;
}

async function target(dataDirFlag: string | undefined, api: string | undefined): Promise<Target> {
  if (api) return { api: api.replace(/\/+$/, "") };
  const dataDir = resolveDataDir(dataDirFlag);
  if (await runtimeIsUp(dataDir)) {
    const info = JSON.parse(readFileSync(files(dataDir).runtime, "utf8")) as { apiBase?: string };
    if (!info.apiBase) throw new CliUsageError(`the runtime in ${dataDir} does not say where its API is (runtime.json has no apiBase)`);
    return { api: info.apiBase };
  }
  const rt = await startRuntime({ dataDir, logSink: () => undefined });
  return { api: rt.apiBase, dataDir, close: () => rt.close(), idle: () => rt.bus.onIdle() };
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function post<T>(url: string, body: unknown, headers: Record<string, string>, parse: (v: unknown) => T): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const json = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) {
    const e = errorBodySchema.safeParse(json);
    throw new ApiError(res.status, e.success ? e.data.error : "Error", e.success ? e.data.message : `HTTP ${res.status}`);
  }
  return { status: res.status, body: parse(json) };
}

async function job(api: string, jobId: string): Promise<JobView> {
  const res = await fetch(`${api}/jobs/${encodeURIComponent(jobId)}`);
  if (!res.ok) throw new ApiError(res.status, "StatusApi", `the status API answered ${res.status} for job ${jobId}`);
  return jobViewSchema.parse(await res.json());
}

/** Where a presigned URL of the local S3 endpoint (…/<bucket>/<key>?…) is stored in the data dir. */
const localPath = (dataDir: string, url: string): string => join(dataDir, "blobs", ...decodeURIComponent(new URL(url).pathname).split("/").filter(Boolean));

const TERMINAL_VERSION = new Set(["completed", "failed", "cancelled"]);

async function waitForVersion(api: string, jobId: string, version: number, timeoutMs: number): Promise<JobView> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const view = await job(api, jobId);
    const v = view.versions?.find((x) => x.version === version);
    if (v && TERMINAL_VERSION.has(v.status)) return view;
    if (Date.now() > end) throw new ApiError(0, "Timeout", `version ${version} of job ${jobId} did not finish within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const fail = (e: unknown, help: string, json: boolean): number => {
  if (e instanceof ApiError) {
    if (json) process.stdout.write(`${JSON.stringify({ error: e.code, message: e.message, status: e.status })}\n`);
    else process.stderr.write(`✗ ${e.code}: ${e.message}\n`);
    return 1;
  }
  return reportCliError(e, help);
};

// What both commands take: one job id, where the runtime is, text or JSON.
const COMMON_OPTIONS = {
  "data-dir": { type: "string" },
  api: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsOptionsConfig;

type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O & typeof COMMON_OPTIONS }>>["values"];

/**
 * The frame of both commands: parses `argv` (the common options plus `options`), prints `help`
 * for --help, takes one job id, lets `prepare` refuse bad options before any runtime starts,
 * finds or starts the runtime, runs `act` and stops a runtime it started. Errors become exit codes.
 */
async function jobCommand<O extends ParseArgsOptionsConfig, P>(
  argv: string[],
  help: string,
  options: O,
  prepare: (values: Values<O>) => P,
  act: (a: { jobId: string; values: Values<O>; prepared: P; t: Target; json: boolean }) => Promise<number>,
): Promise<number> {
  let json = false;
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...options, ...COMMON_OPTIONS } });
    const common = values as { "data-dir"?: string; api?: string; json: boolean; help: boolean };
    json = common.json;
    if (common.help) {
      process.stdout.write(help);
      return 0;
    }
    const jobId = positionals[0];
    if (!jobId || positionals.length > 1) throw new CliUsageError("give one job id");
    const prepared = prepare(values);
    const t = await target(common["data-dir"], common.api);
    try {
      return await act({ jobId, values, prepared, t, json });
    } finally {
      await t.close?.();
    }
  } catch (e) {
    return fail(e, help, json);
  }
}

const RERENDER_OPTIONS = {
  title: { type: "string" },
  subtitle: { type: "string" },
  music: { type: "string" },
  aspect: { type: "string" },
  "idempotency-key": { type: "string" },
  "no-wait": { type: "boolean", default: false },
} as const satisfies ParseArgsOptionsConfig;

export const rerender = (argv: string[]): Promise<number> =>
  jobCommand(
    argv,
    RERENDER_HELP,
    RERENDER_OPTIONS,
    (values) => {
      const body = Object.fromEntries(Object.entries({ title: values.title, subtitle: values.subtitle, music: values.music, aspect: values.aspect }).filter(([, v]) => v !== undefined));
      if (Object.keys(body).length === 0) throw new CliUsageError("give at least one of --title, --subtitle, --music, --aspect");
      return body;
    },
    async ({ jobId, values, prepared: body, t, json }) => {
      const key = values["idempotency-key"] ?? randomUUID();
      const res = await post(`${t.api}/jobs/${encodeURIComponent(jobId)}/renders`, body, { "idempotency-key": key }, (v) => rerenderResponseSchema.parse(v));
      const r: RerenderResponse = res.body;
      let view: JobView | undefined;
      if (!values["no-wait"] || t.close) view = await waitForVersion(t.api, jobId, r.version, 30 * 60_000);
      const v = view?.versions?.find((x) => x.version === r.version);
      if (json) {
        process.stdout.write(`${JSON.stringify({ ...r, ...(v ? { result: v } : {}) })}\n`);
      } else {
        process.stdout.write(`${r.replayed ? "↺" : "✓"} job ${jobId}: re-render version ${r.version} ${r.replayed ? "(already requested with this key)" : "requested"}, base clip reused (no new generation)\n`);
        if (v) {
          process.stdout.write(`${v.status === "completed" ? "✓" : "✗"} version ${r.version} ${v.status}${v.failure ? `: ${v.failure.code} — ${v.failure.message}` : ""}\n`);
          if (v.outputs.video) process.stdout.write(`  final MP4   ${t.dataDir ? localPath(t.dataDir, v.outputs.video.url) : v.outputs.video.url}\n`);
        }
      }
      return !v || v.status === "completed" ? 0 : 1;
    },
  );

export const cancel = (argv: string[]): Promise<number> =>
  jobCommand(
    argv,
    CANCEL_HELP,
    {},
    () => undefined,
    async ({ jobId, t, json }) => {
      const res = await post(`${t.api}/jobs/${encodeURIComponent(jobId)}/cancel`, {}, {}, (v) => cancelResponseSchema.parse(v));
      const r: CancelResponse = res.body;
      // Started here: let the cancel play out (the render stopped, the webhook sent) before stopping.
      await t.idle?.();
      if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`✓ job ${jobId}${r.version ? ` (re-render version ${r.version})` : ""} ${r.cancelledNow ? "cancelled" : "was already cancelled"} at ${r.cancelledAt}\n`);
      return 0;
    },
  );
