import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { Data } from "@reelbridge/events";
import { createLtxVideoGenerator } from "@reelbridge/core/adapters/ltx/generator";
import { fixtureUrl } from "@reelbridge/testing/fixtures";
import { startFakeLtxServer } from "@reelbridge/testing/ltx-server";
import type { FakeLtxServer } from "@reelbridge/testing/ltx-server";
import type { InvocationRecord } from "../../../src/runtime/lambda";
import { submitSamplePhoto } from "../../fixtures/runtime-jobs";
import { startRuntime } from "../../../src/runtime/runtime";
import type { Runtime } from "../../../src/runtime/runtime";

/**
 * The LTX step in the embedded runtime against the fake LTX server (issue #13 item 3): no
 * invocation waits for the generation; the queue brings the message back after the delay the
 * handler asked (scaled: 30 s → 0.6 s, 10 s → 0.2 s), and every invocation is measured at the
 * topology's memory.
 */
const API_KEY = "ltx-runtime-test-key";
const CLIP = new Uint8Array(readFileSync(fixtureUrl("unit/ltx/fixtures/base-1080x1920-24fps-2s.mp4")));
const SCALE = 0.02;
const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-ltx-checks-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

let ltx: FakeLtxServer | undefined;
const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.close();
  await ltx?.close();
  ltx = undefined;
});

async function start(dir: string, fake: FakeLtxServer): Promise<Runtime> {
  const videoGenerator = createLtxVideoGenerator({ apiKey: API_KEY, baseUrl: fake.url, model: "ltx-2-fast", checkIntervalSeconds: { first: 30, next: 10 } });
  const rt = await startRuntime({ dataDir: dir, renderScale: 0.25, videoGenerator, checkDelayScale: SCALE });
  runtimes.push(rt);
  return rt;
}

const upload = (rt: Runtime) => submitSamplePhoto(rt, { title: "Looked at, not waited for", cameraPrompt: "slow dolly in", music: "sunrise", aspect: "9:16", durationSeconds: 6 });

/** Resolves with the event's data once the bus accepted `type` for the job. */
function accepted<T extends "VideoBaseStarted" | "VideoBaseReady">(rt: Runtime, type: T, jobId: () => string | undefined, timeoutMs = 120_000): Promise<Data<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
    rt.bus.on("accepted", ({ event }) => {
      const detail = event.detail as { metadata?: { jobId?: string }; data?: unknown };
      if (event["detail-type"] === type && detail.metadata?.jobId === jobId()) {
        clearTimeout(timer);
        resolve(detail.data as Data<T>);
      }
    });
  });
}

describe("the LTX step in the embedded runtime: submit, then looks the queue schedules", () => {
  it("submits in one invocation and looks in short ones after the delays it asked, each measured at 2,048 MB; VideoBaseReady's Lambda line counts them", async () => {
    ltx = await startFakeLtxServer({ apiKey: API_KEY, allowHttp: true, allowIpHosts: true, pendingMs: 400, processingMs: 800, videoFactory: async () => CLIP });
    const rt = await start(join(dataDir, "checks"), ltx);
    const invocations: InvocationRecord[] = [];
    rt.onInvocation((r) => invocations.push(r));
    // The job is named by the upload API's answer, after the listener is in place.
    const job: { id?: string } = {};
    const ready = accepted(rt, "VideoBaseReady", () => job.id);
    const jobId = (job.id = await upload(rt));
    const data = await ready;
    // VideoBaseReady is published inside the last look: its invocation is recorded when it returns.
    await vi.waitFor(() => expect(invocations.some((i) => i.function === "ltx-step" && i.failed === 0)).toBe(true), { timeout: 10_000 });

    const mine = invocations.filter((i) => i.function === "ltx-step" && i.jobIds.includes(jobId));
    const looks = mine.length - 1;
    // Each look was one status GET, and there were a few of them: the step never polled in a loop.
    expect(looks).toBeGreaterThanOrEqual(2);
    expect(ltx.counts()).toMatchObject({ accepted: 1, statusPolls: looks, downloads: 1 });
    // The submitting invocation ended before LTX finished: nothing waited for the generation.
    const generation = [...ltx.jobs.values()][0]!;
    expect(Date.parse(mine[0]!.at)).toBeLessThan(generation.completedAt!);
    // The looks came after the delays the step asked for (30 s, then 10 s, scaled).
    const began = (i: InvocationRecord) => Date.parse(i.at) - i.ms;
    expect(began(mine[1]!) - Date.parse(mine[0]!.at)).toBeGreaterThanOrEqual(30_000 * SCALE - 20);
    for (let k = 2; k < mine.length; k++) expect(began(mine[k]!) - Date.parse(mine[k - 1]!.at)).toBeGreaterThanOrEqual(10_000 * SCALE - 20);
    // Every looking invocation but the last handed the message back to the queue.
    expect(mine.map((i) => i.failed)).toEqual([...Array(looks).fill(1), 0]);
    for (const i of mine) {
      expect(i.memoryMB).toBe(2048);
      expect(i.gbSeconds).toBeCloseTo((i.ms / 1000) * 2, 9);
    }
    const lambda = data.stepCost!.lines.find((l) => l.item === "lambda:ltx-step")!;
    expect(lambda.basis).toMatch(new RegExp(`${mine.length} invocations`));
    expect(lambda.quantity).toBeLessThanOrEqual(mine.reduce((s, i) => s + i.gbSeconds, 0));
    expect(lambda.quantity).toBeGreaterThan(0);
  });

  it("a runtime stopped while the generation runs looks at the recorded generation when it starts again: one generation paid", async () => {
    ltx = await startFakeLtxServer({ apiKey: API_KEY, allowHttp: true, allowIpHosts: true, pendingMs: 1_000, processingMs: 2_000, videoFactory: async () => CLIP });
    const dir = join(dataDir, "restart");
    const first = await start(dir, ltx);
    const job: { id?: string } = {};
    const started = accepted(first, "VideoBaseStarted", () => job.id);
    const jobId = (job.id = await upload(first));
    const { generator } = await started;
    await first.close();
    runtimes.splice(runtimes.indexOf(first), 1);
    expect(ltx.counts().accepted).toBe(1);

    const second = await start(dir, ltx);
    const ready = await accepted(second, "VideoBaseReady", () => jobId);
    expect(ready.generator.generationId).toBe(generator.generationId);
    expect(ltx.counts().accepted).toBe(1);
    expect(second.stats.generations).toBe(0);
  });
});
