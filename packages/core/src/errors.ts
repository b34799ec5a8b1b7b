import { reasonCodes } from "@reelbridge/events";
import type { FailureReason, ReasonCode } from "@reelbridge/events";

/**
 * The one place that decides retryable vs permanent (STYLE.md, "Errors").
 *
 * - A PermanentError ends the job: the step catches it and emits its *Failed event with the
 *   error's stable `code` and message. Retrying the same input cannot succeed.
 * - A TransientError (throttle, 5xx, timeout, network) is thrown out of the handler so the
 *   platform retries it (SQS redelivery / async-invoke retries); what exhausts its retries lands
 *   in the subscription's DLQ.
 * - Anything else is unknown and treated as transient: retried, then dead-lettered, never
 *   silently swallowed.
 */
export class PipelineError extends Error {
  readonly code: ReasonCode;
  readonly retryable: boolean;
  constructor(code: ReasonCode, message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable;
  }
}

export class PermanentError extends PipelineError {
  constructor(code: ReasonCode, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, ...opts });
  }
}

export class TransientError extends PipelineError {
  /** Seconds the caller asked us to wait (e.g. Retry-After), when known. */
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, opts: { cause?: unknown; retryAfterSeconds?: number; code?: ReasonCode } = {}) {
    super(opts.code ?? "Internal", message, { retryable: true, cause: opts.cause });
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/**
 * Not a failure: the step has handed work to an outside service and asks the queue to bring the
 * message back in `retryAfterSeconds` to look at it again (the LTX step's re-check of a
 * generation, docs/decisions/0010). Handlers make the record visible again after that delay and
 * log it as a scheduled check, not as an error; on the queue's last receive it still ends the job.
 */
export class CheckLaterError extends TransientError {
  constructor(message: string, opts: { retryAfterSeconds: number }) {
    super(message, { retryAfterSeconds: opts.retryAfterSeconds });
  }
}

/** An event that does not satisfy its contract: permanent, never retried. */
export class InvalidEventError extends PermanentError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super("InvalidEvent", message, opts);
  }
}

/**
 * An event that contradicts what the pipeline knows of its job (jobs/trust.ts): a job it never
 * started, another job's parameters, an outcome other than the job's own. Permanent, and unlike
 * other permanent errors it ends nothing: the step drops the event and sends nothing, or anyone
 * who can PutEvents could end any job (issue #11 item 3).
 */
export class UntrustedEventError extends PermanentError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super("InvalidEvent", message, opts);
  }
}

/** Anything with a stable code and retryable flag counts (e.g. the media module's errors). */
interface CodedError {
  code: string;
  retryable: boolean;
  message: string;
}
const isCoded = (e: unknown): e is CodedError =>
  e instanceof Error && typeof (e as Partial<CodedError>).code === "string" && typeof (e as Partial<CodedError>).retryable === "boolean";

/** Permanent → the FailureReason to put on the *Failed event; otherwise undefined (rethrow). */
export function permanentReason(err: unknown): FailureReason | undefined {
  if (isCoded(err) && !err.retryable) {
    // A code outside the public contract (an internal module's) is reported as Internal, with
    // the original code kept in the message so it is still visible.
    const known = (reasonCodes as readonly string[]).includes(err.code);
    const message = (known ? err.message : `${err.code}: ${err.message}`).slice(0, 2000) || err.code;
    return { code: known ? (err.code as ReasonCode) : "Internal", message, retryable: false };
  }
  return undefined;
}

/**
 * A zod error's first issues as one readable line ("job.title: Too big; (root): …"), for
 * messages that reach a *Failed event or a log. Structural, so any zod version's error fits.
 */
export function describeZodError(err: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }, opts: { max?: number } = {}): string {
  return err.issues
    .slice(0, opts.max ?? 5)
    .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}
