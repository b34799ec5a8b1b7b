/**
 * The local event bus: PutEvents semantics, content filtering, and delivery that fails, retries and
 * dead-letters the way the topology's AWS wiring does. See ./README.md for the semantics and the
 * deliberate differences from AWS.
 *
 * Timing: in AWS, Lambda async retries wait about 1 and 2 minutes and SQS redelivery waits for the
 * visibility timeout. Locally the attempt counts are the same but the waits are short: exponential
 * backoff from `timing.retryBaseMs` (default 100 ms) doubling up to `timing.retryMaxMs` (default
 * 2 s), with jitter (each delay is 50–100% of the nominal value).
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { compilePattern } from "./pattern";
import type { CompiledPattern } from "./pattern";
import { BusClosedError, PutEventsValidationError } from "./errors";
import {
  compactJournal, describeDropped, ensureBusDir, files, JsonLinesWriter, listDlq, readJsonLines, recoverJournal, repairJsonLines, takeDlq,
} from "./store";
import type { AcceptRecord, ArchiveEntry, DlqEntry, JournalRecord } from "./store";
import type {
  BusSubscription, EventBridgeEnvelope, PutEventsRequest, PutEventsRequestEntry, PutEventsResponse, PutEventsResultEntry,
} from "./types";
import { startHttpEndpoint } from "./http";
import { eventJobId } from "@reelbridge/core/upload/keys";

/** AWS raised the PutEvents entry size limit from 256 KB to 1 MB on 2026-01-29 (REFERENCE.md §5). */
export const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024;
export const MAX_ENTRIES_PER_CALL = 10;

export interface LocalBusOptions {
  dataDir: string;
  account?: string;
  region?: string;
  /** Bus names that exist, e.g. ["default", "reelbridge-local"]. PutEvents to another name is dropped, as in AWS. */
  buses: string[];
  subscriptions: BusSubscription[];
  /** At-least-once drills: duplicate deliveries and shuffled order. */
  testMode?: { redeliverProbability?: number; shuffle?: boolean; seed?: number };
  timing?: { retryBaseMs?: number; retryMaxMs?: number };
  /** Milliseconds since the epoch; tests can move time. */
  now?: () => number;
  maxEntryBytes?: number;
  /** fsync the journal before PutEvents answers (default true). */
  fsync?: boolean;
  /**
   * Structured log sink, one object per call, in the runtime's log shape: `level` (INFO, WARN,
   * ERROR), `message`, then fields (`jobId` when an event names one). Default: JSON lines on
   * stderr for warnings and errors.
   */
  log?: (record: Record<string, unknown>) => void;
}

export interface DeliveryInfo { event: EventBridgeEnvelope; subscription: string; attempts: number }
export interface BusEvents {
  accepted: [{ event: EventBridgeEnvelope; bus: string; subscriptions: string[] }];
  invoking: [{ events: EventBridgeEnvelope[]; subscription: string }];
  delivered: [DeliveryInfo];
  /** A delivery that will be retried; `rescheduled` when its handler asked for it (a scheduled re-check), not a failure. */
  failed: [DeliveryInfo & { error: string; retryInMs: number; rescheduled?: boolean }];
  "dead-lettered": [DeliveryInfo & { error: string; dlqId: string }];
}

