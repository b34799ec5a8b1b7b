import { LambdaClientInternals } from "@remotion/lambda/client";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { PermanentError, TransientError } from "../../../src/errors";
import { classifyRemotionError, createRemotionLambdaRenderer } from "../../../src/adapters/aws/remotion-lambda-renderer";
import type { RenderRequest } from "../../../src/ports";

// @remotion/lambda/client bundles its own copy of @aws-sdk/client-lambda, so the LambdaClient
// to mock is the class of the client Remotion itself creates, not the one in our node_modules.
// Its typings lag the SDK's @smithy/types (see s3-blob-store.test.ts): a narrow view of the stub.
interface LambdaStub {
  onAnyCommand(): { resolves(output: Record<string, unknown>): unknown; rejects(error: Error): unknown };
  calls(): Array<{ args: [{ input: Record<string, unknown> }] }>;
  reset(): void;
}
let lambda: LambdaStub;
beforeAll(() => {
  process.env.REMOTION_SKIP_AWS_CREDENTIALS_CHECK = "1";
  process.env.AWS_ACCESS_KEY_ID ??= "AKIAFAKE";
  process.env.AWS_SECRET_ACCESS_KEY ??= "fake";
  const client = LambdaClientInternals.getLambdaClient("eu-west-1", undefined, null);
  lambda = mockClient(client.constructor as never) as unknown as LambdaStub;
});
afterEach(() => lambda.reset());

const respond = (body: unknown) => ({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(body)) });
const sentPayload = (i = 0) => {
  const input = lambda.calls()[i]!.args[0].input as { FunctionName: string; InvocationType: string; Payload: string };
  return { ...input, body: JSON.parse(input.Payload) as Record<string, unknown> };
};

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const request: RenderRequest = {
  jobId: JOB,
  compositionId: "ReelVertical",
  inputProps: { title: "Lisbon", aspect: "9:16", baseVideoUrl: "https://b.s3.amazonaws.com/jobs/x/base.mp4?X-Amz-Signature=1", baseVideoDurationSeconds: 6, musicId: "sunrise" },
  outputKey: `jobs/${JOB}/final.mp4`,
  webhook: { url: "https://abc.lambda-url.eu-west-1.on.aws/", customData: { jobId: JOB } },
  keyframeIntervalSeconds: 2,
};
const renderer = () =>
  createRemotionLambdaRenderer({
    region: "eu-west-1",
    functionName: "remotion-render-4-0-527-mem2048mb-disk2048mb-240sec",
    serveUrl: "https://remotionlambda-euwest1-abc.s3.eu-west-1.amazonaws.com/sites/reelbridge/index.html",
    bucket: "reelbridge-prod-media",
    webhookSecret: "whsec",
  });

