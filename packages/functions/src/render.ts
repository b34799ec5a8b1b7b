import type { PipelineEvent } from "@reelbridge/events";
import { parseEvent } from "@reelbridge/events";
import { KEYFRAME_INTERVAL_SECONDS } from "@reelbridge/remotion/props";
import { createDynamoRenderIndex } from "@reelbridge/core/adapters/aws/dynamodb-render-index";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { createRemotionLambdaRenderer } from "@reelbridge/core/adapters/aws/remotion-lambda-renderer";
import { createS3BlobStore } from "@reelbridge/core/adapters/aws/s3-blob-store";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { failRenderStart, startRender } from "@reelbridge/core/usecases/start-render";
import type { StartRenderDeps } from "@reelbridge/core/usecases/start-render";
import { dynamoDocClient, eventBridgeClient, eventBridgePublisher, s3Client } from "./lib/aws";
import { functionEnv, once, requiredEnv, sstSecret } from "./lib/env";
import { pipelineJobId, queueStep } from "./lib/handlers";
import type { QueueHandlerOptions } from "./lib/handlers";
import { queuedSubscriptionNamed } from "./lib/topology";
import { endpointUrlEnv } from "./topology";
import { stageConfig } from "./stage-config";

/** What the render step runs with; the local runtime passes the Remotion emulator, its blob store and dynalite. */
export type Deps = StartRenderDeps;

export const NAME = "render-step";

const subscription = queuedSubscriptionNamed(NAME);
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;

/**
 * Production dependencies, once per cold start. RENDER_WEBHOOK_URL is the render-webhook
 * Function URL (set by stacks/); Remotion's function and site come from stage config
 * (scripts/deploy-remotion.ts prints them).
 */
export async function defaultDeps(): Promise<Deps> {
  const env = functionEnv();
  const cfg = stageConfig(env.stage);
  return {
    blobs: createS3BlobStore(s3Client(), { bucket: env.mediaBucket }),
    state: createDynamoStepStateStore(dynamoDocClient(), { table: env.jobsTable }),
    index: createDynamoRenderIndex(dynamoDocClient(), { table: env.jobsTable }),
    publisher: eventBridgePublisher(eventBridgeClient(), { busName: env.busName, producer: NAME }),
    renderer: createRemotionLambdaRenderer({
      region: cfg.remotion.region,
      functionName: cfg.remotion.functionName,
      serveUrl: cfg.remotion.serveUrl,
      bucket: env.mediaBucket,
      webhookSecret: await sstSecret("REMOTION_WEBHOOK_SECRET"),
    }),
    clock: { now: () => new Date() },
    webhookUrl: requiredEnv(endpointUrlEnv("render-webhook")),
    keyframeIntervalSeconds: KEYFRAME_INTERVAL_SECONDS,
  };
}

/**
 * The render step: VideoBaseReady through the render-step queue (bounded concurrency, so a
 * burst never exhausts the account's Lambda concurrency that Remotion fans out into).
 * A job that cannot be rendered, or that exhausted its retries, ends with RenderFailed.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps), opts: QueueHandlerOptions = {}) {
  return queueStep<PipelineEvent<"VideoBaseReady">>(
    {
      name: NAME,
      parse: (raw) => parseEvent("VideoBaseReady", raw),
      jobIdOf: pipelineJobId,
      // Starts work: only for a job the pipeline started, with its parameters, and no outcome yet.
      role: "act",
      ledger: async () => createJobLedger((await deps()).state),
      run: async (event, ctx) => {
        await startRender(await deps(), event, { logger: ctx.logger });
      },
      fail: async (raw, reason, ctx) => {
        const d = await deps();
        await failRenderStart({ state: d.state, publisher: d.publisher, rendererName: d.renderer.name, clock: d.clock }, raw, reason, ctx);
      },
    },
    { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT },
  );
}

export const handler = createHandler();