export interface LocalBus {
  /**
   * PutEvents. Sources starting "aws." are AWS services' own: a caller gets
   * NotAuthorizedForSourceException for such an entry, as from AWS, unless it is the local
   * stand-in of that service (the S3 endpoint's "Object Created"): `{ asAwsService: true }`.
   */
  putEvents(req: PutEventsRequest, opts?: { asAwsService?: boolean }): Promise<PutEventsResponse>;
  /** Resolves when nothing is pending, in flight or waiting for a retry. */
  onIdle(): Promise<void>;
  /** Starts the AWS JSON 1.1 endpoint (127.0.0.1) and writes <dataDir>/runtime.json with its URL. */
  listen(port?: number): Promise<{ url: string }>;
  close(): Promise<void>;
  dlq: {
    list(subscription?: string): DlqEntry[];
    /** Moves DLQ entries back onto their subscription with fresh attempt counts; returns how many. */
    redrive(subscription?: string): number;
  };
  archive: {
    list(range?: { from?: Date; to?: Date }): ArchiveEntry[];
    /** Re-sends archived events (by their `time`) in [from, to] that match the pattern, with "replay-name". */
    replay(opts: { from: Date; to?: Date; eventPattern?: unknown; replayName?: string }): Promise<{ replayed: number }>;
  };
  on<K extends keyof BusEvents>(event: K, listener: (...args: BusEvents[K]) => void): LocalBus;
  off<K extends keyof BusEvents>(event: K, listener: (...args: BusEvents[K]) => void): LocalBus;
}

interface Task {
  accept: AcceptRecord;
  event: EventBridgeEnvelope;
  attempts: number;
  lastError?: string;
  /** A test-mode duplicate: not journaled, never duplicated again. */
  duplicate?: boolean;
}

