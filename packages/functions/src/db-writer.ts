import type { DetailType, PipelineEvent } from "@reelbridge/events";
import type { JobStore } from "@reelbridge/core";
import { dbWriterInvocation, parsePipelineEvent, recordEvent } from "@reelbridge/core/usecases/record-event";
import { once } from "./lib/env";
import { directStep, pipelineJobId } from "./lib/handlers";
import { awsPlatform } from "./lib/aws-platform";
import type { Platform } from "./lib/platform";
import { functionArch } from "./lib/step-cost";

/** What the DB writer runs with; the local runtime passes a store over its emulator. */
export interface Deps {
  jobs: JobStore;
}

export const NAME = "db-writer";
const ARCH = functionArch(NAME);

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
      const jobs = (await deps()).jobs;
      // Its own line (issue #13 item 1): this invocation, measured up to the write, in the same write.
      const invocations = dbWriterInvocation(NAME, ctx.invocation(), ARCH);
      await recordEvent({ jobs, logger: ctx.logger }, event, invocations ? { invocations } : {});
    },
  });
}

export const handler = createHandler();
