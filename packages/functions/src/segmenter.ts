import type { PipelineEvent } from "@reelbridge/events";
import { parseEvent } from "@reelbridge/events";
import { createFfmpegSegmenter } from "@reelbridge/core/adapters/ffmpeg/segmenter";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { failSegmenting, segmentVideo } from "@reelbridge/core/usecases/segment-video";
import type { SegmentVideoDeps } from "@reelbridge/core/usecases/segment-video";
import { once } from "./lib/env";
import { pipelineJobId, queueStep } from "./lib/handlers";
import { lambdaArchOf, stepLambdaCost, withStepCost } from "./lib/step-cost";
import type { QueueHandlerOptions } from "./lib/handlers";
import { queuedSubscriptionNamed } from "./lib/topology";
import { awsPlatform } from "./lib/aws-platform";
import type { Platform } from "./lib/platform";
import { awsVisibilityChanger } from "./lib/aws";

/** What the segmenter runs with; the local runtime passes its file blob store and local bus. */
export type Deps = Omit<SegmentVideoDeps, "logger">;

export const NAME = "segmenter";

const subscription = queuedSubscriptionNamed(NAME);
/** FFmpeg is killed this long before the function's own timeout, so the failure is ours to report. */
export const FFMPEG_TIMEOUT_MS = Math.max(30, subscription.timeoutSeconds - 30) * 1000;
/** Receives before the DLQ: the last one reports SegmentsFailed (RetriesExhausted) first. */
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;

/**
 * Dependencies from a platform (AWS, or the local runtime's peers). FFmpeg is the npm-shipped static
 * build: in Lambda its zip carries it and FFMPEG_PATH/FFPROBE_PATH say where (docs/decisions/0007).
 */
export async function buildDeps(p: Platform): Promise<Deps> {
  return {
    blobs: p.blobs(),
    segmenter: createFfmpegSegmenter({ timeoutMs: FFMPEG_TIMEOUT_MS, ...p.segmenterTools() }),
    publisher: p.publisher(NAME),
    tmpDir: p.tmpDir(NAME),
    state: p.stepState(),
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform());

/**
 * The segmenter: RenderCompleted → HLS rendition, clips and poster under jobs/{jobId}/, then
 * SegmentsReady. FFmpeg failing on the input → SegmentsFailed (from the use-case, with the end
 * of FFmpeg's stderr); an invalid event or another permanent error → SegmentsFailed from `fail`.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps), opts: QueueHandlerOptions = {}) {
  return queueStep<PipelineEvent<"RenderCompleted">>({
    name: NAME,
    parse: (raw) => parseEvent("RenderCompleted", raw),
    jobIdOf: pipelineJobId,
    // Follows the outcome: only the job's own recorded RenderCompleted is segmented.
    role: "follow",
    ledger: async () => {
      const { state } = await deps();
      return state ? createJobLedger(state) : undefined;
    },
    // Its invocations' GB-s go on SegmentsReady / SegmentsFailed (cost ledger, issue #13).
    usageStore: async () => (await deps()).state,
    run: async (event, ctx) => {
      const d = await deps();
      await segmentVideo({ ...d, publisher: withStepCost(d.publisher, ["SegmentsReady", "SegmentsFailed"], () => stepLambdaCost(ctx, NAME, lambdaArchOf(subscription))), logger: ctx.logger }, event);
    },
    fail: async (raw, reason, ctx) => {
      const d = await deps();
      await failSegmenting({ ...d, publisher: withStepCost(d.publisher, ["SegmentsFailed"], () => stepLambdaCost(ctx, NAME, lambdaArchOf(subscription))) }, raw, reason, ctx);
    },
  }, { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT });
}

export const handler = createHandler(undefined, { changeVisibility: awsVisibilityChanger });
