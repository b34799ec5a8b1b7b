import {
  cancelRenderOnLambda as remotionCancelRenderOnLambda,
  getRenderProgress as remotionGetRenderProgress,
  renderMediaOnLambda as remotionRenderMediaOnLambda,
} from "@remotion/lambda/client";
import type { AwsRegion, RenderMediaOnLambdaInput } from "@remotion/lambda/client";
import { FPS } from "@reelbridge/remotion/props";
import { PermanentError, TransientError } from "../../errors";
import type { RenderRequest, Renderer } from "../../ports";
import type { GetRenderProgress, RenderProgressSnapshot, RenderStartResult } from "../../render/ports";
import { reasonMessage } from "../../render/record";

/**
 * The Renderer port on Remotion Lambda (REFERENCE §2.1), through the light client
 * `@remotion/lambda/client` (meant for use inside Lambdas). renderMediaOnLambda returns as soon
 * as Remotion's main function accepted the render; completion arrives through the signed
 * webhook, and `getProgress` serves the watchdog.
 */

export interface RemotionLambdaRendererOptions {
  region: string;
  functionName: string;
  serveUrl: string;
  /** The media bucket: the output is written there (outName with the bucket, no ACL). */
  bucket: string;
  /** HMAC secret Remotion signs its webhook with (SST secret REMOTION_WEBHOOK_SECRET). */
  webhookSecret: string;
  /**
   * Frames each renderer Lambda renders. Remotion concatenates chunks without re-encoding, so
   * each chunk begins with a keyframe: a multiple of the GOP keeps keyframes exactly every
   * keyframeIntervalSeconds across chunk boundaries. Default: one GOP (60 frames = 2 s), which
   * also bounds a 60 s clip (+ end card) to 31 renderer Lambdas, far below Remotion's 200.
   */
  gopsPerLambda?: number;
  /** Retries of a failed chunk (Remotion's default is 1). */
  maxRetries?: number;
  /** delayRender timeout: how long media may take to load in the browser (default 60 s). */
  delayRenderTimeoutMs?: number;
  /** Remotion Company License key, when the team needs one. */
  licenseKey?: string;
  /** For tests and the emulator: the functions of @remotion/lambda/client. */
  renderMediaOnLambda?: typeof remotionRenderMediaOnLambda;
  getRenderProgress?: typeof remotionGetRenderProgress;
  cancelRenderOnLambda?: typeof remotionCancelRenderOnLambda;
}

export const REMOTION_LAMBDA_RENDERER = "remotion-lambda";

/** Remotion's webhook customData must stay under 1 KB once serialized, or it throws. */
const MAX_CUSTOM_DATA_BYTES = 1024;

const RATE_LIMITED = /TooManyRequestsException|Rate Exceeded|ConcurrentInvocationLimitExceeded|AWS Concurrency limit reached|ThrottlingException|SlowDown/i;
const BAD_REQUEST = /composition|input ?props|is not a valid codec|customData|must be|Multiple frame ranges|Too many functions|framesPerLambda|serveUrl/i;

/**
 * The one place Remotion's errors are sorted: throttling and service faults are transient
 * (the queue retries later); a request Remotion rejects for what it contains is permanent
 * (RenderStartFailed). Remotion throws plain Errors, so the message decides. Missing
 * functions, AccessDenied and bad credentials are configuration: transient, so the messages
 * reach the DLQ and can be redriven once the stage is fixed, instead of failing every job.
 */
export function classifyRemotionError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const text = `${e.name}: ${e.message}\n${e.stack ?? ""}`;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  if (RATE_LIMITED.test(text)) return new TransientError(`Remotion Lambda is rate limited: ${reasonMessage(e.message)}`, { cause: err, retryAfterSeconds: 30 });
  if ((status !== undefined && status >= 500) || /ServiceException|ECONNRESET|ETIMEDOUT|socket hang up|timed out|TimeoutError/i.test(text)) {
    return new TransientError(`Remotion Lambda is unavailable: ${reasonMessage(e.message)}`, { cause: err });
  }
  if (e instanceof TypeError || BAD_REQUEST.test(e.message)) {
    return new PermanentError("RenderStartFailed", reasonMessage(`Remotion Lambda rejected the render: ${e.message}`), { cause: err });
  }
  return new TransientError(`Remotion Lambda could not start the render: ${reasonMessage(e.message)}`, { cause: err });
}

