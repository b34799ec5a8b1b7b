import type { ClientConfig } from "./config";
import { describeStorageRejection } from "./storage-errors";

export type Aspect = "9:16" | "16:9";
export type JobStatus = "uploaded" | "generating" | "generated" | "rendering" | "rendered" | "completed" | "failed";
export const TERMINAL: ReadonlySet<JobStatus> = new Set(["completed", "failed"]);

export interface UploadRequest {
  title: string;
  subtitle: string;
  cameraPrompt: string;
  music: string;
  aspect: Aspect;
  durationSeconds: number;
  contentType: string;
  callbackUrl?: string;
}

export interface UploadTicket {
  jobId: string;
  upload: { url: string; fields: Record<string, string>; expiresAt: string; maxBytes: number };
}

export interface TimelineEntry {
  type: string;
  time: string;
  summary: string;
}

/** A job as the page uses it (normalised from the status API by `normalizeJob`). */
export interface Job {
  jobId: string;
  status: JobStatus;
  title?: string;
  aspect?: Aspect;
  timeline: TimelineEntry[];
  failure?: { code: string; message: string; type?: string };
  outputs: { video?: string; videoFilename?: string; hls?: string; clips: string[]; poster?: string };
  createdAt?: string;
}

type UrlLike = string | { url?: unknown } | null | undefined;
const urlOf = (v: unknown): string | undefined => {
  const u = typeof v === "string" ? v : v && typeof v === "object" ? (v as { url?: unknown }).url : undefined;
  return typeof u === "string" && u ? u : undefined;
};

/**
 * The status API's job (or list item) in the page's shape. Outputs may be plain URLs or
 * { url, expiresAt } objects, the playlist may be `hls` or `hlsPlaylist`, the title may sit in
 * `params` or at the top level: all are read, so small contract changes do not break the page.
 */
export function normalizeJob(raw: unknown): Job {
  const r = (raw ?? {}) as Record<string, unknown>;
  const params = (r.params && typeof r.params === "object" ? r.params : {}) as Record<string, unknown>;
  const out = (r.outputs && typeof r.outputs === "object" ? r.outputs : {}) as Record<string, UrlLike | UrlLike[]>;
  const video = out.video as UrlLike;
  const failure = r.failure as Job["failure"] | undefined;
  const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  return {
    jobId: String(r.jobId ?? ""),
    status: (str(r.status) ?? "uploaded") as JobStatus,
    title: str(params.title) ?? str(r.title),
    aspect: (str(params.aspect) as Aspect | undefined) ?? undefined,
    timeline: Array.isArray(r.timeline) ? (r.timeline as TimelineEntry[]) : [],
    ...(failure && typeof failure === "object" ? { failure } : {}),
    outputs: {
      video: urlOf(video),
      videoFilename: video && typeof video === "object" ? str((video as { filename?: unknown }).filename) : undefined,
      hls: urlOf(out.hls) ?? urlOf(out.hlsPlaylist),
      clips: (Array.isArray(out.clips) ? out.clips : []).map(urlOf).filter((u): u is string => u !== undefined),
      poster: urlOf(out.poster),
    },
    createdAt: str(params.createdAt) ?? str(r.createdAt),
  };
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** The API said no: status, its error code, a message, and per-field details for 400s. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: FieldIssue[] = []) {
    super(message);
    this.name = "ApiError";
  }
}

/** Storage refused the multipart POST (or the network failed); `message` is for people. */
export class StorageRejection extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "StorageRejection";
  }
}

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers } });
  } catch {
    throw new ApiError(0, "NetworkError", "The service could not be reached. Check your connection and try again.");
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { error?: string; code?: string; message?: string; details?: FieldIssue[] };
    throw new ApiError(res.status, b.error ?? b.code ?? `HTTP${res.status}`, b.message ?? `The service answered HTTP ${res.status}.`, Array.isArray(b.details) ? b.details : []);
  }
  return body as T;
}

export const createUpload = (cfg: ClientConfig, req: UploadRequest) =>
  call<UploadTicket>(`${cfg.uploadApi}/uploads`, { method: "POST", body: JSON.stringify(req) });

/** The job, or undefined while the pipeline has not recorded it yet (404). */
export async function getJob(cfg: ClientConfig, jobId: string): Promise<Job | undefined> {
  try {
    return normalizeJob(await call<unknown>(`${cfg.statusApi}/jobs/${encodeURIComponent(jobId)}`));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

export async function listJobs(cfg: ClientConfig, opts: { limit?: number; cursor?: string } = {}): Promise<{ items: Job[]; cursor?: string }> {
  const q = new URLSearchParams();
  if (opts.limit) q.set("limit", String(opts.limit));
  if (opts.cursor) q.set("cursor", opts.cursor);
  const qs = q.toString();
  const page = await call<{ items?: unknown[]; cursor?: string }>(`${cfg.statusApi}/jobs${qs ? `?${qs}` : ""}`);
  return { items: (page?.items ?? []).map(normalizeJob), ...(page?.cursor ? { cursor: page.cursor } : {}) };
}

/**
 * The presigned POST: every policy field first, the file last as "file" (S3 ignores fields
 * after it). XMLHttpRequest, not fetch, because only XHR reports upload progress.
 */
export function uploadToStorage(ticket: UploadTicket, file: File, onProgress: (fraction: number) => void): { done: Promise<void>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(ticket.upload.fields)) form.append(k, v);
    form.append("file", file, file.name);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(Math.min(1, e.loaded / e.total));
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new StorageRejection(xhr.status, describeStorageRejection(xhr.status, xhr.responseText, { maxBytes: ticket.upload.maxBytes, fileName: file.name })));
      }
    });
    xhr.addEventListener("error", () => reject(new StorageRejection(0, describeStorageRejection(0, "", { maxBytes: ticket.upload.maxBytes, fileName: file.name }))));
    xhr.addEventListener("abort", () => reject(new StorageRejection(0, "The upload was cancelled.")));
    xhr.open("POST", ticket.upload.url);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
