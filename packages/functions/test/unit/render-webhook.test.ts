import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core";
import type { EventPublisher } from "@reelbridge/core";
import { createMemoryRenderIndex, signRemotionWebhook } from "@reelbridge/core/render/index";
import { startRender } from "@reelbridge/core/usecases/start-render";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { createHandler } from "../../src/render-webhook";
import type { Deps } from "../../src/render-webhook";
import type { PipelineEvent } from "@reelbridge/events";

process.env.LOG_LEVEL = "SILENT";
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const SECRET = "whsec-test";

async function setup(publisher: EventPublisher & { published: unknown[] } = createMemoryPublisher()) {
  const blobs = createMemoryBlobStore({ bucket: "reelbridge-prod-media" });
  blobs.seed(`jobs/${JOB}/base.mp4`, new Uint8Array(64), { contentType: "video/mp4" });
  const state = createMemoryStepStateStore();
  const clock = { now: () => new Date("2026-11-20T10:02:20Z") };
  await startRender(
    { blobs, state, publisher: createMemoryPublisher(), clock, renderer: { name: "remotion-lambda", start: async () => ({ renderId: "r1" }) }, webhookUrl: "https://x/", keyframeIntervalSeconds: 2 },
    structuredClone(readySample) as PipelineEvent<"VideoBaseReady">,
    { logger: { debug() {}, info() {}, warn() {}, error() {} } },
  );
  blobs.seed(`jobs/${JOB}/final.mp4`, new Uint8Array(4096), { contentType: "video/mp4" });
  const deps: Deps = { secret: SECRET, state, publisher, blobs, clock, index: createMemoryRenderIndex() };
  return { publisher, handler: createHandler(async () => deps) };
}

const body = JSON.stringify({ type: "success", renderId: "r1", bucketName: "remotionlambda-x", expectedBucketOwner: "1", customData: { jobId: JOB }, lambdaErrors: [], timeToFinish: 1000, costs: { estimatedCost: 0.001, estimatedDisplayCost: "$0.001", currency: "USD", disclaimer: "d" } });
const request = (rawBody: string, headers: Record<string, string>, method = "POST", base64 = false): APIGatewayProxyEventV2 =>
  ({
    version: "2.0",
    routeKey: "$default",
    rawPath: "/remotion-webhook",
    rawQueryString: "",
    headers,
    requestContext: { http: { method, path: "/remotion-webhook" } },
    body: base64 ? Buffer.from(rawBody).toString("base64") : rawBody,
    isBase64Encoded: base64,
  }) as unknown as APIGatewayProxyEventV2;
const call = (h: Awaited<ReturnType<typeof setup>>["handler"], e: APIGatewayProxyEventV2) => h(e, {} as Context) as Promise<APIGatewayProxyStructuredResultV2>;
// Function URLs lower-case header names.
const signed = (b: string) => ({ "content-type": "application/json", "x-remotion-mode": "production", "x-remotion-status": "success", "x-remotion-signature": signRemotionWebhook(SECRET, b) });

describe("render-webhook handler", () => {
  it("answers 200 and emits RenderCompleted for a signed webhook (also when the body arrives base64-encoded)", async () => {
    const t = await setup();
    const res = await call(t.handler, request(body, signed(body), "POST", true));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body!)).toMatchObject({ ok: true, result: "RenderCompleted" });
    expect(t.publisher.published).toHaveLength(1);
  });

  it("answers 401 and emits nothing when the signature is wrong", async () => {
    const t = await setup();
    const res = await call(t.handler, request(body.replace("1000", "1001"), signed(body)));
    expect(res.statusCode).toBe(401);
    expect(t.publisher.published).toEqual([]);
  });

  it("answers 405 to anything but POST", async () => {
    const t = await setup();
    expect((await call(t.handler, request("", {}, "GET"))).statusCode).toBe(405);
  });

  it("answers 500 when the bus fails, so Remotion retries", async () => {
    const failing = Object.assign(createMemoryPublisher(), {
      publish: async () => {
        throw new Error("EventBridge down");
      },
    });
    const t = await setup(failing);
    const res = await call(t.handler, request(body, signed(body)));
    expect(res.statusCode).toBe(500);
  });
});
