import { S3Client } from "@aws-sdk/client-s3";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { createS3UploadSigner } from "@reelbridge/core/adapters/aws/s3-upload-signer";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import { openCaller } from "@reelbridge/core/upload/auth";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { UnauthorizedError } from "@reelbridge/core/upload/errors";
import type { JobStatusView, JobSummary as CoreJobSummary } from "@reelbridge/core/usecases/job-status";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { errorBodySchema, jobListSchema, jobViewSchema, uploadResponseSchema } from "@reelbridge/events/http";
import type { JobSummary, JobView } from "@reelbridge/events/http";
import { MUSIC_IDS } from "@reelbridge/remotion/music";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import failedSample from "@reelbridge/events/samples/v1/VideoBaseFailed.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import segmentsSample from "@reelbridge/events/samples/v1/SegmentsReady.json";
import * as statusApi from "../../src/status-api";
import * as uploadApi from "../../src/upload-api";

/**
 * Every answer the status and upload APIs' unit tests provoke (status-api.test.ts,
 * upload-api.test.ts), parsed with the published HTTP contract (@reelbridge/events/http) that
 * the web client parses them with: 2xx bodies with their route's schema, every JSON error with
 * the error body's. A field the handlers drop, rename or retype fails here, not in a browser.
 */

process.env.LOG_LEVEL = "SILENT";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const FAILED = "01JD7X8Q2RZ4V6N3K5M9P1T0AF";
const ORIGIN = "https://reelbridge.example.com";

type Schema = { safeParse(v: unknown): { success: boolean; error?: { issues: unknown[] } } };
const expectConforms = (schema: Schema, body: unknown) => {
  const r = schema.safeParse(body);
  expect(r.error?.issues ?? [], JSON.stringify(body)).toEqual([]);
};

function event(method: string, path: string, opts: { body?: unknown; token?: string; origin?: string; query?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const raw = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    headers: {
      host: "abc123.lambda-url.eu-west-1.on.aws",
      "x-forwarded-proto": "https",
      "content-type": "application/json",
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.origin ? { origin: opts.origin } : {}),
    },
    queryStringParameters: opts.query,
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "test" } } as APIGatewayProxyEventV2["requestContext"],
    body: raw,
    isBase64Encoded: false,
  };
}

