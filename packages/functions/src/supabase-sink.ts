import type { DetailType, PipelineEvent } from "@reelbridge/events";
import type { StepStateStore } from "@reelbridge/core";
import { createPostgresGeneratedVideosSink } from "@reelbridge/core/adapters/postgres/generated-videos-sink";
import { createJobLedger } from "@reelbridge/core/jobs/ledger";
import { SinkRefusedError } from "@reelbridge/core/sinks/errors";
import type { GeneratedVideosSink } from "@reelbridge/core/sinks/generated-videos";
import { parsePipelineEvent } from "@reelbridge/core/usecases/record-event";
import { syncGeneratedVideo } from "@reelbridge/core/usecases/sync-generated-video";
import { once } from "./lib/env";
import { asLogger, makeLogger, pipelineJobId, queueStep } from "./lib/handlers";
import type { QueueHandlerOptions } from "./lib/handlers";
import { queuedSubscriptionNamed } from "./lib/topology";
import { awsPlatform } from "./lib/aws-platform";
import type { Platform } from "./lib/platform";
import { awsVisibilityChanger } from "./lib/aws";

/** What the sink runs with; the local runtime passes its embedded Postgres's URL as the secret. */
export interface Deps {
  sink: GeneratedVideosSink;
  /** The job ledger's store (events are checked against it, as for the DB writer). */
  state?: StepStateStore;
}

export const NAME = "supabase-sink";

const subscription = queuedSubscriptionNamed(NAME);
export const MAX_RECEIVE_COUNT = subscription.delivery.maxReceiveCount;

/**
 * The connection string, checked before anything connects: a postgres URL, and when the stage
 * names a Supabase project, one of that project (the direct host db.<ref>.supabase.co, or the
 * pooler's user postgres.<ref>), so a secret copied from another project is refused (DLQ)
 * instead of filling someone else's table. Never logged.
 */
export function checkConnectionString(value: string | undefined, projectRef?: string): string {
  const url = value?.trim();
  if (!url) throw new SinkRefusedError("the SUPABASE_DB_URL secret is empty: set it with `sst secrets set SUPABASE_DB_URL …`", undefined);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SinkRefusedError("the SUPABASE_DB_URL secret is not a URL (postgresql://user:password@host:port/database)", undefined);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") throw new SinkRefusedError(`the SUPABASE_DB_URL secret is a ${parsed.protocol} URL, not postgresql://`, undefined);
  if (projectRef) {
    const ofProject = parsed.hostname === `db.${projectRef}.supabase.co` || decodeURIComponent(parsed.username).endsWith(`.${projectRef}`);
    if (!ofProject) throw new SinkRefusedError(`the SUPABASE_DB_URL secret is not a connection to Supabase project ${projectRef} (stage config supabase.projectRef)`, undefined);
  }
  return url;
}

/** Dependencies from a platform (AWS, or the local runtime's peers). */
export async function buildDeps(p: Platform): Promise<Deps> {
  const connectionString = checkConnectionString(await p.secret("SUPABASE_DB_URL"), p.config.supabase?.projectRef);
  return {
    // One event per invocation (batchSize): one connection per Lambda container.
    sink: createPostgresGeneratedVideosSink({ connectionString, maxConnections: subscription.delivery.batchSize, logger: asLogger(makeLogger(NAME)) }),
    state: p.stepState(),
  };
}

/** Production dependencies, once per cold start. */
export const defaultDeps = () => buildDeps(awsPlatform());

/**
 * The supabase-sink: every pipeline event but the notifier's → the job's generated_videos row
 * (core/usecases/sync-generated-video.ts), from a queue. Database down → redelivered with
 * backoff; database refusing → redelivered at once into the DLQ. No `fail`: a sink never fails
 * the job. Events are admitted like the DB writer's (role "record"), so the table only gets
 * what the job record gets.
 */
export function createHandler(deps: () => Promise<Deps> = once(defaultDeps), opts: QueueHandlerOptions = {}) {
  return queueStep<PipelineEvent<DetailType>>(
    {
      name: NAME,
      parse: parsePipelineEvent,
      jobIdOf: pipelineJobId,
      role: "record",
      ledger: async () => {
        const { state } = await deps();
        return state ? createJobLedger(state) : undefined;
      },
      run: async (event, ctx) => {
        await syncGeneratedVideo({ sink: (await deps()).sink, logger: ctx.logger }, event);
      },
    },
    { ...opts, maxReceiveCount: MAX_RECEIVE_COUNT },
  );
}

export const handler = createHandler(undefined, { changeVisibility: awsVisibilityChanger });
