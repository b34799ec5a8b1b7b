import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLocalBus, PutEventsValidationError } from "../../../src/eventbridge";
import type { BusSubscription, Delivery, EventBridgeEnvelope, LocalBus, LocalBusOptions } from "../../../src/eventbridge";

const dirs: string[] = [];
const buses: LocalBus[] = [];
afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "rb-bus-"));
  dirs.push(d);
  return d;
}
function bus(o: Partial<LocalBusOptions> & { subscriptions: BusSubscription[] }, dataDir = tmp()): LocalBus {
  const b = createLocalBus({ dataDir, buses: ["default", "pipeline"], timing: { retryBaseMs: 1, retryMaxMs: 4 }, log: () => {}, ...o });
  buses.push(b);
  return b;
}
const direct = (asyncRetryAttempts: 0 | 1 | 2 = 2): Delivery => ({ kind: "direct", retry: { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86400 }, asyncRetryAttempts });
const queue = (o: Partial<{ batchSize: number; maxReceiveCount: number }> = {}): Delivery => ({
  kind: "queue", retry: { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86400 }, concurrencyKey: "ltx",
  batchSize: o.batchSize ?? 1, visibilityTimeoutSeconds: 30, maxReceiveCount: o.maxReceiveCount ?? 3,
});
const entry = (detailType: string, detail: object = {}, extra: object = {}) => ({ Source: "reelbridge.test", DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: "pipeline", ...extra });

describe("PutEvents semantics", () => {
  it("rejects more than 10 entries as a whole and reports per-entry failures", async () => {
    const b = bus({ subscriptions: [] });
    await expect(b.putEvents({ Entries: Array.from({ length: 11 }, () => entry("A")) })).rejects.toBeInstanceOf(PutEventsValidationError);
    const res = await b.putEvents({ Entries: [entry("A"), { Source: "x", Detail: "{}" }, entry("B", {}, { Detail: "{not json" }), entry("C", {}, { Detail: JSON.stringify({ big: "x".repeat(300) }) })] });
    expect(res.FailedEntryCount).toBe(2);
    expect(res.Entries[0]).toHaveProperty("EventId");
    expect(res.Entries[1]).toMatchObject({ ErrorCode: "InvalidArgument" });
    expect(res.Entries[2]).toMatchObject({ ErrorCode: "MalformedDetail" });
    expect(res.Entries[3]).toHaveProperty("EventId");
    const small = bus({ subscriptions: [], maxEntryBytes: 256 });
    const big = await small.putEvents({ Entries: [entry("C", { big: "x".repeat(300) })] });
    expect(big.Entries[0]).toMatchObject({ ErrorCode: "InvalidArgument" });
  });

  it("refuses aws.* sources per entry (NotAuthorizedForSourceException), except from the local stand-in of that service", async () => {
    const got: EventBridgeEnvelope[] = [];
    const b = bus({ subscriptions: [{ name: "s3", busName: "default", pattern: { source: [{ prefix: "aws." }] }, delivery: direct(), invoke: async (events) => void got.push(...events) }] });
    const forged = { Source: "aws.s3", DetailType: "Object Created", Detail: JSON.stringify({ object: { key: "uploads/x/source" } }), EventBusName: "default" };
    const res = await b.putEvents({ Entries: [forged, { ...forged, Source: "aws.events" }, entry("A")] });
    expect(res.FailedEntryCount).toBe(2);
    expect(res.Entries.slice(0, 2)).toEqual([
      { ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: "Not authorized for the source." },
      { ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: "Not authorized for the source." },
    ]);
    expect(res.Entries[2]).toHaveProperty("EventId");
    const service = await b.putEvents({ Entries: [forged] }, { asAwsService: true });
    expect(service.FailedEntryCount).toBe(0);
    await b.onIdle();
    expect(got.map((e) => e.source)).toEqual(["aws.s3"]);
  });

  it("delivers the envelope exactly as EventBridge does, to every matching subscription of that bus only", async () => {
    const got: Record<string, EventBridgeEnvelope[]> = { a: [], b: [], other: [] };
    const sub = (name: string, busName: string, pattern: object): BusSubscription => ({ name, busName, pattern, delivery: direct(), invoke: async (evs) => void got[name]!.push(...evs) });
    const b = bus({
      account: "111122223333", region: "eu-west-1",
      subscriptions: [sub("a", "pipeline", { "detail-type": ["Ready"] }), sub("b", "pipeline", { detail: { n: [{ numeric: [">", 1] }] } }), sub("other", "default", { "detail-type": ["Ready"] })],
    });
    const res = await b.putEvents({ Entries: [entry("Ready", { n: 2 }, { Resources: ["arn:x"], Time: new Date("2026-11-20T10:00:00.500Z") }), entry("Ready", {}, { EventBusName: "nope" })] });
    await b.onIdle();
    expect(res.FailedEntryCount).toBe(0);
    expect(got.a).toHaveLength(1);
    expect(got.b).toHaveLength(1);
    expect(got.other).toHaveLength(0);
    expect(got.a![0]).toEqual({
      version: "0", id: (res.Entries[0] as { EventId: string }).EventId, "detail-type": "Ready", source: "reelbridge.test",
      account: "111122223333", time: "2026-11-20T10:00:00Z", region: "eu-west-1", resources: ["arn:x"], detail: { n: 2 },
    });
  });
});

