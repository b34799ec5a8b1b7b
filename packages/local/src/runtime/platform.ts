import { join } from "node:path";
import type { BlobStore, Clock, EventPublisher, JobStore, Renderer, StepStateStore, VideoGenerator } from "@reelbridge/core";
import { shippedFfmpeg } from "@reelbridge/core/adapters/ffmpeg/shipped";
import type { GetRenderProgress, RenderIndex } from "@reelbridge/core/render/ports";
import type { UploadSigner } from "@reelbridge/core/upload/ports";
import type { BudgetStore } from "@reelbridge/core/jobs/budget";
import type { Platform } from "@reelbridge/functions/lib/platform";
import type { StageConfig } from "@reelbridge/functions/stage-config";
import type { SecretName } from "@reelbridge/functions/topology";

/**
 * The embedded runtime's platform: the handlers' dependencies come from the same
 * `buildDeps(platform)` as in AWS, over the local peers (local S3, dynalite, the local bus, the
 * offline generator, the Remotion emulator, the demo webhook receiver).
 */
export interface LocalPlatformParts {
  config: StageConfig;
  clock: Clock;
  blobs: BlobStore;
  state: StepStateStore;
  jobs: JobStore;
  renderIndex: RenderIndex;
  /** The owners' daily spend: the same DynamoDB adapter over dynalite. */
  budget: BudgetStore;
  publisher(producer: string): EventPublisher;
  secrets: Record<SecretName, string>;
  /** Where the runtime mounts every endpoint (routes.ts). */
  apiBase: string;
  dataDir: string;
  uploadSigner: UploadSigner;
  generator: VideoGenerator;
  renderer: Renderer;
  renderProgress: GetRenderProgress;
  /** The demo webhook receiver: every job's notifications go there too. */
  stageWebhookEndpoints: string[];
  /** `reelbridge run --scale`: what the render step asks the renderer for (recorded as rendered). */
  renderScale?: number;
}

export function createLocalPlatform(p: LocalPlatformParts): Platform {
  return {
    stage: "local",
    config: p.config,
    clock: p.clock,
    blobs: () => p.blobs,
    stepState: () => p.state,
    jobs: () => p.jobs,
    renderIndex: () => p.renderIndex,
    budget: () => p.budget,
    publisher: (producer) => p.publisher(producer),
    secret: async (name) => p.secrets[name],
    // Every endpoint is served by the runtime's own server, reachable by every function.
    endpointUrl: () => p.apiBase,
    tmpDir: (purpose) => join(p.dataDir, "tmp", purpose),
    uploadSigner: () => p.uploadSigner,
    videoGenerator: async () => p.generator,
    renderer: () => p.renderer,
    renderProgress: () => p.renderProgress,
    // Local receivers listen on loopback; nothing leaves the machine.
    webhookPolicy: () => ({ requireHttps: false, allowPrivateForLocal: true }),
    stageWebhookEndpoints: () => p.stageWebhookEndpoints,
    // The FFmpeg the segmenter's zip carries in Lambda (decision 0007).
    segmenterTools: () => shippedFfmpeg(),
    ...(p.renderScale !== undefined ? { renderScale: p.renderScale } : {}),
  };
}
