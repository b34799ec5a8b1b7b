import type { DetailType, JobParams, VideoInfo } from "@reelbridge/events";
import type { OutgoingEvent, StepStateStore } from "../ports";

/**
 * The job ledger: what the pipeline itself knows of a job, as opposed to what an event claims
 * (issue #11 items 2 and 3). Two step-state records per job, written only by the steps that
 * decide them, before they publish what they decided:
 *
 *   "job"          the job exists: the LTX step found its upload and read its signed parameters
 *                  (the parameters are kept: consumers compare an event's `data.job` with them)
 *   "job-signed"   the upload API signed the job's upload (its owner and parameters), before any
 *                  byte was uploaded: the owner may cancel it while it waits for the LTX step. It
 *                  does not make the job known: no step's event is admitted on it alone.
 *   "job-outcome"  the job's one outcome, claimed with a conditional write, first writer wins:
 *                  VideoBaseFailed (LTX step), RenderFailed (render step, render webhook,
 *                  watchdog), RenderCompleted (render webhook, watchdog) or JobCancelled (the
 *                  jobs API). From then on the job is terminal: no second outcome is published,
 *                  a second upload restarts nothing, and consumers drop events that contradict it.
 *
 * Render versions (docs/decisions/0009): a re-render N ≥ 2 has its own records, written by the
 * jobs API and the render component the same way:
 *   "render-version:N"   the version exists, with its parameters and the base clip (jobs API)
 *   "job-outcome:vN"     the version's one outcome: RenderCompleted, RenderFailed or JobCancelled
 *
 * Anyone who can PutEvents on the bus can claim anything in an event, but only the pipeline's
 * functions write these records, so they are what an event is checked against (jobs/trust.ts).
 */

export const JOB_STATE = "job";
export const JOB_OUTCOME_STATE = "job-outcome";
export const JOB_SIGNED_STATE = "job-signed";

/** The event types that decide a job's outcome: at most one of them is ever published per job. */
export const outcomeTypes = ["VideoBaseFailed", "RenderFailed", "RenderCompleted", "JobCancelled"] as const satisfies readonly DetailType[];
export type OutcomeType = (typeof outcomeTypes)[number];
export const isOutcomeType = (t: string): t is OutcomeType => (outcomeTypes as readonly string[]).includes(t);

/** The ledger record of a version's outcome: the job's own for version 1. */
export const jobOutcomeStateName = (version = 1): string => (version <= 1 ? JOB_OUTCOME_STATE : `${JOB_OUTCOME_STATE}:v${version}`);
/** The ledger record of render version N ≥ 2. */
export const renderVersionStateName = (version: number): string => `render-version:${version}`;

/** A re-render as the jobs API recorded it (`render-version:N`). */
export interface RenderVersionRecord {
  version: number;
  /** The job's parameters with this version's title, subtitle, music and aspect. */
  job: JobParams;
  baseVideo: VideoInfo;
  requestedAt: string;
  /** eventId of its RenderRequested. */
  requestEventId: string;
  /** RenderRequested was published (set after PutEvents succeeded). */
  published: boolean;
  /** sha256 of the Idempotency-Key that numbered it. */
  idempotencyKeyHash: string;
}

const parseVersion = (v: Record<string, unknown> | undefined): RenderVersionRecord | undefined =>
  v && typeof v.version === "number" && typeof v.job === "object" && v.job !== null && typeof v.baseVideo === "object" ? (v as unknown as RenderVersionRecord) : undefined;

export interface JobOutcome {
  type: OutcomeType;
  eventId: string;
  /** The event as published, so a delivery that finds it unpublished (a crash) can publish it. */
  event: OutgoingEvent;
  published: boolean;
  recordedAt: string;
}

export interface JobView {
  jobId: string;
  /** The pipeline started this job (or at least ended it: an upload whose parameters were unreadable). */
  known: boolean;
  /** The parameters the LTX step read from the signed upload. */
  job?: JobParams;
  outcome?: JobOutcome;
  /**
   * The upload API signed the job's upload with these parameters (not proof that it was uploaded
   * or started). Read only when asked for (`view(jobId, { signed: true })`): only cancel needs it.
   */
  signed?: { job: JobParams; signedAt: string };
  /** Asked for with `view(jobId, { version })`, N ≥ 2: that version's record and outcome. */
  version?: { version: number; record?: RenderVersionRecord; outcome?: JobOutcome };
}