export function createRemotionLambdaRenderer(opts: RemotionLambdaRendererOptions): Omit<Renderer, "start"> & {
  start(req: RenderRequest): Promise<RenderStartResult>;
  getProgress: GetRenderProgress;
  cancel(q: { renderId: string; bucketName?: string }): Promise<void>;
  /** The exact renderMediaOnLambda input for a request (exposed for tests and logs). */
  renderInput(req: RenderRequest): RenderMediaOnLambdaInput;
} {
  const render = opts.renderMediaOnLambda ?? remotionRenderMediaOnLambda;
  const progress = opts.getRenderProgress ?? remotionGetRenderProgress;
  const cancelOnLambda = opts.cancelRenderOnLambda ?? remotionCancelRenderOnLambda;
  const region = opts.region as AwsRegion;

  const renderInput = (req: RenderRequest): RenderMediaOnLambdaInput => {
    const gopSize = Math.round(FPS * req.keyframeIntervalSeconds);
    if (JSON.stringify(req.webhook.customData).length >= MAX_CUSTOM_DATA_BYTES) {
      throw new PermanentError("RenderStartFailed", "the webhook's customData must stay under 1 KB (Remotion's limit)");
    }
    return {
      region,
      functionName: opts.functionName,
      serveUrl: opts.serveUrl,
      composition: req.compositionId,
      inputProps: req.inputProps,
      codec: "h264",
      audioCodec: "aac",
      // Written straight into the media bucket at the pipeline's key, without an ACL (the
      // bucket enforces BucketOwnerEnforced; "public"/"private" would fail with ACLs disabled).
      outName: { bucketName: opts.bucket, key: req.outputKey },
      privacy: "no-acl",
      // A re-started render (crashed start, REFERENCE §2.1: default false in v4) must be able
      // to replace a partial or orphaned output at the same deterministic key.
      overwrite: true,
      // x264 `-g`: at most one keyframe interval between keyframes; chunks are a multiple of it.
      gopSize,
      framesPerLambda: gopSize * Math.max(1, opts.gopsPerLambda ?? 1),
      maxRetries: opts.maxRetries ?? 2,
      timeoutInMilliseconds: opts.delayRenderTimeoutMs ?? 60_000,
      downloadBehavior: { type: "play-in-browser" },
      webhook: { url: req.webhook.url, secret: opts.webhookSecret, customData: req.webhook.customData },
      metadata: { comment: `reelbridge job ${req.jobId}` },
      // A cancelled job's render can be stopped (cancelRenderOnLambda, docs/decisions/0009): each
      // renderer function then makes one S3 HEAD per second (REFERENCE §2.1, v4.0.515+).
      enableCancellation: true,
      // The scale the render step recorded the output size for; Remotion's default is 1.
      ...(req.scale !== undefined && req.scale !== 1 ? { scale: req.scale } : {}),
      ...(opts.licenseKey ? { licenseKey: opts.licenseKey } : {}),
    };
  };

  return {
    name: REMOTION_LAMBDA_RENDERER,
    renderInput,
    async start(req) {
      const input = renderInput(req);
      try {
        const res = await render(input);
        return { renderId: res.renderId, bucketName: res.bucketName };
      } catch (err) {
        throw classifyRemotionError(err);
      }
    },
    getProgress: createRemotionLambdaProgress({ region: opts.region, functionName: opts.functionName, getRenderProgress: progress }),
    async cancel({ renderId, bucketName }) {
      // Remotion writes renders/{renderId}/cancel.json into its bucket; the renderer functions stop
      // at their next poll (once a second). Without the bucket there is nothing to write to.
      if (!bucketName) throw new PermanentError("RenderError", `render ${renderId} has no recorded Remotion bucket; it cannot be cancelled`);
      try {
        await cancelOnLambda({ region, bucketName, renderId });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        // Refused for what the render is (started without enableCancellation, no progress.json any more): permanent.
        if (/enableCancellation|NoSuchKey|not found/i.test(e.message)) throw new PermanentError("RenderError", reasonMessage(`Remotion Lambda cannot cancel render ${renderId}: ${e.message}`), { cause: err });
        throw classifyRemotionError(err);
      }
    },
  };
}

/**
 * getRenderProgress for the watchdog (REFERENCE §2.3): one invocation of Remotion's function per
 * call, which reads the render's progress.json from Remotion's bucket (recorded at start).
 */
export function createRemotionLambdaProgress(opts: {
  region: string;
  functionName: string;
  getRenderProgress?: typeof remotionGetRenderProgress;
}): GetRenderProgress {
  const progress = opts.getRenderProgress ?? remotionGetRenderProgress;
  return async ({ renderId, bucketName }): Promise<RenderProgressSnapshot> => {
    if (!bucketName) throw new PermanentError("RenderError", `render ${renderId} has no recorded Remotion bucket; cannot read its progress`);
    let p: Awaited<ReturnType<typeof remotionGetRenderProgress>>;
    try {
      p = await progress({ renderId, bucketName, functionName: opts.functionName, region: opts.region as AwsRegion });
    } catch (err) {
      throw classifyRemotionError(err);
    }
    return {
      done: p.done,
      fatalErrorEncountered: p.fatalErrorEncountered,
      overallProgress: p.overallProgress,
      errors: (p.errors ?? []).map((e) => ({ name: e.name, message: e.message })),
      outputSizeInBytes: p.outputSizeInBytes,
      timeToFinishMs: p.timeToFinish,
      costs: p.costs ? { estimated: p.costs.accruedSoFar, currency: p.costs.currency, disclaimer: p.costs.disclaimer } : null,
    };
  };
}