interface Worker {
  sub: BusSubscription;
  pattern: CompiledPattern;
  concurrency: number;
  batchSize: number;
  ready: Task[];
  inFlight: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function entryTime(t: PutEventsRequestEntry["Time"], now: number): string | undefined {
  if (t === undefined || t === null) return isoSeconds(now);
  const ms = t instanceof Date ? t.getTime() : typeof t === "number" ? t * 1000 : Date.parse(t);
  return Number.isFinite(ms) ? isoSeconds(ms) : undefined;
}

function busNameOf(name: string | undefined): string {
  if (!name) return "default";
  // An ARN: arn:aws:events:region:account:event-bus/name
  const i = name.indexOf(":event-bus/");
  return i >= 0 ? name.slice(i + ":event-bus/".length) : name;
}

/** The job an event concerns: its metadata, or the key of an S3 "Object Created" (uploads/{jobId}/…). */
function jobIdOf(e: EventBridgeEnvelope): string | undefined {
  const bare = (e.detail as { jobId?: unknown } | undefined)?.jobId;
  return eventJobId(e) ?? (typeof bare === "string" ? bare : undefined);
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

export function createLocalBus(opts: LocalBusOptions): LocalBus {
  const account = opts.account ?? "000000000000";
  const region = opts.region ?? "us-east-1";
  const now = opts.now ?? Date.now;
  const baseMs = opts.timing?.retryBaseMs ?? 100;
  const maxMs = opts.timing?.retryMaxMs ?? 2000;
  const maxEntryBytes = opts.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const durable = opts.fsync ?? true;
  const random = mulberry32(opts.testMode?.seed ?? 0x5eed);
  const redeliverP = opts.testMode?.redeliverProbability ?? 0;
  const shuffle = opts.testMode?.shuffle ?? false;
  const log = opts.log ?? ((r: Record<string, unknown>) => {
    if (r.level === "WARN" || r.level === "ERROR") process.stderr.write(JSON.stringify(r) + "\n");
  });
  const buses = new Set(opts.buses);
  const emitter = new EventEmitter();
  // Many observers are normal here (every `reelbridge run` job, tests, benchmarks): no leak warning.
  emitter.setMaxListeners(0);
  const f = files(opts.dataDir);
  ensureBusDir(opts.dataDir);

  const workers = new Map<string, Worker>();
  for (const sub of opts.subscriptions) {
    if (workers.has(sub.name)) throw new PutEventsValidationError(`duplicate subscription name "${sub.name}"`);
    const d = sub.delivery;
    workers.set(sub.name, {
      sub,
      pattern: compilePattern(sub.pattern),
      concurrency: Math.max(1, sub.concurrency ?? (d.kind === "queue" ? 2 : 32)),
      batchSize: d.kind === "queue" ? Math.max(1, d.batchSize) : 1,
      ready: [],
      inFlight: 0,
    });
  }
  const bySubBus = new Map<string, Worker[]>();
  for (const w of workers.values()) {
    const list = bySubBus.get(w.sub.busName) ?? [];
    list.push(w);
    bySubBus.set(w.sub.busName, list);
  }

  const journal = new JsonLinesWriter(f.journal);
  const dlqWriter = new JsonLinesWriter(f.dlq);
  const archiveWriter = new JsonLinesWriter(f.archive);
  const timers = new Set<NodeJS.Timeout>();
  let outstanding = 0; // tasks queued, in flight or waiting for a retry
  let idleWaiters: Array<() => void> = [];
  let closed = false;
  let server: { close(): Promise<void> } | undefined;
  const inflightPromises = new Set<Promise<void>>();

  function settleIdle(): void {
    if (outstanding === 0 && idleWaiters.length) {
      const ws = idleWaiters;
      idleWaiters = [];
      for (const w of ws) w();
    }
  }

  function enqueue(w: Worker, t: Task): void {
    outstanding++;
    w.ready.push(t);
  }

  function pumpSoon(w: Worker): void {
    queueMicrotask(() => pump(w));
  }

  function pump(w: Worker): void {
    while (!closed && w.inFlight < w.concurrency && w.ready.length > 0) {
      const batch: Task[] = [];
      while (batch.length < w.batchSize && w.ready.length > 0) {
        const i = shuffle ? Math.floor(random() * w.ready.length) : 0;
        batch.push(w.ready.splice(i, 1)[0]!);
      }
      w.inFlight++;
      const p = invoke(w, batch).finally(() => {
        inflightPromises.delete(p);
        w.inFlight--;
        pump(w);
        settleIdle();
      });
      inflightPromises.add(p);
    }
  }

  async function invoke(w: Worker, batch: Task[]): Promise<void> {
    const events = batch.map((t) => t.event);
    for (const t of batch) t.attempts++;
    let failed: Set<string>;
    let retryAfterMs: Record<string, number> = {};
    let error = "";
    emitter.emit("invoking", { events, subscription: w.sub.name });
    try {
      const res = await w.sub.invoke(events, { attempts: batch.map((t) => t.attempts) });
      failed = new Set(res && Array.isArray(res.failedEventIds) ? res.failedEventIds : []);
      if (res && res.retryAfterMs && typeof res.retryAfterMs === "object") retryAfterMs = res.retryAfterMs;
      error = "reported as a batch item failure";
    } catch (e) {
      failed = new Set(events.map((e) => e.id));
      error = errorText(e);
    }
    const records: JournalRecord[] = [];
    for (const t of batch) {
      if (failed.has(t.event.id)) onFailure(w, t, error, records, retryAfterMs[t.event.id]);
      else {
        if (!t.duplicate) records.push({ t: "done", rid: t.accept.rid, sub: w.sub.name });
        outstanding--;
        emitter.emit("delivered", { event: t.event, subscription: w.sub.name, attempts: t.attempts });
        if (!t.duplicate && redeliverP > 0 && random() < redeliverP && !closed) {
          enqueue(w, { accept: t.accept, event: t.event, attempts: 0, duplicate: true });
        }
      }
    }
    if (!closed) journal.append(records, false);
  }

  function exhausted(w: Worker, t: Task): boolean {
    const d = w.sub.delivery;
    if (d.kind === "queue") return t.attempts >= d.maxReceiveCount;
    // direct: Lambda async invoke runs the handler 1 + asyncRetryAttempts times; the rule's
    // MaximumEventAgeInSeconds also bounds how long the event may keep being retried.
    const ageSeconds = (now() - t.accept.at) / 1000;
    return t.attempts >= 1 + d.asyncRetryAttempts || ageSeconds > d.retry.maximumEventAgeSeconds;
  }

  function onFailure(w: Worker, t: Task, error: string, records: JournalRecord[], askedDelayMs?: number): void {
    t.lastError = error;
    if (closed) {
      // Shutting down: the journal still owes this delivery; the next start retries it.
      outstanding--;
      return;
    }
    if (exhausted(w, t)) {
      outstanding--;
      if (t.duplicate) return;
      const entry: DlqEntry = {
        dlqId: randomUUID(), at: new Date(now()).toISOString(), subscription: w.sub.name, bus: t.accept.bus,
        attempts: t.attempts, lastError: error, event: t.event,
      };
      if (!closed) {
        dlqWriter.append([entry], true);
        records.push({ t: "done", rid: t.accept.rid, sub: w.sub.name });
      }
      log({ level: "ERROR", message: "event dead-lettered", subscription: w.sub.name, eventId: t.event.id, jobId: jobIdOf(t.event), attempts: t.attempts, error });
      emitter.emit("dead-lettered", { event: t.event, subscription: w.sub.name, attempts: t.attempts, error, dlqId: entry.dlqId });
      return;
    }
    const nominal = Math.min(maxMs, baseMs * 2 ** (t.attempts - 1));
    // A handler that set the record's visibility (a queued step's re-check, a Retry-After) is obeyed.
    const asked = askedDelayMs !== undefined && Number.isFinite(askedDelayMs) && askedDelayMs >= 0;
    const delay = asked ? Math.round(askedDelayMs) : Math.round(nominal * (0.5 + random() * 0.5));
    if (!t.duplicate) records.push({ t: "attempt", rid: t.accept.rid, sub: w.sub.name, attempts: t.attempts, error });
    if (asked) log({ level: "INFO", message: "delivery returned to the queue, visible again after the delay its handler set", subscription: w.sub.name, eventId: t.event.id, jobId: jobIdOf(t.event), attempts: t.attempts, retryInMs: delay });
    else log({ level: "WARN", message: "delivery failed, will retry", subscription: w.sub.name, eventId: t.event.id, jobId: jobIdOf(t.event), attempts: t.attempts, retryInMs: delay, error });
    emitter.emit("failed", { event: t.event, subscription: w.sub.name, attempts: t.attempts, error, retryInMs: delay, ...(asked ? { rescheduled: true } : {}) });
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closed) return;
      w.ready.push(t);
      pump(w);
    }, delay);
    timers.add(timer);
  }

  /**
   * Journals and fans out accepted events. Deliveries start at once; the returned promise resolves
   * when the journal is fsynced, and PutEvents answers only then. A crash before the fsync loses an
   * event the caller was never told was accepted, which PutEvents allows (the caller retries).
   */
  function accept(records: AcceptRecord[], alreadyJournaled = false): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    let synced: Promise<void>;
    if (alreadyJournaled) synced = Promise.resolve();
    else if (durable) synced = journal.appendDurable(records);
    else {
      journal.append(records, false);
      synced = Promise.resolve();
    }
    for (const r of records) {
      emitter.emit("accepted", { event: r.event, bus: r.bus, subscriptions: r.subs });
      for (const s of r.subs) {
        const w = workers.get(s);
        if (!w) continue;
        enqueue(w, { accept: r, event: r.event, attempts: r.attempts?.[s] ?? 0 });
        pumpSoon(w);
      }
    }
    return synced;
  }

  function matchingSubs(bus: string, event: EventBridgeEnvelope): string[] {
    const out: string[] = [];
    for (const w of bySubBus.get(bus) ?? []) if (w.pattern.matches(event)) out.push(w.sub.name);
    return out;
  }

  function validateEntry(e: PutEventsRequestEntry, at: number, asAwsService: boolean): { event: EventBridgeEnvelope; bus: string } | PutEventsResultEntry {
    const bad = (code: string, msg: string) => ({ ErrorCode: code, ErrorMessage: msg });
    if (typeof e.Source !== "string" || e.Source.length === 0) return bad("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.");
    if (e.Source.startsWith("aws.") && !asAwsService) return bad("NotAuthorizedForSourceException", "Not authorized for the source.");
    if (typeof e.DetailType !== "string" || e.DetailType.length === 0) return bad("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
    if (typeof e.Detail !== "string" || e.Detail.length === 0) return bad("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.");
    if (e.DetailType.length > 128) return bad("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is longer than 128 characters.");
    if (e.Source.length > 256) return bad("InvalidArgument", "Parameter Source is not valid. Reason: Source is longer than 256 characters.");
    if (e.Resources !== undefined && (!Array.isArray(e.Resources) || e.Resources.some((r) => typeof r !== "string"))) {
      return bad("InvalidArgument", "Parameter Resources is not valid. Reason: Resources must be a list of strings.");
    }
    // Entry size (eb-putevents "Calculating PutEvents event entry size"): Time 14 bytes when set,
    // plus the UTF-8 bytes of Source, DetailType, Detail and each Resource.
    const size = (e.Time !== undefined ? 14 : 0) + Buffer.byteLength(e.Source) + Buffer.byteLength(e.DetailType)
      + Buffer.byteLength(e.Detail) + (e.Resources ?? []).reduce((n, r) => n + Buffer.byteLength(r), 0);
    if (size > maxEntryBytes) return bad("InvalidArgument", `Entry size ${size} bytes exceeds the limit of ${maxEntryBytes} bytes.`);
    let detail: unknown;
    try {
      detail = JSON.parse(e.Detail);
    } catch {
      return bad("MalformedDetail", "Detail is malformed.");
    }
    if (typeof detail !== "object" || detail === null || Array.isArray(detail)) return bad("MalformedDetail", "Detail is malformed.");
    const time = entryTime(e.Time, at);
    if (!time) return bad("InvalidArgument", "Parameter Time is not valid.");
    return {
      bus: busNameOf(e.EventBusName),
      event: {
        version: "0", id: randomUUID(), "detail-type": e.DetailType, source: e.Source, account, time, region,
        resources: e.Resources ?? [], detail: detail as Record<string, unknown>,
      },
    };
  }

  async function putEvents(req: PutEventsRequest, opts: { asAwsService?: boolean } = {}): Promise<PutEventsResponse> {
    if (closed) throw new BusClosedError();
    const entries = req?.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new PutEventsValidationError("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (entries.length > MAX_ENTRIES_PER_CALL) {
      throw new PutEventsValidationError(`1 validation error detected: Value '[...]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES_PER_CALL}`);
    }
    const at = now();
    const results: PutEventsResultEntry[] = [];
    const records: AcceptRecord[] = [];
    const archived: ArchiveEntry[] = [];
    for (const e of entries) {
      const v = validateEntry(e ?? {}, at, opts.asAwsService === true);
      if ("ErrorCode" in v || "EventId" in v) {
        results.push(v);
        continue;
      }
      results.push({ EventId: v.event.id });
      if (!buses.has(v.bus)) {
        // AWS answers with an EventId and silently drops events for a bus that does not exist.
        log({ level: "WARN", message: "PutEvents to an unknown event bus: dropped", bus: v.bus, eventId: v.event.id, jobId: jobIdOf(v.event) });
        continue;
      }
      archived.push({ at: new Date(at).toISOString(), bus: v.bus, event: v.event });
      records.push({ t: "accept", rid: v.event.id, at, bus: v.bus, subs: matchingSubs(v.bus, v.event), event: v.event });
    }
    archiveWriter.append(archived, false);
    await accept(records);
    return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
  }

  // Resume what a previous run left owed. A line torn by a crash is dropped, and said so: an
  // accept record torn before its fsync was never acknowledged to its sender (who retries); a
  // torn attempt or done record means one more delivery, which at-least-once allows.
  const recovered = recoverJournal(f.journal);
  const pending = recovered.pending;
  if (recovered.dropped.length) {
    log({
      level: "WARN",
      message: `bus journal ${f.journal} had ${recovered.dropped.length} torn line(s), dropped: ${recovered.dropped.map(describeDropped).join("; ")}; recovered ${recovered.records} record(s), ${pending.length} delivery(ies) still owed`,
      file: f.journal, recoveredRecords: recovered.records, pendingDeliveries: pending.length, dropped: recovered.dropped,
    });
  }
  for (const [name, file] of [["dead-letter queue", f.dlq], ["archive", f.archive]] as const) {
    const dropped = repairJsonLines(file);
    if (dropped.length) {
      log({ level: "WARN", message: `bus ${name} ${file} had ${dropped.length} torn line(s), dropped: ${dropped.map(describeDropped).join("; ")}; the other entries are kept`, file, dropped });
    }
  }
  for (const p of pending) {
    const w = workers.get(p.sub);
    if (!w) {
      log({ level: "WARN", message: "journal names an unknown subscription; leaving it undelivered", subscription: p.sub, eventId: p.accept.event.id, jobId: jobIdOf(p.accept.event) });
      continue;
    }
    enqueue(w, { accept: p.accept, event: p.accept.event, attempts: p.attempts, ...(p.lastError ? { lastError: p.lastError } : {}) });
  }
  for (const w of workers.values()) if (w.ready.length) pumpSoon(w);
  if (pending.length) log({ level: "INFO", message: "resumed deliveries from the journal", deliveries: pending.length });

  const bus: LocalBus = {
    putEvents,
    onIdle() {
      if (outstanding === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async listen(port = 0) {
      if (closed) throw new BusClosedError();
      const s = await startHttpEndpoint(bus, { port, dataDir: opts.dataDir });
      server = s;
      return { url: s.url };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if (server) await server.close();
      await Promise.allSettled([...inflightPromises]);
      journal.close();
      dlqWriter.close();
      archiveWriter.close();
      compactJournal(f.journal);
      outstanding = 0;
      settleIdle();
    },
    dlq: {
      list: (subscription) => listDlq(opts.dataDir, subscription),
      redrive(subscription) {
        if (closed) throw new BusClosedError();
        // Journal first (fsynced), then remove from the DLQ: a crash in between redelivers, never loses.
        const chosen = listDlq(opts.dataDir, subscription).filter((e) => workers.has(e.subscription));
        const records = chosen.map((e): AcceptRecord => ({ t: "accept", rid: e.dlqId, at: now(), bus: e.bus, subs: [e.subscription], event: e.event }));
        journal.append(records, true);
        const ids = new Set(chosen.map((e) => e.dlqId));
        takeDlq(opts.dataDir, undefined, (e) => ids.has(e.dlqId));
        void accept(records, true);
        return records.length;
      },
    },
    archive: {
      list(range) {
        const from = range?.from?.getTime() ?? -Infinity;
        const to = range?.to?.getTime() ?? Infinity;
        return readJsonLines<ArchiveEntry>(f.archive).filter((a) => {
          const t = Date.parse(a.event.time);
          return t >= from && t <= to;
        });
      },
      async replay({ from, to, eventPattern, replayName }) {
        if (closed) throw new BusClosedError();
        const filter = eventPattern === undefined ? undefined : compilePattern(eventPattern);
        const name = replayName ?? `replay-${new Date(now()).toISOString().replace(/[:.]/g, "-")}`;
        const chosen = bus.archive.list({ from, ...(to ? { to } : {}) }).filter((a) => !filter || filter.matches(a.event));
        const records = chosen.map((a): AcceptRecord => {
          const event: EventBridgeEnvelope = { ...a.event, "replay-name": name };
          return { t: "accept", rid: randomUUID(), at: now(), bus: a.bus, subs: matchingSubs(a.bus, event), event };
        });
        await accept(records);
        return { replayed: records.length };
      },
    },
    on(event, listener) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return bus;
    },
    off(event, listener) {
      emitter.off(event, listener as (...args: unknown[]) => void);
      return bus;
    },
  };
  return bus;
}
