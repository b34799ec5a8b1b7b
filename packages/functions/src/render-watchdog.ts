import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { reconcileRenders } from "@reelbridge/core/usecases/render-watchdog";
import type { ReconcileSummary, RenderWatchdogDeps } from "@reelbridge/core/usecases/render-watchdog";
import { once } from "./lib/env";
import { asLogger, makeLogger, meterOnJobs, startMeter } from "./lib/handlers";
import { functionArch } from "./lib/step-cost";
import type { JobStore } from "@reelbridge/core";
import { awsPlatform } from "./lib/aws-platform";
import { awsRemotionProgress } from "./lib/aws-services/remotion";
import type { Platform } from "./lib/platform";

/** What the watchdog runs with; the local runtime passes the emulator's progress and its stores. */
export type Deps = RenderWatchdogDeps & {
  /** Where its invocations go on the cost of the jobs it checked (issue #13 item 1); absent: not metered. */
  jobs?: Pick<JobStore, "recordInvocations">;
};

export const NAME = "render-watchdog";

/** Dependencies from a platform (AWS, or the local runtime's peers). */
export async function buildDeps(p: Platform): Promise<Deps> {
  return {
    state: p.stepState(),
    index: p.renderIndex(),
    publisher: p.publisher(NAME),
    blobs: p.blobs(),
    clock: p.clock,
    getRenderProgress: p.renderProgress(),
    afterSeconds: p.config.remotion.watchdogAfterSeconds,
    jobs: p.jobs(),
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform({ renderProgress: awsRemotionProgress }));

/** Scheduled (topology `schedules`): settles renders whose webhook never arrived. */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  const logger = asLogger(makeLogger(NAME));
  return middy(async (_event: unknown, context: Context): Promise<ReconcileSummary> => {
    const meter = startMeter(context);
    const d = await deps();
    // Renders left when the invocation runs short are checked by the next run.
    const remainingMs = typeof context?.getRemainingTimeInMillis === "function" ? () => context.getRemainingTimeInMillis() : undefined;
    const summary = await reconcileRenders({ ...d, logger }, { logger, ...(remainingMs ? { remainingMs } : {}) });
    // Split evenly across the jobs it checked; a run that found nothing is nobody's job (not attributed).
    await meterOnJobs(NAME, { jobs: async () => d.jobs, arch: functionArch(NAME) }, meter, summary.jobIds ?? [], logger);
    return summary;
  });
}

export const handler = createHandler();
