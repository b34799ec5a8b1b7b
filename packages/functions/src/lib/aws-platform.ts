import { tmpdir } from "node:os";
import { createDynamoBudgetStore } from "@reelbridge/core/adapters/aws/dynamodb-budget-store";
import { createDynamoJobStore } from "@reelbridge/core/adapters/aws/dynamodb-job-store";
import { createDynamoRenderIndex } from "@reelbridge/core/adapters/aws/dynamodb-render-index";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { createS3BlobStore } from "@reelbridge/core/adapters/aws/s3-blob-store";
import { stageConfig } from "../stage-config";
import type { StageConfig } from "../stage-config";
import { endpointUrlEnv } from "../topology";
import { dynamoDocClient, eventBridgeClient, eventBridgePublisher, s3Client } from "./aws";
import { functionEnv, optionalEnv, sstSecret } from "./env";
import type { FunctionEnv } from "./env";
import type { Platform } from "./platform";

/** The outside services a function may use; each handler module passes only the ones it needs. */
export type ServiceKey = "videoGenerator" | "renderer" | "renderProgress" | "uploadSigner";
export interface AwsContext {
  env: FunctionEnv;
  config: StageConfig;
}
/**
 * An outside service's AWS adapter, from lib/aws-services/. Passed in by the handler module that
 * uses it, so a function's bundle carries only its own adapters (the LTX step's sharp, the render
 * step's Remotion client), not every function's.
 */
export type AwsServices = { [K in ServiceKey]?: (ctx: AwsContext) => Platform[K] };

/**
 * The AWS platform of a Lambda, built once per cold start (handlers call it from a `once`d
 * defaultDeps): the environment stacks/ gave the function (lib/env.ts reads it), its stage's
 * config, SDK clients, SST secrets, and the outside services its module passes.
 */
export function awsPlatform(services: AwsServices = {}): Platform {
  const env = functionEnv();
  const config = stageConfig(env.stage);
  const ctx: AwsContext = { env, config };
  const table = { table: env.jobsTable };
  const service = <K extends ServiceKey>(key: K): Platform[K] => {
    const make = services[key];
    if (!make) throw new Error(`this function was built without the ${key} service (pass it to awsPlatform in its module)`);
    return make(ctx) as Platform[K];
  };
  const publicMediaBaseUrl = optionalEnv("PUBLIC_MEDIA_URL");
  return {
    stage: env.stage,
    config,
    clock: { now: () => new Date() },
    blobs: () => createS3BlobStore(s3Client(), { bucket: env.mediaBucket }),
    stepState: () => createDynamoStepStateStore(dynamoDocClient(), table),
    jobs: () => createDynamoJobStore(dynamoDocClient(), table),
    renderIndex: () => createDynamoRenderIndex(dynamoDocClient(), table),
    budget: () => createDynamoBudgetStore(dynamoDocClient(), table),
    publisher: (producer) => eventBridgePublisher(eventBridgeClient(), { busName: env.busName, producer }),
    secret: (name) => sstSecret(name),
    endpointUrl: (endpoint) => optionalEnv(endpointUrlEnv(endpoint)),
    // Lambda's only writable directory; each use-case makes its own folders in it.
    tmpDir: () => optionalEnv("TMPDIR") ?? tmpdir(),
    videoGenerator: (opts) => service("videoGenerator")(opts),
    renderer: (opts) => service("renderer")(opts),
    renderProgress: () => service("renderProgress")(),
    uploadSigner: () => service("uploadSigner")(),
    // AWS stages never allow private or loopback webhook targets.
    webhookPolicy: () => ({ requireHttps: config.notifier.requireHttps }),
    stageWebhookEndpoints: () => config.notifier.endpoints,
    // FFMPEG_PATH/FFPROBE_PATH, which stacks/lib/native.ts sets to the binaries in the zip.
    segmenterTools: () => ({}),
    ...(publicMediaBaseUrl ? { publicMediaBaseUrl } : {}),
  };
}
