import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core";
import type { Logger } from "@reelbridge/core";
import { createRemotionLambdaRenderer } from "@reelbridge/core/adapters/aws/remotion-lambda-renderer";
import { createFileBlobStore } from "@reelbridge/core/adapters/local/file-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/core/jobs/memory";
import { createMemoryRenderIndex } from "@reelbridge/core/render/index";
import { handleRenderWebhook } from "@reelbridge/core/usecases/render-webhook";
import { startRender } from "@reelbridge/core/usecases/start-render";
import type { PipelineEvent } from "@reelbridge/events";
import { createLocalRemotion } from "../../../src/remotion-emulator";
import type { LocalRender } from "../../../src/remotion-emulator";
import { REMOTION_VERSION, startRemotionLambdaApi } from "../../../src/remotion-emulator/lambda-api";
import type { RemotionLambdaApi } from "../../../src/remotion-emulator/lambda-api";

/**
 * Issue #12 item 7, through the REAL @remotion/lambda/client: the scale the render step passes to
 * renderMediaOnLambda reaches the emulator's render, and the settled render announces the size
 * rendered at that scale. No Chromium: the render is a fake that records its options.
 */
const REGION = "us-east-1";
const FUNCTION = "remotion-render-4-0-527-mem2048mb-disk2048mb-240sec";
const SECRET = "stage-webhook-secret";
const BUCKET = "local-media";
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const readySample = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../../../events/samples/v1/VideoBaseReady.json"), "utf8")) as PipelineEvent<"VideoBaseReady">;

const rendered: Array<Parameters<LocalRender>[0]> = [];
const render: LocalRender = async (o) => {
  rendered.push(o);
  await writeFile(o.outputPath, new Uint8Array(4096));
  return { outputPath: o.outputPath, sizeBytes: 4096, durationSeconds: 8, width: 324, height: 576, fps: 30, timeToFinishMs: 3 };
};

const ENV = ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "REMOTION_AWS_PROFILE", "REMOTION_AWS_ACCESS_KEY_ID", "REMOTION_AWS_SECRET_ACCESS_KEY"] as const;
const savedEnv = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

let dir: string;
let api: RemotionLambdaApi;
let receiver: Server;
let webhookUrl: string;
let emulator: ReturnType<typeof createLocalRemotion>;
let blobs: ReturnType<typeof createFileBlobStore>;
const state = createMemoryStepStateStore();
const index = createMemoryRenderIndex();
const publisher = createMemoryPublisher();
const clock = { now: () => new Date() };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "remotion-lambda-api-scale-"));
  blobs = createFileBlobStore({ root: path.join(dir, "store"), bucket: BUCKET, publicBaseUrl: "http://127.0.0.1:9", signingKey: "k" });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
      handleRenderWebhook({ secret: SECRET, state, publisher, blobs, clock, index, logger: quiet }, { rawBody: Buffer.concat(chunks).toString("utf8"), headers })
        .then((r) => res.writeHead(r.status, { "content-type": "application/json" }).end(JSON.stringify(r.body)))
        .catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/remotion-webhook`;
  // The deprecated emulator option must not override what the request asks for.
  emulator = createLocalRemotion({ render, blobs, webhookSecret: "emulator-default-secret", tmpDir: path.join(dir, "tmp"), webhookRetryDelayMs: () => 5, scale: 0.25 });
  api = await startRemotionLambdaApi({ emulator, blobs, functionName: FUNCTION, region: REGION, logger: quiet });
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
});

const lambdaRenderer = () =>
  createRemotionLambdaRenderer({ region: REGION, functionName: FUNCTION, serveUrl: "https://remotionlambda-useast1-example.s3.us-east-1.amazonaws.com/sites/reelbridge/index.html", bucket: BUCKET, webhookSecret: SECRET });

const startPayload = (over: Record<string, unknown>) =>
  new Promise<{ type: string; message?: string }>((resolve, reject) => {
    const body = JSON.stringify({ type: "start", version: REMOTION_VERSION, composition: "ReelVertical", serveUrl: "x", inputProps: { type: "payload", payload: "{}" }, codec: "h264", outName: null, webhook: null, ...over });
    const req = httpRequest(`${api.url}/2015-03-31/functions/${FUNCTION}/invocations`, { method: "POST", headers: { authorization: "AWS4-HMAC-SHA256 x", "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type: string; message?: string }));
    });
    req.on("error", reject);
    req.end(body);
  });

describe("the render scale through Remotion Lambda's Invoke API over the local emulator", () => {
  it("the render step's scale reaches the emulator's render through renderMediaOnLambda, and RenderCompleted says 324×576", async () => {
    const { renderId } = await startRender(
      { blobs, state, publisher, clock, index, renderer: lambdaRenderer(), webhookUrl, keyframeIntervalSeconds: 2, scale: 0.3 },
      structuredClone(readySample),
      { logger: quiet },
    );
    await emulator.idle();
    expect(rendered.map((r) => r.scale)).toEqual([0.3]);
    expect(emulator.request(renderId!)?.scale).toBe(0.3);
    const completed = publisher.published.find((e) => e.type === "RenderCompleted");
    expect(completed?.data).toMatchObject({ renderId, video: { width: 324, height: 576 } });
  });

  it("renderMediaOnLambda without a scale sends Remotion's default, 1, which the emulator renders at", async () => {
    const req = { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AC", compositionId: "ReelVertical", inputProps: { title: "x" }, outputKey: "jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AC/final.mp4", webhook: { url: webhookUrl, customData: { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AC" } }, keyframeIntervalSeconds: 2 };
    await lambdaRenderer().start(req);
    await emulator.idle();
    expect(rendered.map((r) => r.scale)).toEqual([1]);
  });

  it("refuses a scale Remotion refuses, naming the field", async () => {
    for (const scale of [0, -1, 17, "0.5"]) expect(await startPayload({ scale })).toMatchObject({ type: "error", message: expect.stringContaining("scale") });
    expect(await startPayload({ scale: 0.5 })).toMatchObject({ type: "success" });
    await emulator.idle();
    expect(rendered.map((r) => r.scale)).toEqual([0.5]);
  });
});
