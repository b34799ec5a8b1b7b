import { jobIdSchema } from "@reelbridge/events";
import type { ErrorBody, JobList, JobView } from "@reelbridge/events/http";
import type { BlobStore, Clock, JobStore, Logger } from "@reelbridge/core";
import { InvalidCursorError, InvalidListRequestError, JobNotFoundError, decodeCursor } from "@reelbridge/core/jobs/errors";
import { createJwtVerifier, openCaller } from "@reelbridge/core/upload/auth";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { UnauthorizedError } from "@reelbridge/core/upload/errors";
import {
  getHlsPlaylist,
  getJobStatus,
  HLS_CONTENT_TYPE,
  HLS_PLAYLIST_MAX_AGE_SECONDS,
  HlsNotReadyError,
  listJobs,
} from "@reelbridge/core/usecases/job-status";
import { once } from "./lib/env";
import { corsFor } from "./lib/cors";
import { clip, decodePathSegment, httpEndpoint } from "./lib/handlers";
import type { HttpRequest, HttpResponse } from "./lib/handlers";
import { awsPlatform } from "./lib/aws-platform";
import { awsRemotionProgress } from "./lib/aws-services/remotion";
import type { GetRenderProgress } from "@reelbridge/core/render/ports";
import type { StepProgressDeps } from "@reelbridge/core/usecases/step-progress";
import type { Platform } from "./lib/platform";

export const NAME = "status-api";

/** What the status API runs with; the local runtime passes its file blob store and emulator. */
export interface Deps {
  jobs: JobStore;
  blobs: Pick<BlobStore, "get" | "presignGet">;
  clock: Clock;
  /** `openCaller` on stages without auth: every job is readable, GET /jobs lists "anonymous". */
  auth: CallerVerifier;
  /** Origins allowed to call from a browser (CORS). */
  webOrigins: string[];
  /**
   * Where this API is reached from outside, e.g. `http://127.0.0.1:5173/api` in the local
   * runtime (which mounts it under /api). Without it, URLs the API hands out are built from
   * the request's host (a Function URL's own domain).
   */
  publicBaseUrl?: string;
  /** The running steps' progress: the step state and the renderer's progress (Remotion's getRenderProgress). */
  progress?: StepProgressDeps;
}

/** Dependencies from a platform (AWS, or the local runtime's peers). */
export async function buildDeps(p: Platform): Promise<Deps> {
  const publicBaseUrl = p.endpointUrl(NAME);
  return {
    jobs: p.jobs(),
    blobs: p.blobs(),
    clock: p.clock,
    auth: p.config.auth ? createJwtVerifier(p.config.auth) : openCaller,
    webOrigins: p.config.webOrigins,
    ...(publicBaseUrl ? { publicBaseUrl } : {}),
    progress: { state: p.stepState(), renderProgress: cachedProgress(p.renderProgress()) },
  };
}

/**
 * One renderer question per render per few seconds, however many pages poll it (in AWS each is
 * an invocation of Remotion's function): answers are reused for RENDER_PROGRESS_REUSE_MS.
 */
const RENDER_PROGRESS_REUSE_MS = 3_000;
function cachedProgress(ask: GetRenderProgress): GetRenderProgress {
  const recent = new Map<string, { at: number; answer: ReturnType<GetRenderProgress> }>();
  return (q) => {
    const now = Date.now();
    for (const [k, v] of recent) if (now - v.at > RENDER_PROGRESS_REUSE_MS) recent.delete(k);
    const hit = recent.get(q.renderId);
    if (hit) return hit.answer;
    const answer = ask(q);
    answer.catch(() => recent.delete(q.renderId));
    recent.set(q.renderId, { at: now, answer });
    return answer;
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform({ renderProgress: awsRemotionProgress }));

const JOB_PATH = /^\/jobs\/([^/]+)\/?$/;
const HLS_PATH = /^\/jobs\/([^/]+)\/hls\/index\.m3u8$/;
const LIST_PATH = /^\/jobs\/?$/;

/** On every answer, errors and unexpected 500s included, so the browser can read them. */
const commonHeaders = (deps: Pick<Deps, "webOrigins">, req: HttpRequest): Record<string, string> => ({
  ...corsFor(req, deps.webOrigins, { methods: "GET, OPTIONS" }),
  "cache-control": "no-store",
});

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body: { error: code, message } satisfies ErrorBody,
});

/**
 * The API's external base URL: the configured one, else the request's scheme and host (a
 * Function URL always sends both). Only a plausible host is echoed back.
 */
function publicBase(deps: Deps, req: HttpRequest): string | undefined {
  if (deps.publicBaseUrl) return deps.publicBaseUrl.replace(/\/+$/, "");
  const host = req.headers.host;
  const proto = req.headers["x-forwarded-proto"] ?? "https";
  if (!host || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host) || !/^https?$/.test(proto)) return undefined;
  return `${proto}://${host}`;
}

