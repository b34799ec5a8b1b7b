import { createDynamoRenderIndex } from "@reelbridge/core/adapters/aws/dynamodb-render-index";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { createS3BlobStore } from "@reelbridge/core/adapters/aws/s3-blob-store";
import { handleRenderWebhook } from "@reelbridge/core/usecases/render-webhook";
import type { RenderWebhookDeps } from "@reelbridge/core/usecases/render-webhook";
import { dynamoDocClient, eventBridgeClient, eventBridgePublisher, s3Client } from "./lib/aws";
import { functionEnv, once, sstSecret } from "./lib/env";
import { httpEndpoint } from "./lib/handlers";

/** What the render webhook runs with (the logger comes from the endpoint wrapper). */
export type Deps = Omit<RenderWebhookDeps, "logger">;

export const NAME = "render-webhook";

export async function defaultDeps(): Promise<Deps> {
  const env = functionEnv();
  return {
    secret: await sstSecret("REMOTION_WEBHOOK_SECRET"),
    state: createDynamoStepStateStore(dynamoDocClient(), { table: env.jobsTable }),
    index: createDynamoRenderIndex(dynamoDocClient(), { table: env.jobsTable }),
    publisher: eventBridgePublisher(eventBridgeClient(), { busName: env.busName, producer: NAME }),
    blobs: createS3BlobStore(s3Client(), { bucket: env.mediaBucket }),
    clock: { now: () => new Date() },
  };
}

/**
 * POST /remotion-webhook (Lambda Function URL, auth "signature"): Remotion's signed webhook →
 * RenderCompleted | RenderFailed. A bad signature gets 401 and emits nothing; transient trouble
 * (the bus, the table) gets 500, so Remotion retries it.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  return httpEndpoint(NAME, async (req, logger) => {
    if (req.method !== "POST") return { status: 405, headers: { allow: "POST" }, body: { ok: false, error: "MethodNotAllowed" } };
    const res = await handleRenderWebhook({ ...(await deps()), logger }, { rawBody: req.rawBody, headers: req.headers });
    return { status: res.status, body: res.body };
  });
}

export const handler = createHandler();
