import {
  IDEMPOTENCY_KEY_HEADER,
  budgetExceededBodySchema,
  cancelResponseSchema,
  errorBodySchema,
  jobListSchema,
  jobViewSchema,
  quoteResponseSchema,
  rerenderResponseSchema,
  terminalJobStatuses,
  uploadResponseSchema,
} from "@reelbridge/events/http";
import type {
  BudgetExceededBody,
  CancelResponse,
  FieldIssue,
  JobList,
  JobStatus,
  JobView,
  QuoteRequestBody,
  QuoteResponse,
  RerenderRequestBody,
  RerenderResponse,
  UploadRequestBody,
  UploadResponse,
} from "@reelbridge/events/http";
import type { ClientConfig } from "./config";
import { describeStorageRejection } from "./storage-errors";

/**
 * The page speaks the APIs' published contract (@reelbridge/events/http): requests are typed
 * with it and every answer is parsed with its schema, so the page reads exactly the fields the
 * status API has, and an answer of another shape is an error it names, not a blank page.
 */
export type { FieldIssue, JobList, JobStatus, JobSummary, JobView, QuoteResponse, RerenderResponse, UploadRequestBody, UploadResponse } from "@reelbridge/events/http";
export type Aspect = UploadRequestBody["aspect"];
export const TERMINAL: ReadonlySet<JobStatus> = new Set(terminalJobStatuses);

/** The API said no: status, its error code, a message, and per-field details for 400s. */
export class ApiError extends Error {
  /** On a 402 BudgetExceeded: the refused quote and the cap (events/http.ts BudgetExceededBody). */
  budget?: Pick<BudgetExceededBody, "quote" | "limit">;
  constructor(readonly status: number, readonly code: string, message: string, readonly details: FieldIssue[] = []) {
    super(message);
    this.name = "ApiError";
  }
}

/** The API answered, but not with the contract's shape (e.g. a client older than the API, or a proxy's page). */
export class UnexpectedResponse extends ApiError {
  constructor(status: number, what: string, problem: string) {
    super(status, "UnexpectedResponse", `The service's answer to ${what} is not what this page understands (${problem}). Reload the page; if it persists, the service and the page are out of step.`);
    this.name = "UnexpectedResponse";
  }
}

/** Storage refused the multipart POST (or the network failed); `message` is for people. */
export class StorageRejection extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "StorageRejection";
  }
}

type Contract<T> = { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } };

/** Fetches JSON and parses a 2xx answer with `schema`; a 4xx/5xx becomes an ApiError from the error body. */
async function call<T>(what: string, schema: Contract<T>, url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<T> {
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
    // Not every error comes from the API (a gateway's HTML page): then only the status is known.
    const e = errorBodySchema.safeParse(body);
    if (!e.success) throw new ApiError(res.status, `HTTP${res.status}`, `The service answered HTTP ${res.status}.`);
    const err = new ApiError(res.status, e.data.error, e.data.message, e.data.details ?? []);
    const budget = res.status === 402 ? budgetExceededBodySchema.safeParse(body) : undefined;
    if (budget?.success) err.budget = { quote: budget.data.quote, limit: budget.data.limit };
    throw err;
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnexpectedResponse(res.status, what, issue ? `${issue.path.map(String).join(".") || "the body"}: ${issue.message}` : "not JSON");
  }
  return parsed.data;
}

/** The signed-in person's bearer token (stages with JWT auth), on every API call. */
const authHeaders = (cfg: ClientConfig): Record<string, string> => {
  const token = cfg.accessToken?.();
  return token ? { authorization: `Bearer ${token}` } : {};
};

export const createUpload = (cfg: ClientConfig, req: UploadRequestBody): Promise<UploadResponse> =>
  call("the upload request", uploadResponseSchema, `${cfg.uploadApi}/uploads`, { method: "POST", body: JSON.stringify(req), headers: authHeaders(cfg) });

/** What a job with these parameters would cost and whether the budget admits it (POST /quotes: nothing reserved). */
export const getQuote = (cfg: ClientConfig, req: QuoteRequestBody, signal?: AbortSignal): Promise<QuoteResponse> =>
  call("the price request", quoteResponseSchema, `${cfg.uploadApi}/quotes`, { method: "POST", body: JSON.stringify(req), headers: authHeaders(cfg), ...(signal ? { signal } : {}) });

const jobsBase = (cfg: ClientConfig) => cfg.jobsApi ?? cfg.statusApi;

/** A new render version from the job's stored base clip (no new generation); `idempotencyKey` makes a repeat return the same version. */
export const rerender = (cfg: ClientConfig, jobId: string, req: RerenderRequestBody, idempotencyKey: string): Promise<RerenderResponse> =>
  call("the re-render request", rerenderResponseSchema, `${jobsBase(cfg)}/jobs/${encodeURIComponent(jobId)}/renders`, {
    method: "POST",
    body: JSON.stringify(req),
    headers: { ...authHeaders(cfg), [IDEMPOTENCY_KEY_HEADER]: idempotencyKey },
  });

/** Cancels the job's generation or render in flight (idempotent). */
export const cancelJob = (cfg: ClientConfig, jobId: string): Promise<CancelResponse> =>
  call("the cancel request", cancelResponseSchema, `${jobsBase(cfg)}/jobs/${encodeURIComponent(jobId)}/cancel`, { method: "POST", headers: authHeaders(cfg) });

/** The job, or undefined while the pipeline has not recorded it yet (404). */
export async function getJob(cfg: ClientConfig, jobId: string): Promise<JobView | undefined> {
  try {
    return await call("the job's status", jobViewSchema, `${cfg.statusApi}/jobs/${encodeURIComponent(jobId)}`, { headers: authHeaders(cfg) });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

export function listJobs(cfg: ClientConfig, opts: { limit?: number; cursor?: string } = {}): Promise<JobList> {
  const q = new URLSearchParams();
  if (opts.limit) q.set("limit", String(opts.limit));
  if (opts.cursor) q.set("cursor", opts.cursor);
  const qs = q.toString();
  return call("the list of videos", jobListSchema, `${cfg.statusApi}/jobs${qs ? `?${qs}` : ""}`, { headers: authHeaders(cfg) });
}

/**
 * The presigned POST: every policy field first, the file last as "file" (S3 ignores fields
 * after it). XMLHttpRequest, not fetch, because only XHR reports upload progress.
 */
export function uploadToStorage(ticket: UploadResponse, file: File, onProgress: (fraction: number) => void): { done: Promise<void>; abort: () => void } {
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
