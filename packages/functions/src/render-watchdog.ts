import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { createDynamoRenderIndex } from "@reelbridge/core/adapters/aws/dynamodb-render-index";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { createRemotionLambdaProgress } from "@reelbridge/core/adapters/aws/remotion-lambda-renderer";
import { createS3BlobStore } from "@reelbridge/core/adapters/aws/s3-blob-store";
import { reconcileRenders } from "@reelbridge/core/usecases/render-watchdog";
import type { ReconcileSummary, RenderWatchdogDeps } from "@reelbridge/core/usecases/render-watchdog";
import { dynamoDocClient, eventBridgeClient, eventBridgePublisher, s3Client } from "./lib/aws";
import { functionEnv, once } from "./lib/env";
import { asLogger, makeLogger } from "./lib/handlers";
import { stageConfig } from "./stage-config";

/** What the watchdog runs with; the local runtime passes the emulator's progress and its stores. */
export type Deps = RenderWatchdogDeps;

export const NAME = "render-watchdog";

export async function defaultDeps(): Promise<Deps> {
  const env = functionEnv();
  const cfg = stageConfig(env.stage);
  return {
    state: createDynamoStepStateStore(dynamoDocClient(), { table: env.jobsTable }),
    index: createDynamoRenderIndex(dynamoDocClient(), { table: env.jobsTable }),
    publisher: eventBridgePublisher(eventBridgeClient(), { busName: env.busName, producer: NAME }),
    blobs: createS3BlobStore(s3Client(), { bucket: env.mediaBucket }),
    clock: { now: () => new Date() },
    getRenderProgress: createRemotionLambdaProgress({ region: cfg.remotion.region, functionName: cfg.remotion.functionName }),
    afterSeconds: cfg.remotion.watchdogAfterSeconds,
  };
}

/** Scheduled (topology `schedules`): settles renders whose webhook never arrived. */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  const logger = asLogger(makeLogger(NAME));
  return middy(async (_event: unknown, context: Context): Promise<ReconcileSummary> => {
    const d = await deps();
    // Renders left when the invocation runs short are checked by the next run.
    const remainingMs = typeof context?.getRemainingTimeInMillis === "function" ? () => context.getRemainingTimeInMillis() : undefined;
    return reconcileRenders({ ...d, logger }, { logger, ...(remainingMs ? { remainingMs } : {}) });
  });
}

export const handler = createHandler();