export interface JobLedger {
  /** What the pipeline knows of the job; with `version` ≥ 2 also of that render version. */
  view(jobId: string, opts?: { version?: number; signed?: boolean }): Promise<JobView>;
  /** Records that the pipeline started the job, with its verified parameters. Idempotent. */
  recordStarted(jobId: string, job: JobParams, s: { at: string; causationId: string }): Promise<void>;
  /** Records that the upload API signed the job's upload, with its parameters (owner included). Idempotent. */
  recordSigned(jobId: string, job: JobParams, at: string): Promise<void>;
  /**
   * Claims the job's outcome for `event`. `ours` when this event is the job's outcome (just
   * claimed, or claimed earlier by the same logical event: publish it, consumers dedup), false
   * when another outcome won: publish nothing.
   */
  claimOutcome(event: OutgoingEvent<OutcomeType>, at: string): Promise<{ ours: boolean; outcome: JobOutcome; created: boolean }>;
  /** Marks the claimed outcome as published (after PutEvents succeeded); `version` as claimed. */
  markPublished(jobId: string, version?: number): Promise<void>;
  /** Claims number `record.version` for a re-render: false when another request has it. */
  recordVersion(jobId: string, record: RenderVersionRecord): Promise<boolean>;
  markVersionPublished(jobId: string, version: number): Promise<void>;
}

/** The version an outgoing event is about (absent: 1). */
const eventVersion = (e: OutgoingEvent): number => {
  const v = (e.data as { version?: unknown }).version;
  return typeof v === "number" && Number.isInteger(v) && v > 1 ? v : 1;
};

const parseOutcome = (v: Record<string, unknown> | undefined): JobOutcome | undefined =>
  v && typeof v.type === "string" && isOutcomeType(v.type) && typeof v.eventId === "string" && typeof v.event === "object" && v.event !== null
    ? (v as unknown as JobOutcome)
    : undefined;

export function createJobLedger(state: StepStateStore): JobLedger {
  return {
    async view(jobId, opts = {}) {
      const v = opts.version !== undefined && opts.version > 1 ? opts.version : undefined;
      const [job, outcome, vRecord, vOutcome, signed] = await Promise.all([
        state.get(jobId, JOB_STATE),
        state.get(jobId, JOB_OUTCOME_STATE),
        v ? state.get(jobId, renderVersionStateName(v)) : undefined,
        v ? state.get(jobId, jobOutcomeStateName(v)) : undefined,
        opts.signed ? state.get(jobId, JOB_SIGNED_STATE) : undefined,
      ]);
      const parsed = parseOutcome(outcome);
      const params = job?.job as JobParams | undefined;
      const record = parseVersion(vRecord);
      const vParsed = parseOutcome(vOutcome);
      return {
        jobId,
        known: job !== undefined || parsed !== undefined,
        ...(params ? { job: params } : {}),
        ...(parsed ? { outcome: parsed } : {}),
        ...(signed && typeof signed.job === "object" && signed.job !== null && typeof signed.signedAt === "string" ? { signed: { job: signed.job as JobParams, signedAt: signed.signedAt } } : {}),
        ...(v ? { version: { version: v, ...(record ? { record } : {}), ...(vParsed ? { outcome: vParsed } : {}) } } : {}),
      };
    },
    async recordStarted(jobId, job, s) {
      await state.putIfAbsent(jobId, JOB_STATE, { job, startedAt: s.at, causationId: s.causationId });
    },
    async recordSigned(jobId, job, at) {
      await state.putIfAbsent(jobId, JOB_SIGNED_STATE, { job, signedAt: at });
    },
    async claimOutcome(event, at) {
      const claim: JobOutcome = { type: event.type, eventId: event.eventId, event, published: false, recordedAt: at };
      const r = await state.putIfAbsent(event.jobId, jobOutcomeStateName(eventVersion(event)), claim as unknown as Record<string, unknown>);
      const stored = parseOutcome(r.value) ?? claim;
      return { ours: r.created || stored.eventId === event.eventId, outcome: stored, created: r.created };
    },
    async markPublished(jobId, version = 1) {
      await state.update(jobId, jobOutcomeStateName(version), { published: true });
    },
    async recordVersion(jobId, record) {
      const r = await state.putIfAbsent(jobId, renderVersionStateName(record.version), record as unknown as Record<string, unknown>);
      return r.created;
    },
    async markVersionPublished(jobId, version) {
      await state.update(jobId, renderVersionStateName(version), { published: true });
    },
  };
}

/**
 * Params equal as the pipeline sees them: the same JSON, whatever the key order (they travel
 * through JSON between every step).
 */
export function sameJob(a: JobParams, b: JobParams): boolean {
  return canonical(a) === canonical(b);
}

const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
};
