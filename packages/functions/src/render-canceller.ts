import type { PipelineEvent } from "@reelbridge/events";
import { parseEvent } from "@reelbridge/events";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { cancelRunningRender } from "@reelbridge/core/usecases/cancel-render";
import type { CancelRunningRenderDeps } from "@reelbridge/core/usecases/cancel-render";
import { once } from "./lib/env";
import { pipelineJobId, queueStep } from "./lib/handlers";
import type { QueueHandlerOptions } from "./lib/handlers";
import { queuedSubscriptionNamed } from "./lib/topology";
import { awsPlatform } from "./lib/aws-platform";
import { awsRemotionRenderer } from "./lib/aws-services/remotion";
import type { Platform } from "./lib/platform";
import { awsVisibilityChanger } from "./lib/aws";
import { functionArch } from "./lib/step-cost";
import type { JobStore } from "@reelbridge/core";

/** What the render canceller runs with: the stage's renderer (Remotion Lambda or the local emulator). */
export type Deps = CancelRunningRenderDeps & {
  /** Where its invocations go on the job's cost (it publishes no event of its own: issue #13 item 1). */
  jobs?: Pick<JobStore, "recordInvocations">;
};

export const NAME = "render-canceller";

const subscription = queuedSubscriptionNamed(NAME);
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;

export async function buildDeps(p: Platform): Promise<Deps> {
  return {
    state: p.stepState(),
    index: p.renderIndex(),
    renderer: p.renderer({ webhookSecret: await p.secret("REMOTION_WEBHOOK_SECRET") }),
    jobs: p.jobs(),
  };
}

export const defaultDeps = () => buildDeps(awsPlatform({ renderer: awsRemotionRenderer }));

/**
 * JobCancelled → the job's (or re-render's) running render is stopped (docs/decisions/0009).
 * Only the job's own recorded JobCancelled is acted on (role follow: it must be the ledger's
 * outcome); a failure to cancel never fails anything: the job is already cancelled.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps), opts: QueueHandlerOptions = {}) {
  return queueStep<PipelineEvent<"JobCancelled">>(
    {
      name: NAME,
      parse: (raw) => parseEvent("JobCancelled", raw),
      jobIdOf: pipelineJobId,
      role: "follow",
      ledger: async () => createJobLedger((await deps()).state),
      jobMeter: { jobs: async () => (await deps()).jobs, arch: functionArch(NAME) },
      run: async (event, ctx) => {
        await cancelRunningRender(await deps(), event, { logger: ctx.logger });
      },
    },
    { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT },
  );
}

export const handler = createHandler(undefined, { changeVisibility: awsVisibilityChanger });
