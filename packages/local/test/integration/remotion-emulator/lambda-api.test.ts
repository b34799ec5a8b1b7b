import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryPublisher, PermanentError, TransientError } from "@reelbridge/core";
import type { Logger, RenderRequest } from "@reelbridge/core";
import { classifyRemotionError, createRemotionLambdaProgress, createRemotionLambdaRenderer } from "@reelbridge/core/adapters/aws/remotion-lambda-renderer";
import { createMemoryRenderIndex } from "@reelbridge/core/render/index";
import { verifyRemotionSignature } from "@reelbridge/core/render/signature";
import { handleRenderWebhook } from "@reelbridge/core/usecases/render-webhook";
import { startRender } from "@reelbridge/core/usecases/start-render";
import type { PipelineEvent } from "@reelbridge/events";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { createLocalRemotion } from "../../../src/remotion-emulator";
import type { LocalRender } from "../../../src/remotion-emulator";
import { MAX_INVOKE_PAYLOAD_BYTES, REMOTION_VERSION, startRemotionLambdaApi } from "../../../src/remotion-emulator/lambda-api";
import type { RemotionLambdaApi } from "../../../src/remotion-emulator/lambda-api";

/**
 * The Remotion emulator reached the way a deployed bundle reaches Remotion Lambda: the REAL
 * @remotion/lambda/client (inside core's Remotion Lambda adapter) invoking the function over the
 * Lambda Invoke API, pointed here by AWS_ENDPOINT_URL_LAMBDA alone. No Chromium: the emulator's
 * render is a fake that records what it was asked to render.
 */
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const REGION = "us-east-1";
const FUNCTION = "remotion-render-4-0-527-mem2048mb-disk2048mb-240sec";
const SECRET = "stage-webhook-secret";
const BUCKET = "local-media";
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const rendered: Array<Parameters<LocalRender>[0]> = [];
const render: LocalRender = async (o) => {
  rendered.push(o);
  await writeFile(o.outputPath, new Uint8Array(4096));
  o.onProgress?.({ progress: 1, renderedFrames: 240, encodedFrames: 240 });
  return { outputPath: o.outputPath, sizeBytes: 4096, durationSeconds: 8, width: 1080, height: 1920, fps: 30, timeToFinishMs: 3 };
};

const ENV = ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "REMOTION_AWS_PROFILE", "REMOTION_AWS_ACCESS_KEY_ID", "REMOTION_AWS_SECRET_ACCESS_KEY"] as const;
const savedEnv = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

