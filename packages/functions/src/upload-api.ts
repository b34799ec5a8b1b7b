import { createUpload, newJobId } from "@reelbridge/core/usecases/create-upload";
import { quoteUpload } from "@reelbridge/core/usecases/quote-upload";
import { createJwtVerifier, openCaller } from "@reelbridge/core/upload/auth";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { UnauthorizedError, UploadValidationError } from "@reelbridge/core/upload/errors";
import { BudgetExceededError } from "@reelbridge/core/jobs/budget";
import type { BudgetLimits, BudgetStore } from "@reelbridge/core/jobs/budget";
import type { QuoteConfig } from "@reelbridge/core/jobs/cost";
import type { UploadSigner } from "@reelbridge/core/upload/ports";
import type { Clock, StepStateStore } from "@reelbridge/core";
import type { ErrorBody, QuoteResponse, UploadResponse } from "@reelbridge/events/http";
import { MUSIC_IDS } from "@reelbridge/remotion/music";
import { corsFor } from "./lib/cors";
import { budgetExceededResponse } from "./lib/budget-response";
import { clip, httpEndpoint } from "./lib/handlers";
import type { HttpRequest, HttpResponse } from "./lib/handlers";
import { once } from "./lib/env";
import { awsPlatform } from "./lib/aws-platform";
import { awsUploadSigner } from "./lib/aws-services/upload-signer";
import type { Platform } from "./lib/platform";
import { quoteConfigFor } from "./lib/quote";
import { functionArch } from "./lib/step-cost";

/**
 * POST /uploads (Function URL): validates the job parameters, resolves the caller (JWT subject,
 * or "anonymous" on open stages) and returns the jobId with a presigned POST for
 * uploads/{jobId}/source. POST /quotes (same auth): what such a job would cost and whether the
 * budget admits it, reserving nothing. The local runtime calls createHandler with its own dependencies.
 */
export const NAME = "upload-api";
const ARCH = functionArch(NAME);

export interface Deps {
  signer: UploadSigner;
  caller: CallerVerifier;
  clock: Clock;
  newJobId: () => string;
  musicIds: readonly string[];
  maxBytes: number;
  expiresInSeconds: number;
  /** Browser origins allowed to call (CORS): the handler answers CORS itself, in AWS and locally. */
  webOrigins: readonly string[];
  /** What the quote prices, and the stage's budget caps with the store the daily cap is reserved in. */
  quote: QuoteConfig;
  budget?: { limits?: BudgetLimits; store?: BudgetStore };
  /** The job ledger's store: each signed job is recorded (owner, parameters), so it can be cancelled before the LTX step starts it. */
  state?: StepStateStore;
}

