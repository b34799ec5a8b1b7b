import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { reconcileRenders } from "@reelbridge/core/usecases/render-watchdog";
import type { ReconcileSummary, RenderWatchdogDeps } from "@reelbridge/core/usecases/render-watchdog";
import { once } from "./lib/env";
import { asLogger, makeLogger } from "./lib/handlers";
import { awsPlatform } from "./lib/aws-platform";
import { awsRemotionProgress } from "./lib/aws-services/remotion";
import type { Platform } from "./lib/platform";

/** What the watchdog runs with; the local runtime passes the emulator's progress and its stores. */
export type Deps = RenderWatchdogDeps;

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
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform({ renderProgress: awsRemotionProgress }));

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
