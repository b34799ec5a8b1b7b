/**
 * On-disk state of the local bus, all append-only JSON lines under `<dataDir>/bus/`:
 *
 * - `journal.jsonl`: one `accept` record per accepted event (fsynced before PutEvents answers) with
 *   the subscriptions it must reach, then `attempt` / `done` records as deliveries progress. On
 *   start the journal is folded: every (record, subscription) without `done` is delivered again.
 *   `done` and `attempt` are not fsynced: losing one means a redelivery, which at-least-once allows.
 * - `dlq.jsonl`: dead-lettered deliveries (event, subscription, attempts, last error).
 * - `archive.jsonl`: every event the bus accepted, for `events replay`.
 *
 * Torn lines (a crash mid-write) are skipped when reading; on open the bus says which it dropped
 * and what it recovered (recoverJournal, repairJsonLines). Everything here is private to the
 * user (0600): events carry presigned URLs and callback URLs.
 */
import { closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { EventBridgeEnvelope } from "./types";

export interface AcceptRecord {
  t: "accept";
  /** Delivery record id: one per acceptance (a replay or redrive of the same event gets a new one). */
  rid: string;
  at: number;
  bus: string;
  subs: string[];
  event: EventBridgeEnvelope;
  /** Receive/attempt counts carried over (a redrive starts from zero; a restart keeps them). */
  attempts?: Record<string, number>;
}
export interface AttemptRecord { t: "attempt"; rid: string; sub: string; attempts: number; error: string }
export interface DoneRecord { t: "done"; rid: string; sub: string }
export type JournalRecord = AcceptRecord | AttemptRecord | DoneRecord;

export interface DlqEntry {
  dlqId: string;
  at: string;
  subscription: string;
  bus: string;
  attempts: number;
  lastError: string;
  event: EventBridgeEnvelope;
}

export interface ArchiveEntry { at: string; bus: string; event: EventBridgeEnvelope }

export function busDir(dataDir: string): string {
  return join(dataDir, "bus");
}

/** A line that did not parse: where it was and what it looked like. */
export interface DroppedLine {
  /** 1-based line number. */
  line: number;
  bytes: number;
  /** The start of the line, for a person to recognise it. */
  head: string;
  /** Best effort, from the fragment: the record type, the event's detail-type and id. */
  record?: string;
  detailType?: string;
  eventId?: string;
}

export function readJsonLinesReport<T>(file: string): { rows: T[]; dropped: DroppedLine[] } {
  if (!existsSync(file)) return { rows: [], dropped: [] };
  const rows: T[] = [];
  const dropped: DroppedLine[] = [];
  readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    if (!line) return;
    try {
      rows.push(JSON.parse(line) as T);
    } catch {
      // A torn write at crash time: kept out, and described.
      const record = /"t":"(accept|attempt|done)"/.exec(line)?.[1];
      const detailType = /"detail-type":"([^"]*)"/.exec(line)?.[1];
      const eventId = /"id":"([^"]*)"/.exec(line)?.[1] ?? /"rid":"([^"]*)"/.exec(line)?.[1];
      dropped.push({ line: i + 1, bytes: Buffer.byteLength(line), head: line.slice(0, 80), ...(record ? { record } : {}), ...(detailType ? { detailType } : {}), ...(eventId ? { eventId } : {}) });
    }
  });
  return { rows, dropped };
}

export function readJsonLines<T>(file: string): T[] {
  return readJsonLinesReport<T>(file).rows;
}

/** A dropped line in words: "line 3 (212 bytes, an accept record of a VideoBaseReady event 0f…)". */
export function describeDropped(d: DroppedLine): string {
  const what = [d.record ? `${d.record === "accept" ? "an" : "a"} ${d.record} record` : "an unreadable record", d.detailType ? `of a ${d.detailType} event` : "", d.eventId ? d.eventId : ""].filter(Boolean).join(" ");
  return `line ${d.line} (${d.bytes} bytes, ${what})`;
}

/**
 * Rewrites a JSON-lines file without its torn lines, when it has any, so later appends start on
 * a fresh line; returns what was dropped.
 */
export function repairJsonLines(file: string): DroppedLine[] {
  const { rows, dropped } = readJsonLinesReport(file);
  if (dropped.length) writeJsonLines(file, rows);
  return dropped;
}

