import type { JobParams } from "@reelbridge/events";
import { createJobLedger, isOutcomeType } from "../../src/jobs/ledger";
import type { OutcomeType } from "../../src/jobs/ledger";
import type { OutgoingEvent, StepStateStore } from "../../src/ports";

interface EventLike {
  "detail-type": string;
  detail: { metadata: { jobId: string; eventId: string; causationId: string }; data: unknown };
}

/**
 * Makes the job ledger (jobs/ledger.ts) know an event's job, as the pipeline would have
 * recorded it: the job started with the event's parameters, and, for an outcome event (or
 * `outcome` given), that event as the job's published outcome.
 */
export async function seedLedger(state: StepStateStore, e: EventLike, opts: { outcome?: EventLike } = {}): Promise<void> {
  const ledger = createJobLedger(state);
  const { jobId } = e.detail.metadata;
  const job = (e.detail.data as { job?: JobParams }).job;
  if (job) await ledger.recordStarted(jobId, job, { at: "2026-11-20T10:00:00.000Z", causationId: "seed" });
  const o = opts.outcome ?? (isOutcomeType(e["detail-type"]) ? e : undefined);
  if (o) {
    const event = {
      type: o["detail-type"] as OutcomeType,
      data: o.detail.data,
      eventId: o.detail.metadata.eventId,
      jobId,
      causationId: o.detail.metadata.causationId,
    } as OutgoingEvent<OutcomeType>;
    await ledger.claimOutcome(event, "2026-11-20T10:05:00.000Z");
    await ledger.markPublished(jobId);
  }
}
