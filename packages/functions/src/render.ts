import { parseEvent } from "@reelbridge/events";
import { KEYFRAME_INTERVAL_SECONDS } from "@reelbridge/remotion/props";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { InvalidEventError } from "@reelbridge/core";
import { failRenderStart, startRender } from "@reelbridge/core/usecases/start-render";
import type { RenderTrigger, StartRenderDeps } from "@reelbridge/core/usecases/start-render";
import { MissingEnvironmentError, once } from "./lib/env";
import { pipelineJobId, queueStep } from "./lib/handlers";
import { lambdaArchOf, stepLambdaCost, withStepCost } from "./lib/step-cost";
import type { QueueHandlerOptions } from "./lib/handlers";
import { queuedSubscriptionNamed } from "./lib/topology";
import { endpointRoutePath, endpointUrlEnv } from "./topology";
import { awsPlatform } from "./lib/aws-platform";
import { awsRemotionRenderer } from "./lib/aws-services/remotion";
import type { Platform } from "./lib/platform";
import { endpointRouteUrl } from "./lib/platform";
import { awsVisibilityChanger } from "./lib/aws";

/** What the render step runs with; the local runtime passes the Remotion emulator, its blob store and dynalite. */
export type Deps = StartRenderDeps;

export const NAME = "render-step";
/** How the stacks deploy this function (for its Lambda line's price). */
const ARCH = lambdaArchOf(queuedSubscriptionNamed(NAME));

const subscription = queuedSubscriptionNamed(NAME);
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;

/**
 * Dependencies from a platform (AWS, or the local runtime's peers). Remotion posts to the render
 * webhook's route under the URL the render step `reaches`; Remotion's function and site come from
 * stage config (scripts/deploy-remotion.ts prints them).
 */
export async function buildDeps(p: Platform): Promise<Deps> {
  const webhook = p.endpointUrl("render-webhook");
  if (!webhook) throw new MissingEnvironmentError(endpointUrlEnv("render-webhook"));
  return {
    blobs: p.blobs(),
    state: p.stepState(),
    index: p.renderIndex(),
    publisher: p.publisher(NAME),
    renderer: p.renderer({ webhookSecret: await p.secret("REMOTION_WEBHOOK_SECRET") }),
    clock: p.clock,
    webhookUrl: endpointRouteUrl(webhook, endpointRoutePath("render-webhook")),
    keyframeIntervalSeconds: KEYFRAME_INTERVAL_SECONDS,
    ...(p.renderScale !== undefined ? { scale: p.renderScale } : {}),
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform({ renderer: awsRemotionRenderer }));

/**
 * The render step: VideoBaseReady (or a re-render's RenderRequested) through the render-step queue (bounded concurrency, so a
 * burst never exhausts the account's Lambda concurrency that Remotion fans out into).
 * A job that cannot be rendered, or that exhausted its retries, ends with RenderFailed.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps), opts: QueueHandlerOptions = {}) {
  return queueStep<RenderTrigger>(
    {
      name: NAME,
      // VideoBaseReady: the job's first render; RenderRequested: a re-render (docs/decisions/0009).
      parse: (raw) => {
        const type = (raw as { "detail-type"?: unknown } | null)?.["detail-type"];
        if (type === "RenderRequested") return parseEvent("RenderRequested", raw);
        if (type === "VideoBaseReady") return parseEvent("VideoBaseReady", raw);
        throw new InvalidEventError(`the render step does not handle ${JSON.stringify(type)}`);
      },
      jobIdOf: pipelineJobId,
      // Starts work: only for a job the pipeline started, with its parameters, and no outcome yet.
      role: "act",
      ledger: async () => createJobLedger((await deps()).state),
      // Its invocations' GB-s go on RenderStarted (or the RenderFailed of a failed start).
      usageStore: async () => (await deps()).state,
      run: async (event, ctx) => {
        const d = await deps();
        await startRender({ ...d, publisher: withStepCost(d.publisher, ["RenderStarted", "RenderFailed"], () => stepLambdaCost(ctx, NAME, ARCH)) }, event, { logger: ctx.logger });
      },
      fail: async (raw, reason, ctx) => {
        const d = await deps();
        const publisher = withStepCost(d.publisher, ["RenderFailed"], () => stepLambdaCost(ctx, NAME, ARCH));
        await failRenderStart({ state: d.state, publisher, rendererName: d.renderer.name, clock: d.clock }, raw, reason, ctx);
      },
    },
    { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT },
  );
}

export const handler = createHandler(undefined, { changeVisibility: awsVisibilityChanger });