let dir: string;
let api: RemotionLambdaApi;
let receiver: Server;
let webhookUrl: string;
const blobs = createMemoryBlobStore({ bucket: BUCKET, presign: (key) => `http://127.0.0.1:9/${BUCKET}/${key}?X-Amz-Signature=local` });
const state = createMemoryStepStateStore();
const index = createMemoryRenderIndex();
const publisher = createMemoryPublisher();
const clock = { now: () => new Date() };
const received: Array<{ rawBody: string; headers: Record<string, string | undefined>; status: number }> = [];
let emulator: ReturnType<typeof createLocalRemotion>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "remotion-lambda-api-"));
  // The webhook endpoint: the real render-webhook use-case over the raw body, as the Function URL runs it.
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
      const rawBody = Buffer.concat(chunks).toString("utf8");
      handleRenderWebhook({ secret: SECRET, state, publisher, blobs, clock, index, logger: quiet }, { rawBody, headers })
        .then((r) => {
          received.push({ rawBody, headers, status: r.status });
          res.writeHead(r.status, { "content-type": "application/json" }).end(JSON.stringify(r.body));
        })
        .catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/remotion-webhook`;

  // The emulator's own secret differs from the stage's: the webhook must be signed with the one the render step sent.
  emulator = createLocalRemotion({ render, blobs, webhookSecret: "emulator-default-secret", tmpDir: dir, webhookRetryDelayMs: () => 5 });
  api = await startRemotionLambdaApi({ emulator, blobs, functionName: FUNCTION, region: REGION, logger: quiet });

  // What a bundle gets, and nothing else: Remotion's Lambda client resolves its endpoint from these.
  for (const k of ENV) delete process.env[k];
  process.env.AWS_ENDPOINT_URL_LAMBDA = api.url;
  process.env.AWS_ACCESS_KEY_ID = "local";
  process.env.AWS_SECRET_ACCESS_KEY = "local";
});

afterAll(async () => {
  for (const k of ENV) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  await emulator.close();
  await api.close();
  await new Promise<void>((r) => receiver.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  rendered.length = 0;
  received.length = 0;
});

const lambdaRenderer = (functionName = FUNCTION) =>
  createRemotionLambdaRenderer({ region: REGION, functionName, serveUrl: "https://remotionlambda-useast1-example.s3.us-east-1.amazonaws.com/sites/reelbridge/index.html", bucket: BUCKET, webhookSecret: SECRET });

/** Raw Invoke over HTTP, for what the SDK would never send. */
const invoke = (opts: { functionName?: string; body?: string | Buffer; headers?: Record<string, string> }) =>
  new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const body = opts.body ?? "{}";
    const req = httpRequest(
      `${api.url}/2015-03-31/functions/${encodeURIComponent(opts.functionName ?? FUNCTION)}/invocations`,
      { method: "POST", headers: { authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00", "content-length": String(Buffer.byteLength(body)), ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });

describe("Remotion Lambda's Invoke API over the local emulator, through the real @remotion/lambda/client", () => {
  it("the render step starts a render; the fake render gets its composition and props; the signed webhook settles it; getRenderProgress reports done", async () => {
    const renderer = lambdaRenderer();
    const sent: RenderRequest[] = [];
    const recording = { ...renderer, start: (req: RenderRequest) => (sent.push(structuredClone(req)), renderer.start(req)) };

    const { renderId } = await startRender(
      { blobs, state, publisher, clock, index, renderer: recording, webhookUrl, keyframeIntervalSeconds: 2 },
      structuredClone(readySample) as PipelineEvent<"VideoBaseReady">,
      { logger: quiet },
    );
    expect(renderId).toMatch(/^[a-z0-9]{10}$/);
    expect(api.invocations.at(-1)).toEqual({ functionName: FUNCTION, routine: "start", status: 200 });
    await emulator.idle();

    // What the render step sent is what the emulator rendered.
    expect(sent).toHaveLength(1);
    expect(rendered).toHaveLength(1);
    expect(rendered[0]!.compositionId).toBe(sent[0]!.compositionId);
    expect(rendered[0]!.inputProps).toEqual(sent[0]!.inputProps);
    expect(blobs.objects.get(sent[0]!.outputKey)?.bytes.byteLength).toBe(4096);

    // The webhook arrived signed with the secret the render step passed to Remotion.
    const hooks = received.filter((r) => r.status !== 503);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.status).toBe(200);
    expect(verifyRemotionSignature(SECRET, hooks[0]!.rawBody, hooks[0]!.headers["x-remotion-signature"])).toBe(true);
    expect(hooks[0]!.headers["x-remotion-status"]).toBe("success");
    expect(JSON.parse(hooks[0]!.rawBody)).toMatchObject({ type: "success", renderId, bucketName: BUCKET, customData: { jobId: JOB } });
    expect(publisher.published.map((e) => e.type)).toEqual(["RenderStarted", "RenderCompleted"]);

    // getRenderProgress through the adapter (the watchdog's path): done, with the output.
    const progress = await renderer.getProgress({ renderId: renderId!, bucketName: BUCKET });
    expect(progress).toMatchObject({ done: true, fatalErrorEncountered: false, overallProgress: 1, errors: [], outputSizeInBytes: 4096, costs: { estimated: 0, currency: "USD" } });
    expect(api.invocations.at(-1)).toEqual({ functionName: FUNCTION, routine: "status", status: 200 });
  });

  it("answers the status routine with getRenderProgress's fields (outputFile, outKey, outBucket)", async () => {
    const req: RenderRequest = { jobId: JOB, compositionId: "ReelVertical", inputProps: { title: "x", when: "2026-01-01" }, outputKey: `jobs/${JOB}/final.mp4`, webhook: { url: webhookUrl, customData: { jobId: JOB } }, keyframeIntervalSeconds: 2 };
    const { renderId, bucketName } = await lambdaRenderer().start(req);
    expect(bucketName).toBe(BUCKET);
    await emulator.idle();
    // The wire answer (the adapter keeps only part of it), to the payload getRenderProgressPayload sends.
    const raw = await invoke({ body: JSON.stringify({ type: "status", bucketName: BUCKET, renderId, version: REMOTION_VERSION, s3OutputProvider: null, logLevel: "info", forcePathStyle: false }) });
    expect(raw.status).toBe(200);
    const p: unknown = JSON.parse(raw.body);
    expect(p).toMatchObject({ type: "success", renderId, done: true, outKey: `jobs/${JOB}/final.mp4`, outBucket: BUCKET, outputFile: expect.stringContaining(`/${BUCKET}/jobs/${JOB}/final.mp4`) });
  });

  it("an unknown function is Lambda's ResourceNotFoundException (404), which the adapter treats as configuration: transient", async () => {
    const err = await lambdaRenderer("remotion-render-not-deployed").start({ jobId: JOB, compositionId: "ReelVertical", inputProps: {}, outputKey: "x.mp4", webhook: { url: webhookUrl, customData: { jobId: JOB } }, keyframeIntervalSeconds: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    const cause = (err as TransientError).cause as Error & { $metadata?: { httpStatusCode?: number } };
    expect(cause.name).toBe("ResourceNotFoundException");
    expect(cause.message).toBe(`Function not found: arn:aws:lambda:${REGION}:000000000000:function:remotion-render-not-deployed`);
    expect(cause.$metadata?.httpStatusCode).toBe(404);
    expect(rendered).toHaveLength(0);

    const progress = createRemotionLambdaProgress({ region: REGION, functionName: "remotion-render-not-deployed" });
    await expect(progress({ renderId: "abcdefghij", bucketName: BUCKET })).rejects.toBeInstanceOf(TransientError);
  });

  it("a render the emulator does not know fails the status routine as Remotion's function does (an Unhandled function error): transient for the watchdog", async () => {
    const progress = createRemotionLambdaProgress({ region: REGION, functionName: FUNCTION });
    const err = await progress({ renderId: "zzzzzzzzzz", bucketName: BUCKET }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(((err as TransientError).cause as Error).message).toBe("Lambda function returned error: Unhandled undefined");

    const raw = await invoke({ body: JSON.stringify({ type: "status", version: REMOTION_VERSION, bucketName: BUCKET, renderId: "zzzzzzzzzz" }), headers: { "x-amz-log-type": "Tail" } });
    expect(raw.status).toBe(200);
    expect(raw.headers["x-amz-function-error"]).toBe("Unhandled");
    expect(JSON.parse(raw.body)).toMatchObject({ errorType: "TypeError", errorMessage: `No render with ID "zzzzzzzzzz" found in bucket ${BUCKET} and region ${REGION}` });
    expect(Buffer.from(String(raw.headers["x-amz-log-result"]), "base64").toString()).toContain("No render with ID");
  });

  it("a start the function refuses comes back as Remotion's { type: 'error' }, thrown by the client and classified by the adapter", async () => {
    // outName into a bucket the emulator does not hold: the function answers an error (configuration → transient).
    const other = createRemotionLambdaRenderer({ region: REGION, functionName: FUNCTION, serveUrl: "https://example.invalid/site", bucket: "someone-elses-bucket", webhookSecret: SECRET });
    const err = await other.start({ jobId: JOB, compositionId: "ReelVertical", inputProps: {}, outputKey: "x.mp4", webhook: { url: webhookUrl, customData: { jobId: JOB } }, keyframeIntervalSeconds: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(((err as TransientError).cause as Error).message).toBe(`The local Remotion emulator writes only to bucket ${BUCKET}, not someone-elses-bucket`);

    // A malformed start payload (no composition): an error answer naming the field; the adapter's rules make it permanent.
    const raw = await invoke({ body: JSON.stringify({ type: "start", version: REMOTION_VERSION, serveUrl: "x", inputProps: { type: "payload", payload: "{}" }, codec: "h264", outName: null, webhook: null }) });
    expect(raw.status).toBe(200);
    expect(raw.headers["x-amz-function-error"]).toBeUndefined();
    const answer = JSON.parse(raw.body) as { type: string; message: string };
    expect(answer).toMatchObject({ type: "error", message: expect.stringMatching(/^Invalid start payload: composition: /) });
    expect(classifyRemotionError(new Error(answer.message))).toBeInstanceOf(PermanentError);

    // Keys that would escape the bucket on disk, props that are not an object: refused at start, nothing rendered.
    const startWith = (over: Record<string, unknown>) =>
      invoke({ body: JSON.stringify({ type: "start", version: REMOTION_VERSION, composition: "ReelVertical", serveUrl: "x", inputProps: { type: "payload", payload: "{}" }, codec: "h264", outName: null, webhook: null, ...over }) }).then((r) => JSON.parse(r.body) as { type: string; message?: string });
    expect(await startWith({ outName: { bucketName: BUCKET, key: "../../etc/passwd" } })).toMatchObject({ type: "error", message: expect.stringContaining("outName: invalid object key") });
    expect(await startWith({ inputProps: { type: "payload", payload: "[1,2]" } })).toMatchObject({ type: "error", message: "inputProps must be a JSON object" });
    expect(await startWith({ inputProps: { type: "bucket-url", hash: "../x", bucketName: BUCKET } })).toMatchObject({ type: "error", message: expect.stringContaining("inputProps.hash") });
    expect(await startWith({ codec: "vp8" })).toMatchObject({ type: "error", message: expect.stringContaining("renders codec h264") });

    // Props above Lambda's inline limit arrive as a bucket-url: read from the emulator's bucket.
    blobs.seed("input-props/big0props.json", new TextEncoder().encode(JSON.stringify({ title: "from the bucket", at: "remotion-date:2026-01-01T00:00:00.000Z" })));
    const fromBucket = await startWith({ inputProps: { type: "bucket-url", hash: "big0props", bucketName: BUCKET } });
    expect(fromBucket).toMatchObject({ type: "success", bucketName: BUCKET });
    await emulator.idle();
    expect(rendered.map((r) => r.inputProps)).toEqual([{ title: "from the bucket", at: new Date("2026-01-01T00:00:00.000Z") }]);
    rendered.length = 0;

    // A client of another Remotion version: Remotion's version-mismatch error.
    const mismatch = await invoke({ body: JSON.stringify({ type: "status", version: "4.0.1", bucketName: BUCKET, renderId: "abc" }) });
    expect(JSON.parse(mismatch.body)).toMatchObject({ errorMessage: expect.stringContaining("Version mismatch") });
    expect(rendered).toHaveLength(0);
  });

  it("answers Lambda's own errors for what never reaches the function: bad JSON, oversized bodies, unsigned requests, other operations", async () => {
    const bad = await invoke({ body: "{not json" });
    expect(bad).toMatchObject({ status: 400, headers: { "x-amzn-errortype": "InvalidRequestContentException" } });
    expect(JSON.parse(bad.body)).toMatchObject({ Type: "User", Message: expect.stringContaining("Could not parse request body into json") });

    // Refused on Content-Length, before any of the body is read.
    const declared = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${api.url}/2015-03-31/functions/${FUNCTION}/invocations`, { method: "POST", headers: { authorization: "AWS4-HMAC-SHA256 x", "content-length": String(MAX_INVOKE_PAYLOAD_BYTES + 1) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write("{");
    });
    expect(declared).toBe(413);

    // Chunked (no Content-Length): cut off once the cap is crossed.
    const chunked = await new Promise<{ status: number; type: unknown }>((resolve, reject) => {
      const req = httpRequest(`${api.url}/2015-03-31/functions/${FUNCTION}/invocations`, { method: "POST", headers: { authorization: "AWS4-HMAC-SHA256 x", "transfer-encoding": "chunked" } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, type: res.headers["x-amzn-errortype"] });
      });
      req.on("error", () => {});
      const piece = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 7; i++) req.write(piece);
      req.end();
      setTimeout(() => reject(new Error("no answer to an oversized chunked body")), 10_000).unref();
    });
    expect(chunked).toEqual({ status: 413, type: "RequestTooLargeException" });

    const unsigned = await invoke({ headers: { authorization: "" } });
    expect(unsigned).toMatchObject({ status: 403, headers: { "x-amzn-errortype": "MissingAuthenticationTokenException" } });

    const qualified = await invoke({ functionName: `${FUNCTION}:live` });
    expect(qualified).toMatchObject({ status: 404, headers: { "x-amzn-errortype": "ResourceNotFoundException" } });

    const dryRun = await invoke({ headers: { "x-amz-invocation-type": "DryRun" } });
    expect(dryRun.status).toBe(204);
    expect(rendered).toHaveLength(0);
  });
});
