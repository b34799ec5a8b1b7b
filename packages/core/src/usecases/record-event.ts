import { isDetailType, pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { InvalidEventError } from "../errors";
import type { JobRecord, JobStore, Logger } from "../ports";
import { invocationKey } from "../jobs/cost-ledger";
import type { OwnInvocation } from "../jobs/cost-ledger";
import type { LambdaArch } from "../jobs/cost";

/** The DB writer's entry for its own invocation (measured so far) on the record it writes. */
export const dbWriterInvocation = (fn: string, inv: { id: string; ms: number; memoryMB: number }, arch: LambdaArch): Record<string, OwnInvocation> | undefined =>
  inv.memoryMB > 0 ? { [invocationKey(fn, inv.id)]: { fn, ms: inv.ms, memoryMB: inv.memoryMB, arch } } : undefined;

export interface RecordEventDeps {
  jobs: JobStore;
  logger: Logger;
}

/**
 * Any pipeline event, parsed against the contract its detail-type names. An unknown
 * detail-type or a detail that does not fit is an InvalidEventError (dropped, never retried);
 * zod's error is its cause.
 */
export function parsePipelineEvent(raw: unknown): PipelineEvent<DetailType> {
  const type = (raw as { "detail-type"?: unknown } | null)?.["detail-type"];
  if (typeof type !== "string" || !isDetailType(type)) {
    throw new InvalidEventError(`not a pipeline event: detail-type ${JSON.stringify(type ?? null)}`);
  }
  return pipelineEvents[type].event.parse(raw) as PipelineEvent<DetailType>;
}

/**
 * The DB writer: folds one pipeline event into its job's record (jobs/README.md). Idempotent and
 * order-independent; a write conflict that outlasts the store's retries is a TransientError, so
 * the platform delivers the event again.
 */
export async function recordEvent(deps: RecordEventDeps, event: PipelineEvent<DetailType>, opts: { invocations?: Record<string, OwnInvocation> } = {}): Promise<{ applied: boolean; record: JobRecord }> {
  const { eventId, jobId } = event.detail.metadata;
  // The DB writer's own invocation goes on the record in the same write (jobs/cost-ledger.ts).
  const result = await deps.jobs.apply(event, opts.invocations ? { invocations: opts.invocations } : undefined);
  const fields = { jobId, eventId, detailType: event["detail-type"], status: result.record.status };
  if (result.applied) deps.logger.info("job record updated", fields);
  else deps.logger.info("event already recorded; nothing to write", fields);
  return result;
}
