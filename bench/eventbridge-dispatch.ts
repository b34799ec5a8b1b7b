/**
 * Bus dispatch overhead: time from calling putEvents (journal fsync included) to the start of the
 * handler, with 20 subscriptions on the bus (all matching, direct delivery), p50 and p99 over
 * 2,000 events sent one at a time; plus the PutEvents response time, which waits for the journal
 * fsync (handlers start while the fsync runs). BENCH_FSYNC=0 turns the fsync off. One JSON line per figure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalBus } from "@reelbridge/local/eventbridge/index";
import type { BusSubscription } from "@reelbridge/local/eventbridge/index";

const SUBSCRIPTIONS = 20;
const EVENTS = 2000;
const dataDir = mkdtempSync(join(tmpdir(), "rb-bench-"));
let sentAt = 0n;
let firstStart = 0n;
const subs: BusSubscription[] = Array.from({ length: SUBSCRIPTIONS }, (_, i) => ({
  name: `sub-${i}`, busName: "pipeline",
  pattern: { source: ["reelbridge.bench"], "detail-type": ["Tick"], detail: { k: [{ prefix: "job-" }] } },
  delivery: { kind: "direct", retry: { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86400 }, asyncRetryAttempts: 2 },
  invoke: async () => {
    if (firstStart === 0n) firstStart = process.hrtime.bigint();
  },
}));
const fsync = process.env.BENCH_FSYNC !== "0";
const bus = createLocalBus({ dataDir, buses: ["pipeline"], subscriptions: subs, log: () => {}, fsync });
const firstStartNs: number[] = [];
const allStartedNs: number[] = [];
const putNs: number[] = [];
let lastStart = 0n;
bus.on("invoking", () => {
  lastStart = process.hrtime.bigint();
});
for (let i = 0; i < EVENTS; i++) {
  firstStart = 0n;
  sentAt = process.hrtime.bigint();
  await bus.putEvents({ Entries: [{ Source: "reelbridge.bench", DetailType: "Tick", Detail: JSON.stringify({ k: `job-${i}` }), EventBusName: "pipeline" }] });
  const answeredAt = process.hrtime.bigint();
  await bus.onIdle();
  if (i >= 100) putNs.push(Number(answeredAt - sentAt));
  if (i >= 100) {
    firstStartNs.push(Number(firstStart - sentAt));
    allStartedNs.push(Number(lastStart - sentAt));
  }
}
await bus.close();
rmSync(dataDir, { recursive: true, force: true });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! / 1e6;
};
const out = (name: string, value: number) => console.log(JSON.stringify({ name, value: Number(value.toFixed(3)), unit: "ms" }));
out("eventbridge.dispatch.put_to_first_handler_start.p50", pct(firstStartNs, 50));
out("eventbridge.dispatch.put_to_first_handler_start.p99", pct(firstStartNs, 99));
out("eventbridge.dispatch.put_to_20th_handler_start.p50", pct(allStartedNs, 50));
out("eventbridge.dispatch.put_to_20th_handler_start.p99", pct(allStartedNs, 99));
// PutEvents answers after the journal fsync; this is disk latency, not bus overhead.
out(`eventbridge.putevents_response${fsync ? "_fsync" : ""}.p50`, pct(putNs, 50));
out(`eventbridge.putevents_response${fsync ? "_fsync" : ""}.p99`, pct(putNs, 99));
