import type { Data, FailureReason } from "@reelbridge/events";
import { TransientError } from "../errors";
import type { BlobStore, Clock, EventPublisher, Logger, OutgoingEvent, StepStateStore } from "../ports";
import { createJobLedger } from "../jobs/ledger";
import { renderCostLine, sumCost } from "../jobs/cost";
import type { RenderIndex } from "./ports";
import type { RenderRecord } from "./record";
import { eventIds, outcomeStateName, reasonMessage, renderStateName, versionField } from "./record";

/**
 * Settling a render: turning its outcome (from Remotion's webhook or from the watchdog's
 * getRenderProgress) into exactly one RenderCompleted or RenderFailed.
 *
 * Dedup: one terminal outcome per render, claimed with a conditional write on
 * `render-outcome:<renderId>`. That covers Remotion's duplicate deliveries of the same status
 * (the (renderId, status) idempotency the webhook needs) and, stricter, a late webhook racing
 * the watchdog or a second, different status (an error after a timeout): the first outcome
 * recorded wins, later ones are acknowledged and emit nothing.
 *
 * The claim stores the event it announces and a `published` flag, set after PutEvents
 * succeeded. A crash between the claim and the flag leaves published=false, and the next
 * delivery (Remotion retries, the watchdog) re-publishes the STORED event with its
 * deterministic eventId, so the outcome is never lost and consumers dedup any repeat.
 */

export interface SettleDeps {
  state: StepStateStore;
  publisher: EventPublisher;
  blobs: BlobStore;
  clock: Clock;
  index?: RenderIndex;
  logger?: Logger;
}

export type RenderOutcome =
  | {
      kind: "success";
      timeToFinishMs?: number | null;
      costs?: { estimated: number; currency: string; disclaimer?: string } | null;
    }
  | { kind: "error"; message: string; costs?: RenderCosts | null }
  | { kind: "timeout"; message?: string; costs?: RenderCosts | null };

/** A renderer's own cost estimate (Remotion's `costs`). */
type RenderCosts = { estimated: number; currency: string; disclaimer?: string };

export type OutcomeEventType = "RenderCompleted" | "RenderFailed";

export interface SettleResult {
  type: OutcomeEventType;
  eventId: string;
  /** Whether this call published the event. */
  emitted: boolean;
  /** Another outcome (or this one) had already been recorded for the render. */
  duplicate: boolean;
}

/** Remotion said success but the output is not in the bucket (yet): retry, don't guess. */
export class RenderOutputMissingError extends TransientError {
  constructor(readonly key: string) {
    super(`the render reported success but there is no object at ${key}`, { code: "RenderError" });
    this.name = "RenderOutputMissingError";
  }
}

type StartedRecord = RenderRecord & { renderId: string };

interface OutcomeClaim {
  type: OutcomeEventType;
  via: string;
  kind: RenderOutcome["kind"];
  event: OutgoingEvent;
  published: boolean;
  recordedAt: string;
}

const isClaim = (v: Record<string, unknown>): v is Record<string, unknown> & OutcomeClaim =>
  typeof v.type === "string" && typeof v.event === "object" && v.event !== null;

export const failureReasonFor = (outcome: Exclude<RenderOutcome, { kind: "success" }>): FailureReason =>
  outcome.kind === "timeout"
    ? { code: "RenderTimeout", message: reasonMessage(outcome.message ?? "Remotion Lambda reported a timeout before the render finished."), retryable: false }
    : { code: "RenderError", message: reasonMessage(outcome.message), retryable: false };