const hlsRoute = (jobId: string) => `/jobs/${encodeURIComponent(jobId)}/hls/index.m3u8`;

async function answer(deps: Deps, req: HttpRequest): Promise<HttpResponse> {
  const hlsMatch = HLS_PATH.exec(req.path);
  const jobMatch = hlsMatch ?? JOB_PATH.exec(req.path);
  const isList = LIST_PATH.test(req.path);
  if (!jobMatch && !isList) return error(404, "NotFound", `no route for ${clip(req.path)}`);
  if (req.method === "OPTIONS") return { status: 204 };
  if (req.method !== "GET") return error(405, "MethodNotAllowed", "only GET is allowed here", { allow: "GET, OPTIONS" });

  // Every route needs to know who asks (open stages: everyone is "anonymous").
  const caller = await deps.auth.verify(req.headers.authorization);

  if (jobMatch) {
    const jobId = decodePathSegment(jobMatch[1] ?? "", "job id");
    if (!jobIdSchema.safeParse(jobId).success) return error(400, "InvalidJobId", "the job id must be a ULID");
    const who = deps.auth.open ? undefined : caller;
    if (hlsMatch) {
      const { playlist } = await getHlsPlaylist(deps, { jobId, caller: who });
      return {
        status: 200,
        // Private: the segment URLs inside are credentials for this caller's media.
        headers: { "content-type": HLS_CONTENT_TYPE, "cache-control": `private, max-age=${HLS_PLAYLIST_MAX_AGE_SECONDS}` },
        text: playlist,
      };
    }
    const base = publicBase(deps, req);
    const view = await getJobStatus(deps, { jobId, caller: who, ...(base ? { hlsPlaylistUrl: `${base}${hlsRoute(jobId)}` } : {}) });
    return { status: 200, body: view satisfies JobView };
  }

  let limit: number | undefined;
  if (req.query.limit !== undefined) {
    limit = /^\d{1,3}$/.test(req.query.limit) ? Number(req.query.limit) : Number.NaN;
  }
  const cursor = req.query.cursor;
  if (cursor !== undefined && cursor !== "") assertIssuedCursor(cursor);
  const page = await listJobs(deps, { owner: caller.owner, ...(limit !== undefined ? { limit } : {}), ...(cursor ? { cursor } : {}) });
  return { status: 200, body: page satisfies JobList };
}

/**
 * The stores issue cursors that are JSON objects of non-empty strings (DynamoDB's
 * LastEvaluatedKey, the memory store's position); DynamoDB refuses an empty or oversized key
 * attribute with a ValidationException. So a cursor of any other shape was not issued by us:
 * refuse it here, whatever store answers the listing.
 */
function assertIssuedCursor(cursor: string): void {
  const value = decodeCursor(cursor);
  const ok =
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.values(value).every((v) => typeof v === "string" && v.length > 0 && Buffer.byteLength(v, "utf8") <= 1024);
  if (!ok) throw new InvalidCursorError();
}

/** DynamoDB's (and dynalite's) "the request's parameters are invalid", as the SDK names it. */
const isStoreValidationError = (err: unknown): boolean => err instanceof Error && err.name === "ValidationException";

/** Routes one request. CORS and cache headers are added to every answer (errors too) by httpEndpoint's `headers`. */
export async function route(deps: Deps, req: HttpRequest, logger: Logger): Promise<HttpResponse> {
  let res: HttpResponse;
  try {
    res = await answer(deps, req);
  } catch (err) {
    if (err instanceof UnauthorizedError) res = error(401, err.code, err.message, { "www-authenticate": err.wwwAuthenticate });
    else if (err instanceof JobNotFoundError || err instanceof HlsNotReadyError) res = error(404, err.code, err.message);
    else if (err instanceof InvalidCursorError || err instanceof InvalidListRequestError) res = error(400, err.code, err.message);
    // The store refusing the start key a client handed us (a cursor it did not get from us that
    // still passed the shape check) is the client's error, not ours.
    else if (req.query.cursor && LIST_PATH.test(req.path) && isStoreValidationError(err)) res = error(400, "InvalidCursor", new InvalidCursorError().message);
    else throw err;
    logger.warn("request rejected", { status: res.status, path: clip(req.path), code: (err as { code?: string }).code });
  }
  return res;
}

/** GET /jobs/{jobId}, GET /jobs/{jobId}/hls/index.m3u8 and GET /jobs (Lambda Function URL). */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  return httpEndpoint(NAME, async (req, logger) => route(await deps(), req, logger), { headers: async (req) => commonHeaders(await deps(), req) });
}

export const handler = createHandler();
