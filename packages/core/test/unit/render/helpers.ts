import { createMemoryPublisher } from "../../../src/publish";
import { createMemoryRenderIndex, signRemotionWebhook } from "../../../src/render";
import { startRender } from "../../../src/usecases/start-render";
import { JOB_ID, fakeRenderer, manualClock, memoryBlobs, memoryState, sample, silentLogger } from "./fakes";

export const SECRET = "whsec-test-0123456789";
export const RENDER_ID = "8hfxlw7yoq";

/** A job whose render was started (state record, index entry, RenderStarted published). */
export async function startedJob() {
  const blobs = memoryBlobs();
  blobs.objects.set(`jobs/${JOB_ID}/base.mp4`, { bytes: new Uint8Array(100), contentType: "video/mp4" });
  const state = memoryState();
  const publisher = createMemoryPublisher();
  const clock = manualClock("2026-11-20T10:01:41.000Z");
  const index = createMemoryRenderIndex();
  const logger = silentLogger();
  await startRender(
    { blobs, renderer: fakeRenderer({ ids: [RENDER_ID] }), state, publisher, clock, index, webhookUrl: "https://hook.example/remotion", keyframeIntervalSeconds: 2 },
    sample("VideoBaseReady"),
    { logger },
  );
  publisher.published.length = 0;
  const writeOutput = (size = 9_120_442) => blobs.objects.set(`jobs/${JOB_ID}/final.mp4`, { bytes: new Uint8Array(size), contentType: "video/mp4" });
  return { blobs, state, publisher, clock, index, logger, writeOutput, deps: { secret: SECRET, state, publisher, blobs, clock, index, logger } };
}

/** The body and headers Remotion's invokeWebhook sends (compact JSON.stringify, signed). */
export function remotionDelivery(payload: Record<string, unknown>, secret = SECRET) {
  const rawBody = JSON.stringify(payload);
  return {
    rawBody,
    headers: {
      "content-type": "application/json",
      "x-remotion-mode": "production",
      "x-remotion-signature": signRemotionWebhook(secret, rawBody),
      "x-remotion-status": String(payload.type),
    } as Record<string, string>,
  };
}

const common = { renderId: RENDER_ID, expectedBucketOwner: "111122223333", bucketName: "remotionlambda-euwest1-abc", customData: { jobId: JOB_ID } };

export const successPayload = (over: Record<string, unknown> = {}) => ({
  ...common,
  type: "success",
  outputUrl: `https://reelbridge-prod-media.s3.eu-west-1.amazonaws.com/jobs/${JOB_ID}/final.mp4`,
  outputFile: `https://reelbridge-prod-media.s3.eu-west-1.amazonaws.com/jobs/${JOB_ID}/final.mp4`,
  lambdaErrors: [],
  timeToFinish: 36_512,
  costs: { estimatedCost: 0.0042, estimatedDisplayCost: "$0.0042", currency: "USD", disclaimer: "Estimated cost for function invocations only." },
  ...over,
});
export const errorPayload = (over: Record<string, unknown> = {}) => ({
  ...common,
  type: "error",
  errors: [
    {
      name: "Error",
      message: "Timed out loading https://reelbridge-prod-media.s3.eu-west-1.amazonaws.com/jobs/x/base.mp4?X-Amz-Credential=AKIA123&X-Amz-Security-Token=SECRET",
      stack: "Error: ...\n at x",
    },
  ],
  ...over,
});
export const timeoutPayload = (over: Record<string, unknown> = {}) => ({ ...common, type: "timeout", ...over });

export { JOB_ID };
