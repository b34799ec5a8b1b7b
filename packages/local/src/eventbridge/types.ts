import type { Delivery } from "@reelbridge/functions/topology-types";

/** The event exactly as EventBridge delivers it to a target (eb-events-structure). */
export interface EventBridgeEnvelope {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  /** ISO-8601 UTC, second precision, as AWS writes it: 2026-11-20T10:00:00Z */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** Present on replayed events only (archive replay). */
  "replay-name"?: string;
}

/** One PutEvents request entry, as in the AWS API (Time: Date, epoch seconds, or ISO string). */
export interface PutEventsRequestEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: Date | number | string;
  TraceHeader?: string;
}

export interface PutEventsRequest { Entries: PutEventsRequestEntry[] }

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResponse { FailedEntryCount: number; Entries: PutEventsResultEntry[] }

/**
 * What an invocation reports: the events that failed, and for some of them the delay their
 * handler asked before the next delivery (a queued record's visibility, e.g. a scheduled
 * re-check or a Retry-After), which the bus honours instead of its own backoff.
 */
export type InvokeResult = { failedEventIds?: string[]; retryAfterMs?: Record<string, number> } | void;

export interface BusSubscription {
  name: string;
  /** The bus name as given in `buses` (e.g. "default", "reelbridge-local"). */
  busName: string;
  pattern: object;
  delivery: Delivery;
  /** Maximum concurrent invocations (queue kind: the resolved concurrencyKey; direct: default 32). */
  concurrency?: number;
  /** direct kind: always one event; queue kind: up to batchSize. Throw = the whole invocation failed. */
  /**
   * `info.attempts[i]` is the 1-based delivery attempt of `events[i]` (SQS's
   * ApproximateReceiveCount), so a handler can tell its last attempt.
   */
  invoke: (events: EventBridgeEnvelope[], info: { attempts: number[] }) => Promise<InvokeResult>;
}

export type { Delivery };