/** Dependencies from a platform (AWS, or the local runtime's peers). */
export async function buildDeps(p: Platform): Promise<Deps> {
  if (!p.config.auth) {
    // Stacks announce this at deploy time too; repeat it where the traffic is.
    console.warn(JSON.stringify({ level: "WARN", message: `stage ${p.stage} is open: uploads need no token and belong to "anonymous"` }));
  }
  return {
    signer: p.uploadSigner(),
    caller: p.config.auth ? createJwtVerifier(p.config.auth) : openCaller,
    clock: p.clock,
    newJobId,
    musicIds: MUSIC_IDS,
    maxBytes: p.config.upload.maxBytes,
    expiresInSeconds: p.config.upload.expiresInSeconds,
    webOrigins: p.config.webOrigins,
    quote: quoteConfigFor(p),
    state: p.stepState(),
    // The store is only touched when the stage caps spend per owner per day.
    ...(p.config.budget ? { budget: { limits: p.config.budget, ...(p.config.budget.perOwnerPerDayUsd !== undefined ? { store: p.budget() } : {}) } } : {}),
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform({ uploadSigner: awsUploadSigner }));

const cors = (req: HttpRequest, d: Pick<Deps, "webOrigins">) => corsFor(req, d.webOrigins, { methods: "POST, OPTIONS" });

const problem = (status: number, error: string, message: string, headers: Record<string, string> = {}, details?: ErrorBody["details"]): HttpResponse => ({
  status,
  headers,
  body: { error, message, ...(details ? { details } : {}) } satisfies ErrorBody,
});

/** Every answer, errors and unexpected 500s included, carries CORS headers for the stage's origins. */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  return httpEndpoint(
    NAME,
    async (req, logger, invocation) => {
      const d = await deps();
      if (req.method === "OPTIONS") {
        if (!cors(req, d)["access-control-allow-origin"]) return problem(403, "Forbidden", "origin not allowed");
        return { status: 204 };
      }
      const route = req.path === "/uploads" || req.path === "/uploads/" ? "/uploads" : req.path === "/quotes" || req.path === "/quotes/" ? "/quotes" : undefined;
      if (!route) return problem(404, "NotFound", `no route for ${clip(req.path)}`);
      if (req.method !== "POST") return problem(405, "MethodNotAllowed", `use POST ${route}`, { allow: "POST, OPTIONS" });
      // Known once the caller is verified: a refusal's log line names whose budget it was.
      let caller: string | undefined;
      try {
        const { owner } = await d.caller.verify(req.headers.authorization);
        caller = owner;
        let input: unknown;
        try {
          input = JSON.parse(req.rawBody);
        } catch {
          throw new UploadValidationError("the body must be JSON", [{ field: "(body)", message: "not valid JSON" }]);
        }
        if (route === "/quotes") {
          // The price before "Create video": the same quote, the budget as it stands; nothing reserved.
          const body = await quoteUpload(d, input, { owner });
          logger.info("quote given", { owner, quoteUsd: body.quote.totalUsd, fits: body.budget.fits, ...(body.budget.refusal ? { refusedBy: body.budget.refusal.kind } : {}) });
          return { status: 200, headers: { "cache-control": "no-store" }, body: body satisfies QuoteResponse };
        }
        // Its own invocation goes with the signed parameters: its line of the job's cost (issue #13 item 1).
        const measured = () => {
          const i = invocation();
          return i.memoryMB > 0 ? { ms: Math.round(i.ms * 1000) / 1000, memoryMB: i.memoryMB, arch: ARCH } : undefined;
        };
        const res = await createUpload({ ...d, invocation: measured }, input, { owner });
        logger.info("upload issued", { jobId: res.jobId, owner, expiresAt: res.upload.expiresAt, quoteUsd: res.quote.totalUsd, reservedUsd: res.budget.reservedUsd });
        return {
          status: 201,
          headers: { "cache-control": "no-store", location: res.statusUrl },
          body: {
            jobId: res.jobId,
            upload: { url: res.upload.url, fields: res.upload.fields, expiresAt: res.upload.expiresAt, maxBytes: res.upload.maxBytes },
            statusUrl: res.statusUrl,
            quote: res.quote,
          } satisfies UploadResponse,
        };
      } catch (err) {
        if (err instanceof UnauthorizedError) {
          logger.warn("unauthorized", { message: err.message });
          return problem(401, "Unauthorized", err.message, { "www-authenticate": err.wwwAuthenticate });
        }
        if (err instanceof BudgetExceededError) {
          const d = err.decision;
          logger.warn("upload refused: over budget", { owner: caller, limit: d.limit, limitUsd: d.limitUsd, quoteUsd: d.costUsd, spentTodayUsd: d.spentTodayUsd, day: d.day });
          return budgetExceededResponse(err);
        }
        if (err instanceof UploadValidationError) {
          logger.warn("invalid upload request", { details: err.details });
          return problem(400, err.code, err.message, {}, err.details);
        }
        throw err;
      }
    },
    { headers: async (req) => cors(req, await deps()) },
  );
}

export const handler = createHandler();
