import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryPublisher } from "@reelbridge/core";
import type { Logger } from "@reelbridge/core";
import { createMemoryRenderIndex } from "@reelbridge/core/render/index";
import { handleRenderWebhook } from "@reelbridge/core/usecases/render-webhook";
import type { RenderWebhookDeps } from "@reelbridge/core/usecases/render-webhook";
import { reconcileRenders } from "@reelbridge/core/usecases/render-watchdog";
import { startRender } from "@reelbridge/core/usecases/start-render";
import type { PipelineEvent } from "@reelbridge/events";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import { createLocalRemotion } from "../../../src/remotion-emulator";
import type { LocalRender } from "../../../src/remotion-emulator";

/**
 * The local render loop over real HTTP, without Chromium: the render step starts a render on the
 * emulator, the emulator POSTs Remotion's signed webhook to a local endpoint that runs the
 * webhook use-case on the raw body, and the watchdog settles what the webhook could not.
 */
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const SECRET = "local-webhook-secret";
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const render: LocalRender = async (o) => {
  await writeFile(o.outputPath, new Uint8Array(4096));
  o.onProgress?.({ progress: 1, renderedFrames: 240, encodedFrames: 240 });
  return { outputPath: o.outputPath, sizeBytes: 4096, durationSeconds: 8, width: 1080, height: 1920, fps: 30, timeToFinishMs: 3 };
};

let dir: string;
let server: Server;
let url: string;
let hookDeps: RenderWebhookDeps;
const answered: number[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "remotion-loop-"));
  answered.length = 0;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
      handleRenderWebhook(hookDeps, { rawBody: Buffer.concat(chunks).toString("utf8"), headers })
        .then((r) => {
          answered.push(r.status);
          res.writeHead(r.status, { "content-type": "application/json" }).end(JSON.stringify(r.body));
        })
        .catch(() => {
          answered.push(500);
          res.writeHead(500).end();
        });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/remotion-webhook`;
});
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const world = (emulatorSecret: string) => {
  const blobs = createMemoryBlobStore({ bucket: "local-media" });
  blobs.seed(`jobs/${JOB}/base.mp4`, new Uint8Array(64), { contentType: "video/mp4" });
  const state = createMemoryStepStateStore();
  const publisher = createMemoryPublisher();
  const index = createMemoryRenderIndex();
  let now = Date.now();
  const clock = { now: () => new Date(now) };
  const emulator = createLocalRemotion({ render, blobs, webhookSecret: emulatorSecret, tmpDir: dir, webhookRetryDelayMs: () => 5 });
  hookDeps = { secret: SECRET, state, publisher, blobs, clock, index, logger: quiet };
  const start = () =>
    startRender({ blobs, state, publisher, clock, index, renderer: emulator, webhookUrl: url, keyframeIntervalSeconds: 2 }, structuredClone(readySample) as PipelineEvent<"VideoBaseReady">, { logger: quiet });
  return { blobs, state, publisher, index, emulator, start, clock, advance: (s: number) => (now += s * 1000) };
};

describe("local render loop (emulator → signed webhook over HTTP → events)", () => {
  it("RenderStarted, then RenderCompleted from the emulator's webhook", async () => {
    const w = world(SECRET);
    const { renderId } = await w.start();
    await w.emulator.idle();
    // A 503 (renderId not recorded yet) is possible when the webhook beats startRender's write; Remotion's retry covers it.
    expect(answered.filter((s) => s !== 503)).toEqual([200]);
    expect(w.publisher.published.map((e) => e.type)).toEqual(["RenderStarted", "RenderCompleted"]);
    expect(w.publisher.published[1]).toMatchObject({
      eventId: `${JOB}:render-completed:${renderId}`,
      data: { renderer: "remotion-local", video: { bucket: "local-media", key: `jobs/${JOB}/final.mp4`, sizeBytes: 4096, durationSeconds: 8, width: 1080, height: 1920, fps: 30 } },
    });
    expect(w.index.entries()).toEqual([]);
  });

  it("a webhook signed with the wrong secret is refused (401, retried twice, nothing emitted) and the watchdog settles the render", async () => {
    const w = world("not-the-stage-secret");
    const { renderId } = await w.start();
    await w.emulator.idle();
    expect(answered).toEqual([401, 401, 401]);
    expect(w.publisher.published.map((e) => e.type)).toEqual(["RenderStarted"]);

    w.advance(700);
    const summary = await reconcileRenders({ ...hookDeps, index: w.index, getRenderProgress: w.emulator.getProgress, afterSeconds: 600 }, { logger: quiet });
    expect(summary).toMatchObject({ checked: 1, completed: 1 });
    expect(w.publisher.published.map((e) => e.eventId)).toEqual([`${JOB}:render-started:${renderId}`, `${JOB}:render-completed:${renderId}`]);
  });
});
