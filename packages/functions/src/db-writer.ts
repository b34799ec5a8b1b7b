import type { DetailType, PipelineEvent } from "@reelbridge/events";
import type { JobStore } from "@reelbridge/core";
import { parsePipelineEvent, recordEvent } from "@reelbridge/core/usecases/record-event";
import { once } from "./lib/env";
import { directStep, pipelineJobId } from "./lib/handlers";
import { awsPlatform } from "./lib/aws-platform";
import type { Platform } from "./lib/platform";

/** What the DB writer runs with; the local runtime passes a store over its emulator. */
export interface Deps {
  jobs: JobStore;
}

export const NAME = "db-writer";

/** Dependencies from a platform (AWS, or the local runtime's peers). */
export async function buildDeps(p: Platform): Promise<Deps> {
  return { jobs: p.jobs() };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform());

/**
 * The DB writer: every pipeline event → the job record (jobs/README.md). An event that does not
 * fit its contract is logged and dropped (there is no *Failed event for recording); a write
 * conflict that outlasts the store's retries is thrown, so EventBridge invokes again.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps)) {
  return directStep<PipelineEvent<DetailType>>({
    name: NAME,
    parse: parsePipelineEvent,
    jobIdOf: pipelineJobId,
    // Records only what the pipeline did: the job ledger lives in the jobs table (jobs/ledger.ts).
    role: "record",
    ledger: async () => (await deps()).jobs.ledger,
    run: async (event, ctx) => {
      await recordEvent({ jobs: (await deps()).jobs, logger: ctx.logger }, event);
    },
  });
}

export const handler = createHandler();