describe("direct delivery (async invoke)", () => {
  it("runs the handler 1 + asyncRetryAttempts times, then dead-letters with attempts and last error", async () => {
    let calls = 0;
    const b = bus({ subscriptions: [{ name: "notifier", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(2), invoke: async () => { calls++; throw new Error("boom " + calls); } }] });
    await b.putEvents({ Entries: [entry("X")] });
    await b.onIdle();
    expect(calls).toBe(3);
    const dlq = b.dlq.list();
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ subscription: "notifier", attempts: 3, lastError: "Error: boom 3" });
    expect(dlq[0]!.event["detail-type"]).toBe("X");
  });

  it("a retry that succeeds is delivered once and nothing is dead-lettered", async () => {
    let calls = 0;
    const b = bus({ subscriptions: [{ name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(1), invoke: async () => { if (++calls === 1) throw new Error("transient"); } }] });
    const delivered: number[] = [];
    b.on("delivered", (d) => delivered.push(d.attempts));
    await b.putEvents({ Entries: [entry("X")] });
    await b.onIdle();
    expect(delivered).toEqual([2]);
    expect(b.dlq.list()).toEqual([]);
  });
});

describe("queue delivery (SQS semantics)", () => {
  it("batches, bounds concurrency, redelivers only the reported failures, and dead-letters after maxReceiveCount", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const batches: number[] = [];
    const receives = new Map<string, number>();
    const b = bus({
      subscriptions: [{
        name: "ltx", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: queue({ batchSize: 3, maxReceiveCount: 2 }), concurrency: 2,
        invoke: async (evs) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          batches.push(evs.length);
          await new Promise((r) => setTimeout(r, 5));
          inFlight--;
          for (const e of evs) receives.set(e.detail.k as string, (receives.get(e.detail.k as string) ?? 0) + 1);
          return { failedEventIds: evs.filter((e) => e.detail.k === "poison").map((e) => e.id) };
        },
      }],
    });
    await b.putEvents({ Entries: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "poison"].map((k) => entry("Job", { k })) });
    await b.onIdle();
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(Math.max(...batches)).toBe(3);
    expect(receives.get("poison")).toBe(2);
    expect(receives.get("a")).toBe(1);
    const dlq = b.dlq.list("ltx");
    expect(dlq.map((e) => e.event.detail.k)).toEqual(["poison"]);
    expect(dlq[0]!.attempts).toBe(2);
  });

  it("redelivers a failed record after the delay its handler asked (a scheduled re-check), not after its own backoff", async () => {
    const at: number[] = [];
    const b = bus({
      timing: { retryBaseMs: 1, retryMaxMs: 4 },
      subscriptions: [
        {
          name: "checker", busName: "pipeline", pattern: { "detail-type": ["Look"] }, delivery: queue({ maxReceiveCount: 10 }),
          invoke: async (events) => {
            at.push(Date.now());
            // Twice "look again in 150 ms" (reported failed, with the delay), then done.
            return at.length < 3 ? { failedEventIds: events.map((e) => e.id), retryAfterMs: Object.fromEntries(events.map((e) => [e.id, 150])) } : {};
          },
        },
      ],
    });
    await b.putEvents({ Entries: [entry("Look")] });
    await b.onIdle();
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(140);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(140);
    expect(b.dlq.list()).toEqual([]);
  });

  it("a thrown error fails the whole batch", async () => {
    let calls = 0;
    const b = bus({ subscriptions: [{ name: "q", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: queue({ batchSize: 10, maxReceiveCount: 2 }), invoke: async () => { calls++; throw new Error("down"); } }] });
    await b.putEvents({ Entries: [entry("A"), entry("B")] });
    await b.onIdle();
    expect(b.dlq.list()).toHaveLength(2);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});

