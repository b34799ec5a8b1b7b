import { S3Client } from "@aws-sdk/client-s3";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createS3UploadSigner } from "@reelbridge/core/adapters/aws/s3-upload-signer";
import { openCaller } from "@reelbridge/core/upload/auth";
import { decodeJobMetadata } from "@reelbridge/core/upload/metadata";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import { LAMBDA_PRICES } from "@reelbridge/core/jobs/prices";
import { MUSIC_IDS } from "@reelbridge/remotion/music";
import { parseEvent } from "@reelbridge/events";
import startedSample from "@reelbridge/events/samples/v1/VideoBaseStarted.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import { createHandler as createUploadApi } from "../../src/upload-api";
import type { Deps as UploadDeps } from "../../src/upload-api";
import { createHandler as createDbWriter } from "../../src/db-writer";
import { httpEndpoint, pipelineJobId, queueStep } from "../../src/lib/handlers";
import { endpoints, subscriptions, ALL_FEATURES } from "../../src/topology";

/**
 * Issue #13 item 1: our own Lambdas that end no step with an event of their own are counted in
 * the job's cost, measured by the handler wrapper (duration × context.memoryLimitInMB).
 */

process.env.LOG_LEVEL = "SILENT";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const memoryOf = (name: string) => [...subscriptions({ mediaBucket: "-", features: ALL_FEATURES }), ...endpoints].find((f) => f.name === name)!.memoryMB;
const context = (name: string, requestId: string) => ({ memoryLimitInMB: String(memoryOf(name)), awsRequestId: requestId, functionName: name }) as unknown as Context;
const clone = <T>(x: T): T => structuredClone(x);

function post(body: unknown): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/uploads",
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    requestContext: { http: { method: "POST", path: "/uploads", protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "test" } } as APIGatewayProxyEventV2["requestContext"],
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

const uploadDeps = (): UploadDeps => ({
  signer: createS3UploadSigner(new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "secret" } }), { bucket: "media" }),
  caller: openCaller,
  clock: { now: () => new Date("2026-11-20T10:00:00.000Z") },
  newJobId: () => JOB,
  musicIds: MUSIC_IDS,
  maxBytes: 15 * 1024 * 1024,
  expiresInSeconds: 600,
  webOrigins: [],
  quote: { ltx: { provider: "ltx", model: "ltx-2-fast" } },
});

const body = { title: "Cost", subtitle: "", cameraPrompt: "slow dolly in", music: MUSIC_IDS[0], aspect: "16:9", durationSeconds: 6, contentType: "image/png" };

async function upload(extra: Record<string, unknown> = {}) {
  const res = (await createUploadApi(async () => uploadDeps())(post({ ...body, ...extra }), context("upload-api", "up-1"))) as APIGatewayProxyStructuredResultV2;
  expect(res.statusCode).toBe(201);
  const fields = JSON.parse(res.body as string).upload.fields as Record<string, string>;
  return decodeJobMetadata({ job: fields["x-amz-meta-job"]!, "job-version": fields["x-amz-meta-job-version"]! });
}

describe("the upload API's own invocation", () => {
  it("is signed into the job's parameters, measured at its configured memory and architecture", async () => {
    const params = await upload();
    expect(params.uploadInvocation).toMatchObject({ memoryMB: memoryOf("upload-api"), arch: "arm64" });
    expect(params.uploadInvocation!.ms).toBeGreaterThanOrEqual(0);
  });

  it("cannot be set by the client: a figure in the request is not what is signed", async () => {
    const params = await upload({ uploadInvocation: { ms: 9_000_000, memoryMB: 10_240, arch: "x86_64" } });
    expect(params.uploadInvocation).toMatchObject({ memoryMB: memoryOf("upload-api"), arch: "arm64" });
    expect(params.uploadInvocation!.ms).toBeLessThan(60_000);
  });

  it("becomes the job's upload-api line once the pipeline records the job (and the DB writer its own)", async () => {
    const params = await upload();
    const jobs = createMemoryJobStore();
    const writer = createDbWriter(async () => ({ jobs }));
    const started = clone(startedSample) as { detail: { data: { job: unknown } } };
    started.detail.data.job = params;
    const ready = clone(readySample) as { detail: { data: { job: unknown } } };
    ready.detail.data.job = params;
    // Still v1 events: the field is part of the job contract.
    parseEvent("VideoBaseStarted", started);
    await writer(started, context("db-writer", "w-1"));
    await writer(ready, context("db-writer", "w-2"));
    // A duplicate delivery is another invocation, paid for too; the event itself counts once.
    await writer(clone(ready), context("db-writer", "w-3"));
    const cost = (await jobs.get(JOB))!.cost!;
    const byItem = Object.fromEntries(cost.lines.map((l) => [l.item, l]));
    expect(byItem["lambda:upload-api"]).toMatchObject({ unit: "GB-s", unitPriceUsd: LAMBDA_PRICES.perGbSecond.arm64 });
    expect(byItem["lambda:upload-api"]!.basis).toContain("1 invocation,");
    expect(byItem["lambda:db-writer"]!.basis).toContain("3 invocations");
    expect(byItem["lambda:db-writer"]!.quantity).toBeGreaterThan(0);
    expect(byItem["eventbridge"]!.quantity).toBe(2);
    // The same invocation written again is still one invocation (its larger figure kept).
    await writer(clone(ready), context("db-writer", "w-3"));
    const again = (await jobs.get(JOB))!.cost!.lines.find((l) => l.item === "lambda:db-writer")!;
    expect(again.basis).toContain("3 invocations");
    expect(again.quantity).toBeGreaterThanOrEqual(byItem["lambda:db-writer"]!.quantity);
  });
});

