import { TransientError } from "../errors";

/**
 * How the generated_videos sink fails (issue #16 item 2). Neither error fails the job: the sink
 * has no *Failed event, and a sink being down must not end a job whose video exists. Both are
 * thrown out of the handler, so the queue keeps the event:
 *
 *   - SinkUnavailableError: the database could not be reached or asked us to come back
 *     (connection refused or reset, too many connections, shutting down, a serialization
 *     failure or deadlock). Redelivered with the queues' backoff until the database is back.
 *   - SinkRefusedError: the database refused the write for a reason retrying will not fix (no
 *     such table or column, wrong password, a value a column refuses, no privilege). It still
 *     goes through the queue, but redelivered at once (retryAfterSeconds 0), so it reaches the
 *     subscription's DLQ within seconds, where the alarm calls a human; after the fix, redrive.
 *
 * Both are TransientErrors to the handler plumbing (functions/src/lib/handlers.ts): a
 * PermanentError there means "emit the step's *Failed event and drop the event", which is
 * exactly what the sink must never do.
 */
export class SinkUnavailableError extends TransientError {
  constructor(message: string, readonly sqlState: string | undefined, opts: { cause?: unknown } = {}) {
    super(message, opts);
  }
}

export class SinkRefusedError extends TransientError {
  constructor(message: string, readonly sqlState: string | undefined, opts: { cause?: unknown } = {}) {
    super(message, { ...opts, retryAfterSeconds: 0 });
  }
}