describe("durability", () => {
  it("events accepted but not delivered before a crash are delivered after restart, with their attempt count", async () => {
    const dataDir = tmp();
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    // First process: the handler fails once, then hangs (the process "crashes" mid-delivery).
    let first = 0;
    const b1 = createLocalBus({ dataDir, buses: ["pipeline"], timing: { retryBaseMs: 1, retryMaxMs: 2 }, log: () => {}, subscriptions: [{
      name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(2),
      invoke: async () => { if (++first === 1) throw new Error("first"); await blocked; },
    }] });
    await b1.putEvents({ Entries: [entry("A", { n: 1 }), entry("B", { n: 2 })] });
    await new Promise((r) => setTimeout(r, 30));
    // Restart without closing b1 (as after kill -9): the journal still owes both deliveries.
    const seen: Array<{ n: unknown; attempts: number }> = [];
    const b2 = createLocalBus({ dataDir, buses: ["pipeline"], log: () => {}, subscriptions: [{
      name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(2), invoke: async (evs) => void seen.push({ n: evs[0]!.detail.n, attempts: 0 }),
    }] });
    const attempts: number[] = [];
    b2.on("delivered", (d) => attempts.push(d.attempts));
    await b2.onIdle();
    await b2.close();
    expect(seen.map((s) => s.n).sort()).toEqual([1, 2]);
    // One of the two had already failed once (journaled), so it is on its second attempt now.
    expect(attempts.sort()).toEqual([1, 2]);
    release();
    await b1.close();
    // Everything was delivered: a third start owes nothing.
    const b3 = bus({ subscriptions: [{ name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(), invoke: async () => { throw new Error("must not be called"); } }] }, dataDir);
    await b3.onIdle();
    expect(b3.dlq.list()).toEqual([]);
  });

  it("retries pending at close are resumed by the next start", async () => {
    const dataDir = tmp();
    const b1 = createLocalBus({ dataDir, buses: ["pipeline"], timing: { retryBaseMs: 10_000, retryMaxMs: 10_000 }, log: () => {}, subscriptions: [{
      name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(2), invoke: async () => { throw new Error("later"); },
    }] });
    await b1.putEvents({ Entries: [entry("A")] });
    await new Promise((r) => setTimeout(r, 20));
    await b1.close();
    let got = 0;
    const b2 = bus({ subscriptions: [{ name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(2), invoke: async () => void got++ }] }, dataDir);
    await b2.onIdle();
    expect(got).toBe(1);
  });
});

describe("DLQ redrive and archive replay", () => {
  it("redrive re-delivers dead letters of one subscription and empties them from the DLQ", async () => {
    let fail = true;
    const got: string[] = [];
    const mk = (name: string): BusSubscription => ({ name, busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(0), invoke: async (evs) => { if (fail) throw new Error("no"); got.push(`${name}:${evs[0]!["detail-type"]}`); } });
    const b = bus({ subscriptions: [mk("one"), mk("two")] });
    await b.putEvents({ Entries: [entry("A")] });
    await b.onIdle();
    expect(b.dlq.list()).toHaveLength(2);
    fail = false;
    expect(b.dlq.redrive("one")).toBe(1);
    await b.onIdle();
    expect(got).toEqual(["one:A"]);
    expect(b.dlq.list().map((e) => e.subscription)).toEqual(["two"]);
  });

  it("archives every event and replays a time window filtered by a pattern, marked with replay-name", async () => {
    const got: EventBridgeEnvelope[] = [];
    const b = bus({ subscriptions: [{ name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(), invoke: async (evs) => void got.push(...evs) }] });
    await b.putEvents({ Entries: [entry("Old", {}, { Time: new Date("2026-01-01T00:00:00Z") }), entry("New", {}, { Time: new Date("2026-06-01T00:00:00Z") }), entry("Other", {}, { Time: new Date("2026-06-02T00:00:00Z") })] });
    await b.onIdle();
    got.length = 0;
    const r = await b.archive.replay({ from: new Date("2026-05-01T00:00:00Z"), eventPattern: { "detail-type": ["New", "Old"] }, replayName: "r1" });
    await b.onIdle();
    expect(r.replayed).toBe(1);
    expect(got.map((e) => [e["detail-type"], e["replay-name"]])).toEqual([["New", "r1"]]);
    expect(b.archive.list()).toHaveLength(3);
  });
});

describe("test mode: at-least-once drills", () => {
  it("redelivers events and shuffles their order (seeded)", async () => {
    const order: number[] = [];
    const b = bus({
      testMode: { redeliverProbability: 1, shuffle: true, seed: 42 },
      subscriptions: [{ name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: queue({ batchSize: 1 }), concurrency: 1, invoke: async (evs) => void order.push(evs[0]!.detail.i as number) }],
    });
    await b.putEvents({ Entries: Array.from({ length: 10 }, (_, i) => entry("E", { i })) });
    await b.onIdle();
    expect(order).toHaveLength(20);
    expect([...new Set(order)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(order.slice(0, 10)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

it("journal stays small: close() compacts it to what is still owed", async () => {
  const dataDir = tmp();
  const b = createLocalBus({ dataDir, buses: ["pipeline"], log: () => {}, subscriptions: [{ name: "s", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: direct(), invoke: async () => {} }] });
  await b.putEvents({ Entries: [entry("A"), entry("B")] });
  await b.onIdle();
  await b.close();
  expect(readFileSync(join(dataDir, "bus", "journal.jsonl"), "utf8")).toBe("");
});