describe("an HTTP endpoint's meter", () => {
  const endpoint = (jobs: ReturnType<typeof createMemoryJobStore>) =>
    httpEndpoint(
      "jobs-api",
      async (req) => (req.path === "/ok" ? { status: 200, body: {}, jobIds: [JOB] } : { status: 403, body: { error: "Forbidden" } }),
      { meter: { jobs: async () => jobs, arch: "arm64" } },
    );
  const get = (path: string): APIGatewayProxyEventV2 => ({ ...post({}), rawPath: path, requestContext: { http: { method: "GET", path } } as APIGatewayProxyEventV2["requestContext"] });

  it("puts an answered request on the job it names, never a refused one, and never creates a job", async () => {
    const jobs = createMemoryJobStore();
    const h = endpoint(jobs);
    await h(get("/ok"), context("jobs-api", "r-0"));
    expect(jobs.states.size).toBe(0);
    await createDbWriter(async () => ({ jobs }))(clone(startedSample), context("db-writer", "w-1"));
    await h(get("/ok"), context("jobs-api", "r-1"));
    await h(get("/nope"), context("jobs-api", "r-2"));
    const res = (await h(get("/ok"), context("jobs-api", "r-3"))) as APIGatewayProxyStructuredResultV2;
    // The meter's list never reaches the client.
    expect(JSON.parse(res.body as string)).toEqual({});
    const line = (await jobs.get(JOB))!.cost!.lines.find((l) => l.item === "lambda:jobs-api")!;
    expect(line.basis).toContain("2 invocations");
  });
});

describe("a queued step's meter (the render canceller's shape)", () => {
  it("puts each invocation on the job of the event it handled, a failed delivery too (it ran and was paid for)", async () => {
    const jobs = createMemoryJobStore();
    await createDbWriter(async () => ({ jobs }))(clone(startedSample), context("db-writer", "w-1"));
    let fail = false;
    const step = queueStep(
      {
        name: "render-canceller",
        parse: (raw) => raw,
        jobIdOf: pipelineJobId,
        run: async () => {
          if (fail) throw new Error("remotion unavailable");
        },
        jobMeter: { jobs: async () => jobs, arch: "arm64" },
      },
      { maxReceiveCount: 5 },
    );
    const sqs = (id: string) => ({
      Records: [{ messageId: id, receiptHandle: id, body: JSON.stringify(startedSample), attributes: { ApproximateReceiveCount: "1" }, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:eu-west-1:1:q", awsRegion: "eu-west-1" }],
    });
    await step(sqs("m1") as never, context("render-canceller", "c-1"));
    fail = true;
    const res = (await step(sqs("m2") as never, context("render-canceller", "c-2"))) as { batchItemFailures: unknown[] };
    expect(res.batchItemFailures).toHaveLength(1);
    const line = (await jobs.get(JOB))!.cost!.lines.find((l) => l.item === "lambda:render-canceller")!;
    expect(line.basis).toContain("2 invocations");
    expect(line.unitPriceUsd).toBe(LAMBDA_PRICES.perGbSecond.arm64);
  });
});
