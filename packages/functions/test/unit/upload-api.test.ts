import { createSign, generateKeyPairSync } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createS3UploadSigner } from "@reelbridge/core/adapters/aws/s3-upload-signer";
import { createJwtVerifier, openCaller } from "@reelbridge/core/upload/auth";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { UPLOADS_PREFIX } from "@reelbridge/core/upload/keys";
import { decodeJobMetadata } from "@reelbridge/core/upload/metadata";
import { MUSIC_IDS } from "@reelbridge/remotion/music";
import { createHandler } from "../../src/upload-api";
import type { Deps } from "../../src/upload-api";
import { endpoints, prefixes } from "../../src/topology";
import { createMemoryBudgetStore } from "@reelbridge/core/jobs/budget";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { budgetExceededBodySchema, quoteResponseSchema, uploadResponseSchema } from "@reelbridge/events/http";

process.env.LOG_LEVEL = "SILENT";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const ORIGIN = "https://reelbridge.example.com";
const ISSUER = "https://auth.example.com/";
const AUDIENCE = "reelbridge-api";

// An ES256 key pair and hand-made JWTs (node:crypto), verified by the real jose-based verifier.
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
function jwt(claims: Record<string, unknown>, key = privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url({ alg: "ES256", typ: "JWT", kid: "k1" })}.${b64url({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims })}`;
  const sig = createSign("SHA256").update(input).sign({ key, dsaEncoding: "ieee-p1363" }).toString("base64url");
  return `${input}.${sig}`;
}
const jwtCaller = createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: async () => publicKey });

const signer = createS3UploadSigner(new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "secret" } }), { bucket: "media" });

const deps = (caller: CallerVerifier, over: Partial<Deps> = {}): Deps => ({
  signer,
  caller,
  clock: { now: () => new Date("2026-11-20T10:00:00.000Z") },
  newJobId: () => JOB,
  musicIds: MUSIC_IDS,
  maxBytes: 15 * 1024 * 1024,
  expiresInSeconds: 600,
  webOrigins: [ORIGIN],
  quote: { ltx: { provider: "ltx", model: "ltx-2-fast" } },
  ...over,
});

const goodBody = {
  title: "Привет, 世界 👋",
  subtitle: "مرحبا بالعالم",
  cameraPrompt: "slow dolly in",
  music: MUSIC_IDS[0],
  aspect: "16:9",
  durationSeconds: 8,
  contentType: "image/png",
};

function event(method: string, path: string, opts: { body?: unknown; token?: string; origin?: string; base64?: boolean; headers?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const raw = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { "Content-Type": "application/json", ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), ...(opts.origin ? { Origin: opts.origin } : {}), ...opts.headers },
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "test" } } as APIGatewayProxyEventV2["requestContext"],
    body: raw === undefined ? undefined : opts.base64 ? Buffer.from(raw, "utf8").toString("base64") : raw,
    isBase64Encoded: !!opts.base64,
  };
}

async function call(d: Deps, e: APIGatewayProxyEventV2) {
  const res = (await createHandler(async () => d)(e, {} as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, headers: (res.headers ?? {}) as Record<string, string>, body: res.body ? JSON.parse(res.body as string) : undefined };
}

describe("upload API: POST /uploads", () => {
  it("returns the jobId and a presigned POST for uploads/{jobId}/source with the job as signed metadata", async () => {
    const res = await call(deps(openCaller), event("POST", "/uploads", { body: goodBody, origin: ORIGIN, base64: true }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ jobId: JOB, statusUrl: `/jobs/${JOB}`, upload: { url: "https://media.s3.eu-west-1.amazonaws.com/", maxBytes: 15 * 1024 * 1024 } });
    expect(res.body.upload.fields).toMatchObject({ key: `uploads/${JOB}/source`, "Content-Type": "image/png" });
    expect(Date.parse(res.body.upload.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    const params = decodeJobMetadata({ job: res.body.upload.fields["x-amz-meta-job"], "job-version": res.body.upload.fields["x-amz-meta-job-version"] });
    expect(params).toMatchObject({ jobId: JOB, owner: "anonymous", title: "Привет, 世界 👋", subtitle: "مرحبا بالعالم", aspect: "16:9" });
    expect(res.headers).toMatchObject({ "access-control-allow-origin": ORIGIN, "cache-control": "no-store" });
  });

  it.each([
    ["music", { music: "kazoo-solo" }],
    ["aspect", { aspect: "1:1" }],
    ["contentType", { contentType: "image/gif" }],
    ["title", { title: "" }],
  ])("answers 400 naming %s when it is invalid", async (field, patch) => {
    const res = await call(deps(openCaller), event("POST", "/uploads", { body: { ...goodBody, ...patch }, origin: ORIGIN }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "InvalidRequest", details: expect.arrayContaining([expect.objectContaining({ field })]) });
    expect(res.headers["access-control-allow-origin"]).toBe(ORIGIN);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const res = await call(deps(openCaller), event("POST", "/uploads", { body: "{title:" }));
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ field: "(body)", message: "not valid JSON" }]);
  });

  describe("on a stage with a JWT issuer", () => {
    it("makes the token's subject the job's owner", async () => {
      const res = await call(deps(jwtCaller), event("POST", "/uploads", { body: goodBody, token: jwt({ sub: "user-7" }) }));
      expect(res.status).toBe(201);
      const f = res.body.upload.fields;
      expect(decodeJobMetadata({ job: f["x-amz-meta-job"], "job-version": "1" }).owner).toBe("user-7");
    });

    it.each([
      ["no token", undefined],
      ["a token for another audience", jwt({ sub: "u", aud: "someone-else" })],
      ["a token from another issuer", jwt({ sub: "u", iss: "https://evil.example/" })],
      ["an expired token", jwt({ sub: "u", exp: Math.floor(Date.now() / 1000) - 3600 })],
      ["a token signed with another key", jwt({ sub: "u" }, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey)],
      ["a token without a subject", jwt({})],
    ])("answers 401 with WWW-Authenticate for %s, and issues nothing", async (_what, token) => {
      const res = await call(deps(jwtCaller), event("POST", "/uploads", { body: goodBody, token, origin: ORIGIN }));
      expect(res.status).toBe(401);
      expect(res.body.error).toBe("Unauthorized");
      expect(res.body.upload).toBeUndefined();
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="reelbridge"/);
      expect(res.headers["access-control-allow-origin"]).toBe(ORIGIN);
      if (token) expect(res.headers["www-authenticate"]).toContain('error="invalid_token"');
    });
  });

  describe("CORS", () => {
    it("answers the preflight for the stage's web origins only", async () => {
      const ok = await call(deps(openCaller), event("OPTIONS", "/uploads", { origin: ORIGIN }));
      expect(ok.status).toBe(204);
      expect(ok.headers).toMatchObject({ "access-control-allow-origin": ORIGIN, "access-control-allow-methods": "POST, OPTIONS" });
      expect(ok.headers["access-control-allow-headers"]).toContain("authorization");
      const no = await call(deps(openCaller), event("OPTIONS", "/uploads", { origin: "https://evil.example" }));
      expect(no.status).toBe(403);
      expect(no.headers["access-control-allow-origin"]).toBeUndefined();
    });

    it("gives other origins no CORS headers", async () => {
      const res = await call(deps(openCaller), event("POST", "/uploads", { body: goodBody, origin: "https://evil.example" }));
      expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    });

    it("lets the browser read an unexpected 500 too", async () => {
      const broken: Deps["signer"] = {
        createPresignedPost: async () => {
          throw new Error("socket hang up");
        },
      };
      const res = await call(deps(openCaller, { signer: broken }), event("POST", "/uploads", { body: goodBody, origin: ORIGIN }));
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: "Internal", message: "internal error" });
      expect(res.headers["access-control-allow-origin"]).toBe(ORIGIN);
    });
  });

  it("answers 404 and 405 for other routes and methods", async () => {
    expect((await call(deps(openCaller), event("POST", "/elsewhere", { body: goodBody }))).status).toBe(404);
    expect((await call(deps(openCaller), event("GET", "/uploads"))).status).toBe(405);
  });

  it("agrees with the topology on the route and the uploads prefix", () => {
    expect(prefixes.uploads).toBe(UPLOADS_PREFIX);
    expect(endpoints.find((e) => e.name === "upload-api")).toMatchObject({ handler: "packages/functions/src/upload-api.handler", routes: ["POST /uploads", "POST /quotes"] });
  });
});

describe("upload API: the quote and the budget (issue #13)", () => {
  it("answers 201 with the job's quote, which the contract accepts", async () => {
    const res = await call(deps(openCaller), event("POST", "/uploads", { body: goodBody, origin: ORIGIN }));
    expect(res.status).toBe(201);
    const body = uploadResponseSchema.parse(res.body);
    // 8 s of 1080p (16:9) on ltx-2-fast at $0.04/s, plus the render and our services.
    expect(body.quote.lines.find((l) => l.item === "ltx-generation")).toMatchObject({ quantity: 8, usd: 0.32, estimated: true });
    expect(body.quote.totalUsd).toBeGreaterThan(0.32);
  });

  it("answers 402 BudgetExceeded, naming the cap, the quote and the day, and signs nothing", async () => {
    const store = createMemoryBudgetStore();
    const d = deps(openCaller, { budget: { limits: { perJobUsd: 0.3 }, store } });
    const res = await call(d, event("POST", "/uploads", { body: goodBody, origin: ORIGIN }));
    expect(res.status).toBe(402);
    const body = budgetExceededBodySchema.parse(res.body);
    expect(body).toMatchObject({ error: "BudgetExceeded", limit: { kind: "perJob", usd: 0.3, day: "2026-11-20" } });
    expect(body.message).toMatch(/over the stage's cap of \$0\.3000 per job/);
    expect(body.quote.totalUsd).toBeGreaterThan(0.3);
    expect(res.headers["access-control-allow-origin"]).toBe(ORIGIN);
  });

  it("the owner's daily cap admits jobs until the next would cross it", async () => {
    const store = createMemoryBudgetStore();
    const d = deps(openCaller, { budget: { limits: { perOwnerPerDayUsd: 0.7 }, store } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(d, event("POST", "/uploads", { body: goodBody, origin: ORIGIN }))).status);
    expect(statuses).toEqual([201, 201, 402]);
  });

  it("a caller's maxCostUsd under the quote is a 402 with limit maxCost; a bad one a 400", async () => {
    const res = await call(deps(openCaller), event("POST", "/uploads", { body: { ...goodBody, maxCostUsd: 0.05 }, origin: ORIGIN }));
    expect(res.status).toBe(402);
    expect(res.body.limit).toMatchObject({ kind: "maxCost", usd: 0.05 });
    const bad = await call(deps(openCaller), event("POST", "/uploads", { body: { ...goodBody, maxCostUsd: -1 }, origin: ORIGIN }));
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((x: { field: string }) => x.field)).toEqual(["maxCostUsd"]);
  });

  it("records the job it signs in the ledger (owner and parameters), and nothing for a refused one (issue #13)", async () => {
    const state = createMemoryStepStateStore();
    const ok = await call(deps(openCaller, { state }), event("POST", "/uploads", { body: goodBody, origin: ORIGIN }));
    expect(ok.status).toBe(201);
    const view = await createJobLedger(state).view(JOB, { signed: true });
    expect(view.signed?.job).toMatchObject({ jobId: JOB, owner: "anonymous", title: goodBody.title });
    // Signed is not started: the job is not known to the pipeline's consumers yet.
    expect(view.known).toBe(false);
    const other = createMemoryStepStateStore();
    const refused = await call(deps(openCaller, { state: other, budget: { limits: { perJobUsd: 0.3 } } }), event("POST", "/uploads", { body: goodBody, origin: ORIGIN }));
    expect(refused.status).toBe(402);
    expect((await createJobLedger(other).view(JOB, { signed: true })).signed).toBeUndefined();
    expect(endpoints.find((e) => e.name === "upload-api")!.permissions).toContainEqual({ kind: "jobs:sign" });
  });

  it("the topology lets the upload API reserve budget", () => {
    expect(endpoints.find((e) => e.name === "upload-api")!.permissions).toContainEqual({ kind: "budget:reserve" });
  });
});

describe("upload API: POST /quotes, the price before the job (issue #14 item 2)", () => {
  it("answers the same quote POST /uploads reserves, and it follows duration and aspect", async () => {
    const d = deps(openCaller);
    const q = await call(d, event("POST", "/quotes", { body: goodBody, origin: ORIGIN }));
    expect(q.status).toBe(200);
    expect(q.headers["access-control-allow-origin"]).toBe(ORIGIN);
    const body = quoteResponseSchema.parse(q.body);
    const up = uploadResponseSchema.parse((await call(d, event("POST", "/uploads", { body: goodBody, origin: ORIGIN }))).body);
    expect(body.quote).toEqual(up.quote);
    expect(body).toMatchObject({ generation: "included", budget: { fits: true, day: "2026-11-20" } });
    const longer = quoteResponseSchema.parse((await call(d, event("POST", "/quotes", { body: { aspect: "16:9", durationSeconds: 16 } }))).body);
    expect(longer.quote.lines.find((l) => l.item === "ltx-generation")).toMatchObject({ quantity: 16, usd: 0.64 });
    expect(longer.quote.totalUsd).toBeGreaterThan(body.quote.totalUsd);
  });

  it("says which cap would refuse the job, and reserves nothing", async () => {
    const store = createMemoryBudgetStore();
    const perJob = quoteResponseSchema.parse((await call(deps(openCaller, { budget: { limits: { perJobUsd: 0.3 }, store } }), event("POST", "/quotes", { body: goodBody }))).body);
    expect(perJob.budget).toMatchObject({ fits: false, perJobUsd: 0.3, refusal: { kind: "perJob", usd: 0.3 } });
    expect(perJob.budget.refusal!.message).toMatch(/over the stage's cap of \$0\.3000 per job/);

    const d = deps(openCaller, { budget: { limits: { perOwnerPerDayUsd: 0.7 }, store } });
    for (let i = 0; i < 5; i++) expect(quoteResponseSchema.parse((await call(d, event("POST", "/quotes", { body: goodBody }))).body).budget.fits).toBe(true);
    expect(store.days.size).toBe(0);
    expect((await call(d, event("POST", "/uploads", { body: goodBody }))).status).toBe(201);
    expect((await call(d, event("POST", "/uploads", { body: goodBody }))).status).toBe(201);
    const third = quoteResponseSchema.parse((await call(d, event("POST", "/quotes", { body: goodBody }))).body);
    expect(third.budget).toMatchObject({ fits: false, perOwnerPerDayUsd: 0.7, refusal: { kind: "perOwnerPerDay", usd: 0.7 } });
    expect(third.budget.spentTodayUsd).toBeGreaterThan(0.6);
    // What the quote said is what the upload does.
    expect((await call(d, event("POST", "/uploads", { body: goodBody }))).status).toBe(402);

    const capped = quoteResponseSchema.parse((await call(deps(openCaller), event("POST", "/quotes", { body: { ...goodBody, maxCostUsd: 0.05 } }))).body);
    expect(capped.budget.refusal).toMatchObject({ kind: "maxCost", usd: 0.05 });
  });

  it("a bad quote request is a 400 naming the field; a missing token a 401", async () => {
    const bad = await call(deps(openCaller), event("POST", "/quotes", { body: { aspect: "4:3", durationSeconds: 99 } }));
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((x: { field: string }) => x.field).sort()).toEqual(["aspect", "durationSeconds"]);
    const notJson = await call(deps(openCaller), event("POST", "/quotes", { body: "{", headers: { "content-type": "application/json" } }));
    expect(notJson.status).toBe(400);
    expect((await call(deps(jwtCaller), event("POST", "/quotes", { body: goodBody }))).status).toBe(401);
    const ok = await call(deps(jwtCaller), event("POST", "/quotes", { body: goodBody, token: jwt({ sub: "alice" }) }));
    expect(ok.status).toBe(200);
    expect((await call(deps(openCaller), event("GET", "/quotes"))).status).toBe(405);
  });
});

describe("upload API: POST /quotes for a re-render (issue #14 item 4)", () => {
  it("prices a re-render without a generation line, as the jobs API quotes it, against the same caps", async () => {
    const d = deps(openCaller, { budget: { limits: { perJobUsd: 0.3 } } });
    const fresh = quoteResponseSchema.parse((await call(d, event("POST", "/quotes", { body: { aspect: "16:9", durationSeconds: 8 } }))).body);
    const again = quoteResponseSchema.parse((await call(d, event("POST", "/quotes", { body: { aspect: "16:9", durationSeconds: 8, generation: "reused" } }))).body);
    expect(fresh.quote.lines.map((l) => l.item)).toContain("ltx-generation");
    expect(again.generation).toBe("reused");
    expect(again.quote.lines.map((l) => l.item)).not.toContain("ltx-generation");
    expect(again.quote.totalUsd).toBeLessThan(fresh.quote.totalUsd - 0.3);
    expect(again.budget.fits).toBe(true);
    expect(fresh.budget.fits).toBe(false);
    const tight = quoteResponseSchema.parse((await call(deps(openCaller, { budget: { limits: { perJobUsd: 0.00001 } } }), event("POST", "/quotes", { body: { aspect: "16:9", durationSeconds: 8, generation: "reused" } }))).body);
    expect(tight.budget.refusal).toMatchObject({ kind: "perJob" });
    expect((await call(d, event("POST", "/quotes", { body: { aspect: "16:9", durationSeconds: 8, generation: "twice" } }))).status).toBe(400);
  });
});
