import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import { openCaller } from "@reelbridge/core/upload/auth";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { UnauthorizedError } from "@reelbridge/core/upload/errors";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import segmentsSample from "@reelbridge/events/samples/v1/SegmentsReady.json";
import { createHandler } from "../../src/status-api";
import type { Deps } from "../../src/status-api";

process.env.LOG_LEVEL = "SILENT";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const ORIGIN = "https://reelbridge.example.com";
const jobs = createMemoryJobStore();

/** Tokens are "token-for:<sub>"; anything else is refused like a bad JWT. */
const fakeJwt: CallerVerifier = {
  open: false,
  verify: async (authorization) => {
    const m = /^Bearer token-for:(.+)$/.exec(authorization ?? "");
    if (!m?.[1]) throw new UnauthorizedError("a bearer token is required", 'Bearer realm="reelbridge"');
    return { owner: m[1] };
  },
};

const deps = (auth: CallerVerifier): Deps => ({
  jobs,
  blobs: {
    presignGet: async (key, o) => `https://media.example/${key}?X-Amz-Expires=${o.expiresInSeconds}`,
    get: async () => {
      throw new Error("the job view never reads media");
    },
  },
  clock: { now: () => new Date("2026-11-20T12:00:00.000Z") },
  auth,
  webOrigins: [ORIGIN],
});

function request(method: string, path: string, opts: { token?: string; origin?: string; query?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    headers: { host: "abc123.lambda-url.eu-west-1.on.aws", "x-forwarded-proto": "https", ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), ...(opts.origin ? { Origin: opts.origin } : {}) },
    queryStringParameters: opts.query,
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "test" } } as APIGatewayProxyEventV2["requestContext"],
    isBase64Encoded: false,
  };
}

async function call(auth: CallerVerifier, method: string, path: string, opts: Parameters<typeof request>[2] = {}) {
  const res = (await createHandler(async () => deps(auth))(request(method, path, opts), {} as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, headers: res.headers ?? {}, body: res.body ? JSON.parse(res.body as string) : undefined };
}

beforeAll(async () => {
  for (const s of [readySample, completedSample, segmentsSample]) {
    const e = pipelineEvents[s["detail-type"] as DetailType].event.parse(structuredClone(s)) as PipelineEvent<DetailType>;
    await jobs.apply(e);
  }
  for (let i = 0; i < 3; i++) {
    const e = pipelineEvents.VideoBaseReady.event.parse(structuredClone(readySample));
    const id = `01JD7X8Q2R${String(i).padStart(16, "0")}`;
    e.detail.metadata.jobId = id;
    e.detail.data.job = { ...e.detail.data.job, jobId: id, owner: "anonymous", createdAt: `2026-11-2${i}T00:00:00.000Z` };
    await jobs.apply(e);
  }
});

describe("status API with auth on", () => {
  it("GET /jobs/{jobId} answers the owner with status, timeline and presigned outputs", async () => {
    const res = await call(fakeJwt, "GET", `/jobs/${JOB}`, { token: "token-for:user_2f9a", origin: ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body.status).toBe("completed");
    expect(res.body.outputs.video.url).toBe(`https://media.example/jobs/${JOB}/final.mp4?X-Amz-Expires=900`);
    expect(res.body.outputs.hlsPlaylist).toEqual({ url: `https://abc123.lambda-url.eu-west-1.on.aws/jobs/${JOB}/hls/index.m3u8` });
    expect(res.body.outputs.clips).toHaveLength(2);
    expect(res.body.outputs.poster.url).toContain("poster.jpg");
    expect(res.body.timeline).toHaveLength(3);
    expect(res.body.video.filename).toBe(`lisbon-at-golden-hour-${JOB}.mp4`);
  });

  it("another user gets 404, exactly as for a job that does not exist", async () => {
    const other = await call(fakeJwt, "GET", `/jobs/${JOB}`, { token: "token-for:intruder" });
    const missing = await call(fakeJwt, "GET", `/jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AC`, { token: "token-for:intruder" });
    expect(other.status).toBe(404);
    expect(other.body.error).toBe("JobNotFound");
    expect(missing.status).toBe(404);
    expect({ ...other.body, message: "" }).toEqual({ ...missing.body, message: "" });
  });

  it("no or a bad token is 401 with a challenge; CORS headers still let the browser read it", async () => {
    const res = await call(fakeJwt, "GET", `/jobs/${JOB}`, { origin: ORIGIN });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toContain("Bearer");
    expect(res.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect((await call(fakeJwt, "GET", "/jobs", { token: "garbage" })).status).toBe(401);
  });

  it("GET /jobs lists only the caller's jobs", async () => {
    const res = await call(fakeJwt, "GET", "/jobs", { token: "token-for:user_2f9a" });
    expect(res.status).toBe(200);
    expect(res.body.items.map((j: { jobId: string }) => j.jobId)).toEqual([JOB]);
  });
});

describe("status API on an open stage", () => {
  it("anyone may read a job; GET /jobs pages through the anonymous jobs newest first", async () => {
    expect((await call(openCaller, "GET", `/jobs/${JOB}`)).status).toBe(200);
    const first = await call(openCaller, "GET", "/jobs", { query: { limit: "2" } });
    expect(first.body.items.map((j: { createdAt: string }) => j.createdAt)).toEqual(["2026-11-22T00:00:00.000Z", "2026-11-21T00:00:00.000Z"]);
    const second = await call(openCaller, "GET", "/jobs", { query: { limit: "2", cursor: first.body.cursor } });
    expect(second.body.items).toHaveLength(1);
    expect(second.body.cursor).toBeUndefined();
  });

  it("rejects bad input with 400 and unknown routes with 404/405", async () => {
    expect((await call(openCaller, "GET", "/jobs", { query: { limit: "500" } })).status).toBe(400);
    expect((await call(openCaller, "GET", "/jobs", { query: { limit: "ten" } })).status).toBe(400);
    expect((await call(openCaller, "GET", "/jobs", { query: { cursor: "bm90LWEtY3Vyc29y" } })).body.error).toBe("InvalidCursor");
    expect((await call(openCaller, "GET", "/jobs/not-a-ulid")).status).toBe(400);
    expect((await call(openCaller, "GET", "/elsewhere")).status).toBe(404);
    expect((await call(openCaller, "DELETE", `/jobs/${JOB}`)).status).toBe(405);
  });

  it("answers CORS preflight for the stage's origins only", async () => {
    const ok = await call(openCaller, "OPTIONS", "/jobs", { origin: ORIGIN });
    expect(ok.status).toBe(204);
    expect(ok.headers["access-control-allow-methods"]).toContain("GET");
    const foreign = await call(openCaller, "OPTIONS", "/jobs", { origin: "https://evil.example" });
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("lets the browser read an unexpected 500 too", async () => {
    const broken: Deps = {
      ...deps(openCaller),
      jobs: {
        ...jobs,
        get: async () => {
          throw new Error("ProvisionedThroughputExceededException");
        },
      },
    };
    const res = (await createHandler(async () => broken)(request("GET", `/jobs/${JOB}`, { origin: ORIGIN }), {} as Context)) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(500);
    expect(res.headers?.["access-control-allow-origin"]).toBe(ORIGIN);
    expect(res.headers?.["cache-control"]).toBe("no-store");
  });
});