/** Atomically replaces a JSON-lines file. */
export function writeJsonLines(file: string, rows: unknown[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    if (rows.length) writeSync(fd, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export interface PendingDelivery { accept: AcceptRecord; sub: string; attempts: number; lastError?: string }

/** Folds journal records into the deliveries that are still owed. */
export function foldJournal(records: JournalRecord[]): PendingDelivery[] {
  const accepts = new Map<string, AcceptRecord>();
  const state = new Map<string, { attempts: number; lastError?: string; done: boolean }>();
  for (const r of records) {
    if (r.t === "accept") {
      accepts.set(r.rid, r);
      for (const s of r.subs) state.set(`${r.rid}|${s}`, { attempts: r.attempts?.[s] ?? 0, done: false });
    } else {
      const st = state.get(`${r.rid}|${r.sub}`);
      if (!st) continue;
      if (r.t === "done") st.done = true;
      else {
        st.attempts = r.attempts;
        st.lastError = r.error;
      }
    }
  }
  const out: PendingDelivery[] = [];
  for (const a of accepts.values()) {
    for (const s of a.subs) {
      const st = state.get(`${a.rid}|${s}`)!;
      if (!st.done) out.push({ accept: a, sub: s, attempts: st.attempts, ...(st.lastError ? { lastError: st.lastError } : {}) });
    }
  }
  return out;
}

/** Rewrites the journal so it holds only what is still owed (called on open and close). */
export function compactJournal(file: string): PendingDelivery[] {
  return recoverJournal(file).pending;
}

/** compactJournal, also telling which torn lines it dropped and how many records it read. */
export function recoverJournal(file: string): { pending: PendingDelivery[]; records: number; dropped: DroppedLine[] } {
  const { rows, dropped } = readJsonLinesReport<JournalRecord>(file);
  const pending = foldJournal(rows);
  const byRid = new Map<string, AcceptRecord>();
  for (const p of pending) {
    const a = byRid.get(p.accept.rid) ?? { ...p.accept, subs: [], attempts: {} };
    a.subs.push(p.sub);
    a.attempts![p.sub] = p.attempts;
    byRid.set(p.accept.rid, a);
  }
  writeJsonLines(file, [...byRid.values()]);
  return { pending, records: rows.length, dropped };
}

/** Append-only writer with an open fd; `durable` appends are fsynced before returning. */
export class JsonLinesWriter {
  private fd: number | undefined;
  constructor(readonly file: string) {}
  open(): void {
    if (this.fd === undefined) this.fd = openSync(this.file, "a", 0o600);
  }
  append(rows: unknown[], durable: boolean): void {
    if (rows.length === 0) return;
    this.open();
    writeSync(this.fd!, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    if (durable) fsyncSync(this.fd!);
  }
  /**
   * Writes now (to the page cache) and resolves once the data is fsynced. The fsync runs on the
   * libuv thread pool, so the caller can start work (deliveries) while the disk catches up.
   */
  appendDurable(rows: unknown[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    this.append(rows, false);
    const fd = this.fd!;
    return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  }
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

export function ensureBusDir(dataDir: string): string {
  const dir = busDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export const files = (dataDir: string) => ({
  journal: join(busDir(dataDir), "journal.jsonl"),
  dlq: join(busDir(dataDir), "dlq.jsonl"),
  archive: join(busDir(dataDir), "archive.jsonl"),
  runtime: join(dataDir, "runtime.json"),
});

export function listDlq(dataDir: string, subscription?: string): DlqEntry[] {
  const all = readJsonLines<DlqEntry>(files(dataDir).dlq);
  return subscription ? all.filter((e) => e.subscription === subscription) : all;
}

/** Removes the selected entries from the DLQ file and returns them. */
export function takeDlq(dataDir: string, subscription?: string, select?: (e: DlqEntry) => boolean): DlqEntry[] {
  const file = files(dataDir).dlq;
  const all = readJsonLines<DlqEntry>(file);
  const taken = all.filter((e) => (!subscription || e.subscription === subscription) && (!select || select(e)));
  if (taken.length) writeJsonLines(file, all.filter((e) => !taken.includes(e)));
  return taken;
}

/**
 * Redrive without a running runtime: the DLQ entries become journal records, so the next start
 * of the runtime delivers them (with fresh attempt counts, as an SQS redrive does).
 */
export function redriveOffline(dataDir: string, subscription?: string): number {
  ensureBusDir(dataDir);
  const chosen = listDlq(dataDir, subscription);
  if (chosen.length === 0) return 0;
  const w = new JsonLinesWriter(files(dataDir).journal);
  try {
    w.append(chosen.map((e): AcceptRecord => ({ t: "accept", rid: e.dlqId, at: Date.now(), bus: e.bus, subs: [e.subscription], event: e.event })), true);
  } finally {
    w.close();
  }
  const ids = new Set(chosen.map((e) => e.dlqId));
  return takeDlq(dataDir, undefined, (e) => ids.has(e.dlqId)).length;
}

export function writeRuntimeFile(dataDir: string, info: { url: string; pid: number; startedAt: string }): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(files(dataDir).runtime, JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
}
