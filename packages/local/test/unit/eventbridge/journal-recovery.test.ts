import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLocalBus } from "../../../src/eventbridge";
import type { EventBridgeEnvelope, LocalBus } from "../../../src/eventbridge";

/** Issue #11 item 9: a journal cut mid-line is recovered, and the bus says what it dropped. */
const dirs: string[] = [];
const buses: LocalBus[] = [];
afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const event = (id: string, detailType: string): EventBridgeEnvelope => ({
  version: "0", id, "detail-type": detailType, source: "reelbridge.test", account: "000000000000", time: "2026-01-01T00:00:00Z", region: "us-east-1", resources: [],
  detail: { metadata: { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AB" } },
});

describe("a torn bus journal", () => {
  it("delivers what it could read, drops the torn line and logs a WARN saying both", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rb-journal-"));
    dirs.push(dataDir);
    mkdirSync(join(dataDir, "bus"));
    const whole = { t: "accept", rid: "e1", at: Date.now(), bus: "pipeline", subs: ["sub"], event: event("e1", "VideoBaseReady") };
    const torn = JSON.stringify({ t: "accept", rid: "e2", at: Date.now(), bus: "pipeline", subs: ["sub"], event: event("e2", "RenderStarted") }).slice(0, 180);
    writeFileSync(join(dataDir, "bus", "journal.jsonl"), `${JSON.stringify(whole)}\n${torn}`);
    // The archive cut mid-line too: later appends must not be glued onto the torn fragment.
    writeFileSync(join(dataDir, "bus", "archive.jsonl"), `{"at":"2026-01-01T00:00:00Z","bus":"pipe`);

    const logs: Array<Record<string, unknown>> = [];
    const delivered: string[] = [];
    const b = createLocalBus({
      dataDir, buses: ["pipeline"], log: (r) => logs.push(r), timing: { retryBaseMs: 1, retryMaxMs: 2 },
      subscriptions: [{ name: "sub", busName: "pipeline", pattern: { source: ["reelbridge.test"] }, delivery: { kind: "direct", retry: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 60 }, asyncRetryAttempts: 0 }, invoke: async (events) => void delivered.push(...events.map((e) => e.id)) }],
    });
    buses.push(b);
    await b.onIdle();
    expect(delivered).toEqual(["e1"]);

    const warn = logs.find((l) => l.level === "WARN" && String(l.message).startsWith("bus journal"));
    expect(warn).toBeDefined();
    expect(warn!.message).toMatch(/1 torn line\(s\), dropped: line 2 \(180 bytes, an accept record of a RenderStarted event e2\); recovered 1 record\(s\), 1 delivery\(ies\) still owed/);
    expect(warn).toMatchObject({ recoveredRecords: 1, pendingDeliveries: 1, dropped: [{ line: 2, bytes: 180, record: "accept", detailType: "RenderStarted", eventId: "e2" }] });
    expect(logs).toContainEqual(expect.objectContaining({ level: "WARN", message: expect.stringMatching(/^bus archive .* 1 torn line\(s\)/) }));
    // Every bus log record has the runtime's shape: level in capitals and `message`, never `msg`.
    for (const l of logs) {
      expect(["INFO", "WARN", "ERROR"]).toContain(l.level);
      expect(typeof l.message).toBe("string");
      expect(l).not.toHaveProperty("msg");
    }

    await b.putEvents({ Entries: [{ Source: "reelbridge.test", DetailType: "X", Detail: "{}", EventBusName: "pipeline" }] });
    await b.onIdle();
    expect(b.archive.list().map((a) => a.event["detail-type"])).toEqual(["X"]);
    appendFileSync(join(dataDir, "bus", "archive.jsonl"), "");
    expect(readFileSync(join(dataDir, "bus", "archive.jsonl"), "utf8").split("\n").filter(Boolean)).toHaveLength(1);
  });
});