type Handler = (e: APIGatewayProxyEventV2, c: Context) => Promise<unknown>;
async function call(handler: Handler, e: APIGatewayProxyEventV2) {
  const res = (await handler(e, {} as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode ?? 0, body: res.body ? (JSON.parse(res.body as string) as unknown) : undefined };
}

describe("status API answers conform to the published contract", () => {
  const jobs = createMemoryJobStore();
  const fakeJwt: CallerVerifier = {
    open: false,
    verify: async (authorization) => {
      const m = /^Bearer token-for:(.+)$/.exec(authorization ?? "");
      if (!m?.[1]) throw new UnauthorizedError("a bearer token is required", 'Bearer realm="reelbridge"');
      return { owner: m[1] };
    },
  };
  const deps = (auth: CallerVerifier, over: Partial<statusApi.Deps> = {}): statusApi.Deps => ({
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
    ...over,
  });
  const status = (auth: CallerVerifier, e: APIGatewayProxyEventV2, over?: Partial<statusApi.Deps>) => call(statusApi.createHandler(async () => deps(auth, over)), e);

  beforeAll(async () => {
    for (const s of [readySample, completedSample, segmentsSample]) {
      await jobs.apply(pipelineEvents[s["detail-type"] as DetailType].event.parse(structuredClone(s)) as PipelineEvent<DetailType>);
    }
    const raw = structuredClone(failedSample);
    raw.detail.metadata.jobId = FAILED;
    raw.detail.data.job = { ...raw.detail.data.job, jobId: FAILED, callbackUrl: "https://hooks.example.com/reelbridge?token=secret" };
    await jobs.apply(pipelineEvents.VideoBaseFailed.event.parse(raw));
    for (let i = 0; i < 3; i++) {
      const e = pipelineEvents.VideoBaseReady.event.parse(structuredClone(readySample));
      const id = `01JD7X8Q2R${String(i).padStart(16, "0")}`;
      e.detail.metadata.jobId = id;
      e.detail.data.job = { ...e.detail.data.job, jobId: id, owner: "anonymous", createdAt: `2026-11-2${i}T00:00:00.000Z` };
      await jobs.apply(e);
    }
  });

  it("GET /jobs/{jobId}: a completed job (video, playlist, clips, poster, generated_videos row) and a failed one", async () => {
    const done = await status(fakeJwt, event("GET", `/jobs/${JOB}`, { token: "token-for:user_2f9a", origin: ORIGIN }));
    expect(done.status).toBe(200);
    expectConforms(jobViewSchema, done.body);
    const view = jobViewSchema.parse(done.body);
    expect(view.outputs.hlsPlaylist?.url).toBe(`https://abc123.lambda-url.eu-west-1.on.aws/jobs/${JOB}/hls/index.m3u8`);
    expect(view.outputs.clips).toHaveLength(2);
    expect(view.video?.video_url).toBe(view.outputs.video?.url);
    // Parsing loses nothing the handler sends: the schema names every field of the view.
    expect(view).toEqual(done.body);

    const failed = await status(openCaller, event("GET", `/jobs/${FAILED}`));
    expect(failed.status).toBe(200);
    expectConforms(jobViewSchema, failed.body);
    const f = jobViewSchema.parse(failed.body);
    expect(f).toEqual(failed.body);
    expect(f.status).toBe("failed");
    expect(f.failure).toMatchObject({ type: "VideoBaseFailed" });
    expect(f.params?.callbackUrl).toBe("https://hooks.example.com/reelbridge");
  });

  it("GET /jobs/{jobId} on an open stage and without a public base (no playlist URL)", async () => {
    const res = await status(openCaller, { ...event("GET", `/jobs/${JOB}`), headers: {} });
    expect(res.status).toBe(200);
    expectConforms(jobViewSchema, res.body);
    expect(jobViewSchema.parse(res.body).outputs.hlsPlaylist).toBeUndefined();
  });

  it("GET /jobs: one page, pages with a cursor, the last page", async () => {
    const mine = await status(fakeJwt, event("GET", "/jobs", { token: "token-for:user_2f9a" }));
    expectConforms(jobListSchema, mine.body);
    const first = await status(openCaller, event("GET", "/jobs", { query: { limit: "2" } }));
    expectConforms(jobListSchema, first.body);
    const page = jobListSchema.parse(first.body);
    expect(page).toEqual(first.body);
    expect(page.cursor).toBeDefined();
    const second = await status(openCaller, event("GET", "/jobs", { query: { limit: "2", cursor: page.cursor! } }));
    expectConforms(jobListSchema, second.body);
    expect(jobListSchema.parse(second.body).cursor).toBeUndefined();
    const failedOwner = await status(fakeJwt, event("GET", "/jobs", { token: `token-for:${failedSample.detail.data.job.owner}` }));
    expectConforms(jobListSchema, failedOwner.body);
    expect(jobListSchema.parse(failedOwner.body).items.some((j) => j.failure)).toBe(true);
  });

  it("every JSON error: 400, 401, 404 (job, playlist, route), 405, 500", async () => {
    const answers = [
      await status(fakeJwt, event("GET", `/jobs/${JOB}`, { token: "token-for:intruder" })),
      await status(fakeJwt, event("GET", `/jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AC`, { token: "token-for:intruder" })),
      await status(fakeJwt, event("GET", `/jobs/${JOB}`, { origin: ORIGIN })),
      await status(fakeJwt, event("GET", "/jobs", { token: "garbage" })),
      await status(openCaller, event("GET", "/jobs", { query: { limit: "500" } })),
      await status(openCaller, event("GET", "/jobs", { query: { limit: "ten" } })),
      await status(openCaller, event("GET", "/jobs", { query: { cursor: "bm90LWEtY3Vyc29y" } })),
      await status(openCaller, event("GET", "/jobs/not-a-ulid")),
      await status(openCaller, event("GET", "/elsewhere")),
      await status(openCaller, event("DELETE", `/jobs/${JOB}`)),
      await status(openCaller, event("GET", `/jobs/${FAILED}/hls/index.m3u8`)),
      await status(openCaller, event("GET", `/jobs/${JOB}`), {
        jobs: {
          ...jobs,
          get: async () => {
            throw new Error("ProvisionedThroughputExceededException");
          },
        },
      }),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 404, 401, 401, 400, 400, 400, 400, 404, 405, 404, 500]);
    for (const a of answers) expectConforms(errorBodySchema, a.body);
  });

  it("core's view and summary types are the contract's, field for field", () => {
    expectTypeOf<keyof JobStatusView>().toEqualTypeOf<keyof JobView>();
    expectTypeOf<keyof JobStatusView["outputs"]>().toEqualTypeOf<keyof JobView["outputs"]>();
    expectTypeOf<keyof CoreJobSummary>().toEqualTypeOf<keyof JobSummary>();
  });
});