describe("Remotion Lambda renderer", () => {
  it("invokes Remotion's function with the webhook, the output in the media bucket and a 2 s GOP", async () => {
    lambda.onAnyCommand().resolves(respond({ type: "success", renderId: "8hfxlw7yoq", bucketName: "remotionlambda-euwest1-abc" }));
    const res = await renderer().start(request);

    expect(res).toEqual({ renderId: "8hfxlw7yoq", bucketName: "remotionlambda-euwest1-abc" });
    expect(lambda.calls()).toHaveLength(1);
    const sent = sentPayload();
    expect(sent.FunctionName).toBe("remotion-render-4-0-527-mem2048mb-disk2048mb-240sec");
    expect(sent.InvocationType).toBe("RequestResponse");
    expect(sent.body).toMatchObject({
      type: "start",
      composition: "ReelVertical",
      serveUrl: "https://remotionlambda-euwest1-abc.s3.eu-west-1.amazonaws.com/sites/reelbridge/index.html",
      codec: "h264",
      audioCodec: "aac",
      privacy: "no-acl",
      outName: { bucketName: "reelbridge-prod-media", key: `jobs/${JOB}/final.mp4` },
      webhook: { url: "https://abc.lambda-url.eu-west-1.on.aws/", secret: "whsec", customData: { jobId: JOB } },
      gopSize: 60,
      framesPerLambda: 60,
      overwrite: true,
      maxRetries: 2,
      downloadBehavior: { type: "play-in-browser" },
    });
    // Remotion serialises the props itself (inline while small).
    const props = sent.body.inputProps as { type: string; payload: string };
    expect(props.type).toBe("payload");
    expect(JSON.parse(props.payload)).toEqual(request.inputProps);
  });

  it("passes the request's render scale to renderMediaOnLambda, and none at 1 (Remotion's default)", async () => {
    expect(renderer().renderInput({ ...request, scale: 0.3 }).scale).toBe(0.3);
    expect(renderer().renderInput({ ...request, scale: 1 })).not.toHaveProperty("scale");
    expect(renderer().renderInput(request)).not.toHaveProperty("scale");

    lambda.onAnyCommand().resolves(respond({ type: "success", renderId: "8hfxlw7yoq", bucketName: "remotionlambda-euwest1-abc" }));
    await renderer().start({ ...request, scale: 0.3 });
    expect(sentPayload().body).toMatchObject({ type: "start", scale: 0.3 });
  });

  it("maps Remotion's rate limit to a transient error with a retry hint", async () => {
    lambda.onAnyCommand().rejects(Object.assign(new Error("Rate Exceeded."), { name: "TooManyRequestsException" }));
    const err = await renderer().start(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ retryAfterSeconds: 30 });
  });

  it("maps an error returned by Remotion's function about the request to RenderStartFailed", async () => {
    lambda.onAnyCommand().resolves(respond({ type: "error", message: "No composition with the ID ReelSquare found.", stack: "Error: ..." }));
    const err = await renderer().start({ ...request, compositionId: "ReelSquare" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: "RenderStartFailed" });
  });

  it("refuses customData over Remotion's 1 KB limit before calling AWS", async () => {
    const err = await renderer().start({ ...request, webhook: { ...request.webhook, customData: { jobId: JOB, pad: "x".repeat(1100) } } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "RenderStartFailed" });
    expect(lambda.calls()).toHaveLength(0);
  });

  it("reads progress through getRenderProgress for the watchdog", async () => {
    lambda.onAnyCommand().resolves(
      respond({
        type: "success",
        done: true,
        fatalErrorEncountered: false,
        overallProgress: 1,
        errors: [],
        outputSizeInBytes: 123,
        timeToFinish: 4567,
        costs: { accruedSoFar: 0.003, displayCost: "$0.003", currency: "USD", disclaimer: "estimate" },
      }),
    );
    const p = await renderer().getProgress({ renderId: "8hfxlw7yoq", bucketName: "remotionlambda-euwest1-abc" });
    expect(p).toEqual({ done: true, fatalErrorEncountered: false, overallProgress: 1, errors: [], outputSizeInBytes: 123, timeToFinishMs: 4567, costs: { estimated: 0.003, currency: "USD", disclaimer: "estimate" } });
    expect(sentPayload().body).toMatchObject({ type: "status", renderId: "8hfxlw7yoq", bucketName: "remotionlambda-euwest1-abc" });
  });
});

describe("classifyRemotionError", () => {
  it("treats 5xx and network errors as transient and unknown errors as transient", () => {
    expect(classifyRemotionError(Object.assign(new Error("boom"), { $metadata: { httpStatusCode: 503 } }))).toBeInstanceOf(TransientError);
    expect(classifyRemotionError(new Error("socket hang up"))).toBeInstanceOf(TransientError);
    expect(classifyRemotionError(new Error("ResourceNotFoundException: Function not found"))).toBeInstanceOf(TransientError);
    expect(classifyRemotionError(new TypeError("'av1' is not a valid codec for Lambda."))).toBeInstanceOf(PermanentError);
  });
});
