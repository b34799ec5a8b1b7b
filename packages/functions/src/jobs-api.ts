import { jobIdSchema } from "@reelbridge/events";
import { IDEMPOTENCY_KEY_HEADER } from "@reelbridge/events/http";
import type { CancelResponse, ErrorBody, RerenderResponse } from "@reelbridge/events/http";
import type { BlobStore, Clock, EventPublisher, JobStore, Logger, StepStateStore } from "@reelbridge/core";
import { createJwtVerifier, openCaller } from "@reelbridge/core/upload/auth";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { UnauthorizedError } from "@reelbridge/core/upload/errors";
import { JobRequestError, requestRerender } from "@reelbridge/core/usecases/rerender";
import { cancelJob } from "@reelbridge/core/usecases/cancel-job";
import { MUSIC_IDS } from "@reelbridge/remotion/music";
import type { QuoteConfig } from "@reelbridge/core/jobs/cost";
import { BudgetExceededError } from "@reelbridge/core/jobs/budget";
import type { BudgetLimits, BudgetStore } from "@reelbridge/core/jobs/budget";
import { budgetExceededResponse } from "./lib/budget-response";
import { quoteConfigFor } from "./lib/quote";
import { once } from "./lib/env";
import { corsFor } from "./lib/cors";
import { functionArch } from "./lib/step-cost";
import { clip, decodePathSegment, httpEndpoint, parseJsonBody } from "./lib/handlers";
import type { HttpRequest, HttpResponse } from "./lib/handlers";
import { awsPlatform } from "./lib/aws-platform";
import type { Platform } from "./lib/platform";

/**
 * The jobs API (Function URL, docs/decisions/0009):
 *   POST /jobs/{jobId}/renders  a re-render (version N ≥ 2) from the stored base clip; Idempotency-Key required
 *   POST /jobs/{jobId}/cancel   cancels the job (or its re-render in flight); idempotent
 * Owner checks as in the status API: a job of another owner answers 404, like one that does not exist.
 */
export const NAME = "jobs-api";

export interface Deps {
  state: StepStateStore;
  jobs: Pick<JobStore, "get" | "recordInvocations">;
  blobs: Pick<BlobStore, "head">;
  publisher: EventPublisher;
  clock: Clock;
  auth: CallerVerifier;
  musicIds: readonly string[];
  webOrigins: string[];
  /** How a re-render is priced (the stage's renderer; never a generation). Absent: no quote in the answer. */
  quote?: QuoteConfig;
  /** The stage's caps and the owners' daily spend: a re-render's quote is reserved like an upload's. */
  budget?: { limits?: BudgetLimits; store?: BudgetStore };
}

export async function buildDeps(p: Platform): Promise<Deps> {
  return {
    state: p.stepState(),
    jobs: p.jobs(),
    blobs: p.blobs(),
    publisher: p.publisher(NAME),
    clock: p.clock,
    auth: p.config.auth ? createJwtVerifier(p.config.auth) : openCaller,
    musicIds: MUSIC_IDS,
    webOrigins: p.config.webOrigins,
    quote: quoteConfigFor(p, { generation: false }),
    ...(p.config.budget ? { budget: { limits: p.config.budget, ...(p.config.budget.perOwnerPerDayUsd !== undefined ? { store: p.budget() } : {}) } } : {}),
  };
}

export const defaultDeps = () => buildDeps(awsPlatform());

const ROUTE = /^\/jobs\/([^/]+)\/(renders|cancel)\/?$/;

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}, details?: ErrorBody["details"]): HttpResponse => ({
  status,
  headers,
  body: { error: code, message, ...(details ? { details } : {}) } satisfies ErrorBody,
});

async function answer(deps: Deps, req: HttpRequest, logger: Logger): Promise<HttpResponse> {
  const m = ROUTE.exec(req.path);
  if (!m) return error(404, "NotFound", `no route for ${clip(req.path)}`);
  if (req.method === "OPTIONS") return { status: 204 };
  if (req.method !== "POST") return error(405, "MethodNotAllowed", "only POST is allowed here", { allow: "POST, OPTIONS" });
  const caller = await deps.auth.verify(req.headers.authorization);
  const jobId = decodePathSegment(m[1] ?? "", "job id");
  if (!jobIdSchema.safeParse(jobId).success) return error(400, "InvalidJobId", "the job id must be a ULID");
  const who = deps.auth.open ? undefined : caller;

  if (m[2] === "renders") {
    const body = parseJsonBody(req);
    const r = await requestRerender({ ...deps, logger }, { jobId, caller: who, idempotencyKey: req.headers[IDEMPOTENCY_KEY_HEADER], body });
    const statusUrl = `/jobs/${jobId}`;
    // The quote says what a re-render pays for: a render, not a generation (reserved by requestRerender).
    const quote = r.quote;
    return {
      jobIds: [jobId],
      status: r.replayed ? 200 : 202,
      headers: { location: statusUrl, ...(r.replayed ? { "idempotent-replayed": "true" } : {}) },
      body: { jobId, version: r.version, status: r.status, statusUrl, replayed: r.replayed, generation: "reused", ...(quote ? { quote } : {}) } satisfies RerenderResponse,
    };
  }
  const r = await cancelJob({ ...deps, logger }, { jobId, caller: who });
  return {
    jobIds: [jobId],
    status: 200,
    body: { jobId, status: "cancelled", ...(r.version ? { version: r.version } : {}), cancelledAt: r.cancelledAt, cancelledNow: r.cancelledNow } satisfies CancelResponse,
  };
}

export async function route(deps: Deps, req: HttpRequest, logger: Logger): Promise<HttpResponse> {
  try {
    return await answer(deps, req, logger);
  } catch (err) {
    let res: HttpResponse;
    if (err instanceof UnauthorizedError) res = error(401, err.code, err.message, { "www-authenticate": err.wwwAuthenticate });
    else if (err instanceof JobRequestError) res = error(err.status, err.code, err.message, {}, err.details);
    else if (err instanceof BudgetExceededError) res = budgetExceededResponse(err);
    else throw err;
    logger.warn("request rejected", { status: res.status, path: clip(req.path), code: (res.body as ErrorBody).error });
    return res;
  }
}

export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  return httpEndpoint(NAME, async (req, logger) => route(await deps(), req, logger), {
    headers: async (req) => ({ ...corsFor(req, (await deps()).webOrigins, { methods: "POST, OPTIONS" }), "cache-control": "no-store" }),
    // Each accepted request goes on the job's cost (issue #13 item 1).
    meter: { jobs: async () => (await deps()).jobs, arch: functionArch(NAME) },
  });
}

export const handler = createHandler();