describe("upload API answers conform to the published contract", () => {
  const deps = (over: Partial<uploadApi.Deps> = {}): uploadApi.Deps => ({
    signer: createS3UploadSigner(new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "secret" } }), { bucket: "media" }),
    caller: openCaller,
    clock: { now: () => new Date("2026-11-20T10:00:00.000Z") },
    newJobId: () => JOB,
    musicIds: MUSIC_IDS,
    maxBytes: 15 * 1024 * 1024,
    expiresInSeconds: 600,
    webOrigins: [ORIGIN],
    quote: { ltx: { provider: "ltx", model: "ltx-2-fast" } },
    ...over,
  });
  const upload = (e: APIGatewayProxyEventV2, over?: Partial<uploadApi.Deps>) => call(uploadApi.createHandler(async () => deps(over)), e);
  const goodBody = { title: "Привет, 世界 👋", subtitle: "مرحبا بالعالم", cameraPrompt: "slow dolly in", music: MUSIC_IDS[0], aspect: "16:9", durationSeconds: 8, contentType: "image/png" };

  it("201: the job id, status URL and presigned POST", async () => {
    const res = await upload(event("POST", "/uploads", { body: goodBody, origin: ORIGIN }));
    expect(res.status).toBe(201);
    expectConforms(uploadResponseSchema, res.body);
    expect(uploadResponseSchema.parse(res.body)).toEqual(res.body);
  });

  it("every JSON error: 400 with field details, 401, 403, 404, 405, 500", async () => {
    const unauthorized: CallerVerifier = {
      open: false,
      verify: async () => {
        throw new UnauthorizedError("a bearer token is required", 'Bearer realm="reelbridge"');
      },
    };
    const answers = [
      ...(await Promise.all(
        [{ music: "kazoo-solo" }, { aspect: "1:1" }, { contentType: "image/gif" }, { title: "" }].map((patch) => upload(event("POST", "/uploads", { body: { ...goodBody, ...patch } }))),
      )),
      await upload(event("POST", "/uploads", { body: "{title:" })),
      await upload(event("POST", "/uploads", { body: goodBody }), { caller: unauthorized }),
      await upload(event("OPTIONS", "/uploads", { origin: "https://evil.example" })),
      await upload(event("POST", "/elsewhere", { body: goodBody })),
      await upload(event("GET", "/uploads")),
      await upload(event("POST", "/uploads", { body: goodBody }), {
        signer: {
          createPresignedPost: async () => {
            throw new Error("socket hang up");
          },
        },
      }),
    ];
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400, 401, 403, 404, 405, 500]);
    for (const a of answers) expectConforms(errorBodySchema, a.body);
    for (const a of answers.slice(0, 5)) expect(errorBodySchema.parse(a.body).details?.length).toBeGreaterThan(0);
  });
});
