/**
 * The jobs API handler (POST /jobs/{jobId}/renders, POST /jobs/{jobId}/cancel): owner checks like
 * the status API (another owner's job is a 404), specific 4xx for bad requests, answers that
 * conform to the published contracts (docs/decisions/0009).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core/publish";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { renderStateName } from "@reelbridge/core/render/record";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { UnauthorizedError } from "@reelbridge/core/upload/errors";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { budgetExceededBodySchema, cancelResponseSchema, errorBodySchema, rerenderResponseSchema } from "@reelbridge/events/http";
import { createMemoryBudgetStore } from "@reelbridge/core/jobs/budget";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import { createHandler } from "../../src/jobs-api";
import type { Deps } from "../../src/jobs-api";

process.env.LOG_LEVEL = "SILENT";

const JOB = readySample.detail.metadata.jobId;
const OWNER = readySample.detail.data.job.owner;

const fakeJwt: CallerVerifier = {
  open: false,
  verify: async (authorization) => {
    const m = /^Bearer token-for:(.+)$/.exec(authorization ?? "");
    if (!m?.[1]) throw new UnauthorizedError("a bearer token is required", 'Bearer realm="reelbridge"');
    return { owner: m[1] };
  },
};

async function setup(opts: { completed?: boolean; budget?: Deps["budget"] } = {}) {
  const state = createMemoryStepStateStore();
  const publisher = createMemoryPublisher();
  const ledger = createJobLedger(state);
  await ledger.recordStarted(JOB, readySample.detail.data.job as never, { at: "2026-11-20T10:00:30.000Z", causationId: "seed" });
  await state.putIfAbsent(JOB, renderStateName(1), {
    status: "started",
    attempt: 1,
    claimedAt: "2026-11-20T10:01:41.000Z",
    renderer: "remotion-lambda",
    compositionId: "ReelVertical",
    job: readySample.detail.data.job,
    baseVideo: readySample.detail.data.baseVideo,
    output: { bucket: "b", key: `jobs/${JOB}/final.mp4` },
    expected: { durationSeconds: 8, width: 1080, height: 1920, fps: 30 },
    causationId: "x",
    renderId: "8hfxlw7yoq",
  });
  if (opts.completed) {
    const e = completedSample.detail;
    await ledger.claimOutcome({ type: "RenderCompleted", data: e.data as never, eventId: e.metadata.eventId, jobId: JOB, causationId: e.metadata.causationId }, "2026-11-20T10:03:00.000Z");
  }
  const deps: Deps = {
    state,
    jobs: { get: async () => undefined },
    blobs: { head: async (key) => (key === readySample.detail.data.baseVideo.key ? { sizeBytes: 1, metadata: {} } : undefined) },
    publisher,
    clock: { now: () => new Date("2026-11-20T12:00:00.000Z") },
    auth: fakeJwt,
    musicIds: ["sunrise", "pulse"],
    webOrigins: ["https://reelbridge.example.com"],
    quote: { ltx: { provider: "ltx", model: "ltx-2-fast" }, renderer: "remotion-lambda" },
    ...(opts.budget ? { budget: opts.budget } : {}),
  };
  const call = async (method: string, path: string, o: { token?: string; body?: unknown; key?: string; origin?: string } = {}) => {
    const event = {
      version: "2.0",
      routeKey: "$default",
      rawPath: path,
      rawQueryString: "",
      headers: { host: "x.lambda-url.eu-west-1.on.aws", ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.key ? { "Idempotency-Key": o.key } : {}), ...(o.origin ? { origin: o.origin } : {}) },
      requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "t" } },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const res = (await createHandler(async () => deps)(event, {} as Context)) as APIGatewayProxyStructuredResultV2;
    return { status: res.statusCode, headers: res.headers ?? {}, body: res.body ? JSON.parse(res.body as string) : undefined };
  };
  return { call, publisher };
}

describe("jobs API", () => {
  it("re-renders the owner's completed job and answers the contract; the same key replays", async () => {
    const { call, publisher } = await setup({ completed: true });
    const res = await call("POST", `/jobs/${JOB}/renders`, { token: `token-for:${OWNER}`, key: "k1", body: { title: "New" } });
    expect(res.status).toBe(202);
    const body = rerenderResponseSchema.parse(res.body);
    expect(body).toMatchObject({ version: 2, replayed: false, generation: "reused" });
    // The quote prices a render, never a second generation.
    expect(body.quote!.lines.map((l) => l.item)).toContain("remotion-render");
    expect(body.quote!.lines.some((l) => l.item.startsWith("ltx"))).toBe(false);
    expect(body.quote!.totalUsd).toBeLessThan(0.1);
    const again = await call("POST", `/jobs/${JOB}/renders`, { token: `token-for:${OWNER}`, key: "k1", body: { title: "New" } });
    expect(again.status).toBe(200);
    expect(again.body.replayed).toBe(true);
    expect(publisher.published.filter((e) => e.type === "RenderRequested")).toHaveLength(1);
  });

  it("reserves a re-render's quote against the owner's day; over the cap it is 402 BudgetExceeded as for uploads, nothing requested or reserved (issue #13)", async () => {
    const store = createMemoryBudgetStore();
    const day = "2026-11-20";
    // The day's cap leaves room for one re-render's quote, not two.
    const { call, publisher } = await setup({ completed: true, budget: { limits: { perOwnerPerDayUsd: 0.03 }, store } });
    const t = `token-for:${OWNER}`;
    const first = await call("POST", `/jobs/${JOB}/renders`, { token: t, key: "k1", body: { title: "One" } });
    expect(first.status).toBe(202);
    const quoted = rerenderResponseSchema.parse(first.body).quote!.totalUsd;
    expect(await store.spent({ owner: OWNER, day })).toBeCloseTo(quoted, 9);
    // Replaying the same key reserves nothing more.
    expect((await call("POST", `/jobs/${JOB}/renders`, { token: t, key: "k1", body: { title: "One" } })).status).toBe(200);
    expect(await store.spent({ owner: OWNER, day })).toBeCloseTo(quoted, 9);

    const refused = await call("POST", `/jobs/${JOB}/renders`, { token: t, key: "k2", body: { title: "Two" } });
    expect(refused.status).toBe(402);
    expect(budgetExceededBodySchema.parse(refused.body)).toMatchObject({ error: "BudgetExceeded", limit: { kind: "perOwnerPerDay", usd: 0.03, day }, quote: { totalUsd: quoted } });
    expect(await store.spent({ owner: OWNER, day })).toBeCloseTo(quoted, 9);
    expect(publisher.published.filter((e) => e.type === "RenderRequested")).toHaveLength(1);
    // Once the day has room again (here: the first reservation given back), the same key goes through.
    await store.release({ owner: OWNER, day, usd: quoted });
    const later = await call("POST", `/jobs/${JOB}/renders`, { token: t, key: "k2", body: { title: "Two" } });
    expect(later.status).toBe(202);
    expect(rerenderResponseSchema.parse(later.body).version).toBe(3);
  });

  it("another owner's job is a 404 for both routes, like one that does not exist; no token is a 401", async () => {
    const { call, publisher } = await setup({ completed: true });
    for (const path of [`/jobs/${JOB}/renders`, `/jobs/${JOB}/cancel`]) {
      const res = await call("POST", path, { token: "token-for:mallory", key: "k", body: { title: "x" } });
      expect(res.status).toBe(404);
      expect(errorBodySchema.parse(res.body).error).toBe("JobNotFound");
      expect((await call("POST", path, { key: "k", body: { title: "x" } })).status).toBe(401);
    }
    expect(publisher.published).toHaveLength(0);
  });

  it("bad requests get specific 4xx answers, never a 500", async () => {
    const { call } = await setup({ completed: true });
    const t = `token-for:${OWNER}`;
    const cases: Array<[string, string, { body?: unknown; key?: string }, number, string]> = [
      ["POST", `/jobs/not-a-ulid/cancel`, {}, 400, "InvalidJobId"],
      ["GET", `/jobs/${JOB}/cancel`, {}, 405, "MethodNotAllowed"],
      ["POST", `/jobs/${JOB}/renders`, { key: "k" }, 400, "InvalidBody"],
      ["POST", `/jobs/${JOB}/renders`, { key: "k", body: { title: "x".repeat(500) } }, 400, "InvalidRerenderRequest"],
      ["POST", `/jobs/${JOB}/renders`, { body: { title: "x" } }, 400, "MissingIdempotencyKey"],
      ["POST", `/jobs/${JOB}/other`, {}, 404, "NotFound"],
      ["POST", `/jobs/${JOB}/cancel`, {}, 409, "JobCompleted"],
    ];
    for (const [method, path, o, status, code] of cases) {
      const res = await call(method, path, { token: t, ...o });
      expect([path, res.status, res.body?.error]).toEqual([path, status, code]);
    }
  });

  it("lets the stage's web client send the Idempotency-Key (CORS preflight), and nobody else", async () => {
    const { call } = await setup({ completed: true });
    const ok = await call("OPTIONS", `/jobs/${JOB}/renders`, { origin: "https://reelbridge.example.com" });
    expect(ok.status).toBe(204);
    expect(String(ok.headers["access-control-allow-headers"])).toContain("idempotency-key");
    expect(String(ok.headers["access-control-allow-methods"])).toContain("POST");
    const other = await call("OPTIONS", `/jobs/${JOB}/renders`, { origin: "https://evil.example" });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("cancels a rendering job, idempotently", async () => {
    const { call, publisher } = await setup();
    const first = await call("POST", `/jobs/${JOB}/cancel`, { token: `token-for:${OWNER}` });
    expect(first.status).toBe(200);
    expect(cancelResponseSchema.parse(first.body)).toMatchObject({ cancelledNow: true });
    const second = await call("POST", `/jobs/${JOB}/cancel`, { token: `token-for:${OWNER}` });
    expect(second.body).toMatchObject({ cancelledNow: false, cancelledAt: first.body.cancelledAt });
    expect(publisher.published.map((e) => e.type)).toEqual(["JobCancelled"]);
  });
});
