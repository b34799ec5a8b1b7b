/**
 * Typed errors of the local EventBridge. `code` is stable and mirrors the AWS exception name
 * where there is one, so callers (and the HTTP endpoint) can map it to AWS's error shape.
 */

/** The pattern is one EventBridge would refuse (PutRule / TestEventPattern InvalidEventPatternException). Permanent. */
export class InvalidEventPatternError extends Error {
  override readonly name = "InvalidEventPatternError";
  readonly code = "InvalidEventPatternException";
  readonly permanent = true;
  /** Dotted path of the offending field inside the pattern ("" for the pattern itself). */
  readonly field: string;
  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super(`Event pattern is not valid. Reason: ${field ? `"${field}": ` : ""}${reason}`, options);
    this.field = field;
  }
}

/** The event given to TestEventPattern is not a valid event (AWS: ValidationException "Parameter Event is not valid."). Permanent. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
  readonly code = "ValidationException";
  readonly permanent = true;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Parameter Event is not valid. ${reason}`, options);
  }
}

/** A PutEvents request AWS would reject as a whole (e.g. more than 10 entries). Permanent. */
export class PutEventsValidationError extends Error {
  override readonly name = "PutEventsValidationError";
  readonly code = "ValidationException";
  readonly permanent = true;
}

/** The bus was used after close(). */
export class BusClosedError extends Error {
  override readonly name = "BusClosedError";
  readonly code = "BusClosed";
  readonly permanent = true;
  constructor() {
    super("the local event bus is closed");
  }
}

/** No running local runtime was found in the data dir (no runtime.json, or it does not answer). Transient. */
export class RuntimeNotRunningError extends Error {
  override readonly name = "RuntimeNotRunningError";
  readonly code = "RuntimeNotRunning";
  readonly permanent = false;
}