async function buildEvent(deps: SettleDeps, record: StartedRecord, outcome: RenderOutcome): Promise<OutgoingEvent> {
  const { job, renderId } = record;
  const causationId = record.startedEventId ?? record.causationId;
  if (outcome.kind !== "success") {
    const data: Data<"RenderFailed"> = { job, ...versionField(record.version ?? 1), renderId, renderer: record.renderer, reason: failureReasonFor(outcome), stepCost: sumCost([renderCostLine(record.renderer, outcome.costs, "failed")]) };
    return { type: "RenderFailed", data, eventId: eventIds.failed(job.jobId, renderId), jobId: job.jobId, causationId };
  }
  const key = record.output.key;
  const head = await deps.blobs.head(key);
  if (!head) throw new RenderOutputMissingError(key);
  // Geometry is what the render step asked Remotion for and recorded at the start: the
  // composition's (width/height per aspect, fps, base clip + end card) at the request's render
  // scale, which is exactly what Remotion renders (issue #12 item 7).
  const facts = record.expected;
  const data: Data<"RenderCompleted"> = {
    job,
    ...versionField(record.version ?? 1),
    renderId,
    renderer: record.renderer,
    video: {
      bucket: record.output.bucket,
      key,
      sizeBytes: head.sizeBytes,
      durationSeconds: facts.durationSeconds,
      width: facts.width,
      height: facts.height,
      fps: facts.fps,
    },
    timeToFinishMs: Math.max(0, Math.round(outcome.timeToFinishMs ?? elapsedMs(record, deps.clock))),
    ...(outcome.costs ? { cost: { estimated: outcome.costs.estimated, currency: outcome.costs.currency, ...(outcome.costs.disclaimer ? { disclaimer: outcome.costs.disclaimer } : {}) } } : {}),
    completedAt: deps.clock.now().toISOString(),
    // The cost ledger's line for the render (issue #13): Remotion's estimate, with its basis.
    stepCost: sumCost([renderCostLine(record.renderer, outcome.costs, "completed")]),
  };
  return { type: "RenderCompleted", data, eventId: eventIds.completed(job.jobId, renderId), jobId: job.jobId, causationId };
}

const elapsedMs = (record: RenderRecord, clock: Clock) => {
  const started = Date.parse(record.startedAt ?? record.claimedAt);
  return Number.isFinite(started) ? clock.now().getTime() - started : 0;
};

/** Records the render's outcome once and publishes its event (see the module comment). */
export async function settleRender(deps: SettleDeps, record: StartedRecord, outcome: RenderOutcome, via: "webhook" | "watchdog"): Promise<SettleResult> {
  const jobId = record.job.jobId;
  const name = outcomeStateName(record.renderId);

  // Cheap exit for the common duplicate, before touching the bucket.
  const existing = await deps.state.get(jobId, name);
  if (existing && isClaim(existing) && existing.published === true) {
    return { type: existing.type, eventId: existing.event.eventId, emitted: false, duplicate: true };
  }

  const event = existing && isClaim(existing) ? existing.event : await buildEvent(deps, record, outcome);
  const claim: OutcomeClaim = {
    type: event.type as OutcomeEventType,
    via,
    kind: outcome.kind,
    event,
    published: false,
    recordedAt: deps.clock.now().toISOString(),
  };
  const { created, value } = await deps.state.putIfAbsent(jobId, name, claim as unknown as Record<string, unknown>);
  const stored = isClaim(value) ? value : claim;
  if (!created && stored.published === true) {
    return { type: stored.type, eventId: stored.event.eventId, emitted: false, duplicate: true };
  }
  if (!created && stored.kind !== outcome.kind) {
    deps.logger?.warn("render already has a different outcome; republishing the first one", { renderId: record.renderId, first: stored.kind, now: outcome.kind, via });
  }

  // One outcome per job (jobs/ledger.ts), per render version for a re-render: a render whose job
  // (or version) already ended otherwise (the LTX step failed it, it was cancelled, another render
  // settled it) publishes nothing.
  const ledger = createJobLedger(deps.state);
  const job = await ledger.claimOutcome(stored.event as OutgoingEvent<OutcomeEventType>, deps.clock.now().toISOString());
  if (!job.ours) {
    deps.logger?.warn("the job already has another outcome; not publishing this render's", { renderId: record.renderId, outcome: job.outcome.type, outcomeEventId: job.outcome.eventId, via });
    await deps.state.update(jobId, name, { published: true, superseded: job.outcome.eventId });
    return { type: stored.type, eventId: stored.event.eventId, emitted: false, duplicate: true };
  }
  await deps.publisher.publish([stored.event]);
  await ledger.markPublished(jobId, record.version ?? 1);
  await deps.state.update(jobId, name, { published: true });
  await deps.state.update(jobId, renderStateName(record.version ?? 1), { status: stored.type === "RenderCompleted" ? "completed" : "failed" });
  if (deps.index && record.startedAt) {
    try {
      await deps.index.remove({ jobId, startedAt: record.startedAt, ...versionField(record.version ?? 1) });
    } catch (err) {
      // The watchdog removes entries whose render already has an outcome; nothing is lost.
      deps.logger?.warn("could not remove the render from the in-flight index", { renderId: record.renderId, error: (err as Error).message });
    }
  }
  return { type: stored.type, eventId: stored.event.eventId, emitted: true, duplicate: !created };
}
