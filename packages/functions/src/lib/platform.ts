import type { BlobStore, Clock, EventPublisher, JobStore, Logger, Renderer, StepStateStore, VideoGenerator } from "@reelbridge/core";
import type { EndpointPolicy } from "@reelbridge/core/notify/ssrf";
import type { GetRenderProgress, RenderIndex } from "@reelbridge/core/render/ports";
import type { UploadSigner } from "@reelbridge/core/upload/ports";
import type { BudgetStore } from "@reelbridge/core/jobs/budget";
import type { StageConfig } from "../stage-config";
import type { SecretName } from "../topology";

/**
 * What a handler's dependencies are built from: the stage's config and the resources and outside
 * services of one platform — AWS (`awsPlatform()`, lib/aws-platform.ts: SDK clients, SST secrets,
 * Remotion Lambda, Lightricks) or the embedded runtime's local peers (packages/local). Each
 * handler module exports `buildDeps(platform)`; its `defaultDeps` is `buildDeps(awsPlatform())`
 * and the local runtime calls the same function, so a setting exists once.
 */
export interface Platform {
  readonly stage: string;
  readonly config: StageConfig;
  readonly clock: Clock;
  /** The media bucket. */
  blobs(): BlobStore;
  stepState(): StepStateStore;
  jobs(): JobStore;
  renderIndex(): RenderIndex;
  /** The owners' daily spend (stage config `budget`): the jobs table, reserved atomically. */
  budget(): BudgetStore;
  /** PutEvents to the pipeline bus as `producer`. */
  publisher(producer: string): EventPublisher;
  secret(name: SecretName): Promise<string>;
  /**
   * Where an endpoint of the topology is reached (its routes are under this URL): a Function URL
   * the function was given because it `reaches` that endpoint, or the local runtime's API base.
   * Undefined when this function was not given it.
   */
  endpointUrl(endpoint: string): string | undefined;
  /** Scratch space for `purpose` (Lambda: /tmp itself; locally a folder of the data dir's tmp/). */
  tmpDir(purpose: string): string;
  uploadSigner(): UploadSigner;
  /** The stage's image-to-video generator (stage config `ltx.provider`). */
  videoGenerator(opts: { logger: Logger }): Promise<VideoGenerator>;
  /** Remotion Lambda, or the local emulator; completion arrives through the signed webhook. */
  renderer(opts: { webhookSecret: string }): Renderer;
  renderProgress(): GetRenderProgress;
  /** Which webhook endpoints the notifier may call, and the stage-wide ones it always calls. */
  webhookPolicy(): EndpointPolicy;
  stageWebhookEndpoints(): string[];
  /** FFmpeg/ffprobe for the segmenter (undefined: FFMPEG_PATH/FFPROBE_PATH, as its zip sets them). */
  segmenterTools(): { ffmpegPath?: string; ffprobePath?: string };
  /** Render scale (0.25 for fast local previews); absent = 1, the composition's full size, as in AWS. */
  readonly renderScale?: number;
  /** A public origin for jobs/ media, when the stage has one (enables links.hls). */
  readonly publicMediaBaseUrl?: string;
}

/** An endpoint's URL plus one of its routes' paths, e.g. the render webhook Remotion posts to. */
export function endpointRouteUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}
