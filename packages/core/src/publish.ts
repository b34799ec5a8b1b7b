import { pipelineEvents, SCHEMA_VERSION } from "@reelbridge/events";
import type { Clock, EventPublisher, OutgoingEvent } from "./ports";
import { backoffMs } from "./backoff";

/** The PutEvents request entry, as AWS and the local bus both take it. */
export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
  Resources?: string[];
  Time?: Date;
}
export interface PutEventsResult {
  FailedEntryCount?: number;
  Entries?: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
}
export type PutEvents = (entries: PutEventsEntry[]) => Promise<PutEventsResult>;

export class PublishError extends Error {
  readonly code = "PublishFailed";
  readonly retryable = true;
  constructor(message: string, readonly failures: Array<{ DetailType: string; ErrorCode?: string; ErrorMessage?: string }>) {
    super(message);
    this.name = "PublishError";
  }
}

/** Entries AWS may accept on a retry (everything but malformed or oversized entries). */
const PERMANENT_ENTRY_ERRORS = new Set(["MalformedDetail", "InvalidArgument", "ValidationException", "AccessDeniedException"]);

/**
 * An EventPublisher over any PutEvents implementation (EventBridge's client, the local bus):
 * validates each detail against its contract before sending, sends at most 10 entries per call,
 * checks FailedEntryCount and retries only the failed entries with backoff (STYLE.md).
 */
export function createPublisher(
  putEvents: PutEvents,
  opts: { busName: string; producer: string; clock?: Clock; maxAttempts?: number; baseDelayMs?: number },
): EventPublisher {
  const clock = opts.clock ?? { now: () => new Date() };
  const maxAttempts = opts.maxAttempts ?? 4;
  const baseDelayMs = opts.baseDelayMs ?? 100;

  const toEntry = (e: OutgoingEvent): PutEventsEntry => {
    const def = pipelineEvents[e.type];
    const detail = def.detail.parse({
      metadata: {
        eventId: e.eventId,
        schemaVersion: SCHEMA_VERSION,
        jobId: e.jobId,
        causationId: e.causationId,
        producer: opts.producer,
        time: clock.now().toISOString(),
      },
      data: e.data,
    });
    return { Source: def.source, DetailType: e.type, Detail: JSON.stringify(detail), EventBusName: opts.busName };
  };

  return {
    async publish(events) {
      let pending = events.map(toEntry);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const failed: Array<PutEventsEntry & { ErrorCode?: string; ErrorMessage?: string }> = [];
        for (let i = 0; i < pending.length; i += 10) {
          const chunk = pending.slice(i, i + 10);
          let res: PutEventsResult;
          try {
            res = await putEvents(chunk);
          } catch (err) {
            if (attempt >= maxAttempts) throw err;
            failed.push(...chunk);
            continue;
          }
          if (!res.FailedEntryCount) continue;
          (res.Entries ?? []).forEach((r, j) => {
            const entry = chunk[j];
            if (r.ErrorCode && entry) failed.push({ ...entry, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage });
          });
        }
        const permanent = failed.filter((f) => f.ErrorCode && PERMANENT_ENTRY_ERRORS.has(f.ErrorCode));
        if (permanent.length > 0 || (failed.length > 0 && attempt >= maxAttempts)) {
          throw new PublishError(
            `PutEvents failed for ${failed.length} entr${failed.length === 1 ? "y" : "ies"} after ${attempt} attempt(s): ${failed.map((f) => `${f.DetailType}: ${f.ErrorCode ?? "error"} ${f.ErrorMessage ?? ""}`.trim()).join("; ")}`,
            failed.map((f) => ({ DetailType: f.DetailType, ErrorCode: f.ErrorCode, ErrorMessage: f.ErrorMessage })),
          );
        }
        pending = failed.map(({ ErrorCode: _c, ErrorMessage: _m, ...entry }) => entry);
        if (pending.length > 0) {
          await new Promise((r) => setTimeout(r, backoffMs(attempt, { baseMs: baseDelayMs })));
        }
      }
    },
  };
}

/** An in-memory publisher for use-case tests: records what was published, in order. */
export function createMemoryPublisher(): EventPublisher & { published: OutgoingEvent[] } {
  const published: OutgoingEvent[] = [];
  return {
    published,
    async publish(events) {
      for (const e of events) {
        pipelineEvents[e.type].data.parse(e.data);
        published.push(e);
      }
    },
  };
}
