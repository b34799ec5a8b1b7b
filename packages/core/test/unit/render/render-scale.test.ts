import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pipelineEvents } from "@reelbridge/events";
import type { PipelineEvent } from "@reelbridge/events";
import { createMemoryJobStore } from "../../../src/jobs/memory";
import { createMemoryPublisher } from "../../../src/publish";
import { InvalidRenderScaleError, RENDER_STATE, createMemoryRenderIndex, scaledSize } from "../../../src/render";
import { handleRenderWebhook } from "../../../src/usecases/render-webhook";
import { expectedVideo, startRender } from "../../../src/usecases/start-render";
import type { StartRenderDeps } from "../../../src/usecases/start-render";
import { JOB_ID, fakeRenderer, manualClock, memoryBlobs, memoryState, sample, silentLogger } from "./fakes";
import { RENDER_ID, SECRET, remotionDelivery, successPayload } from "./helpers";

/**
 * Issue #12 item 7: the render scale is decided once, by the render step. The size it asks
 * Remotion for is the size RenderCompleted announces and the job record keeps.
 */

const completedSample = (): PipelineEvent<"RenderCompleted"> =>
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../../../events/samples/v1/RenderCompleted.json"), "utf8")) as PipelineEvent<"RenderCompleted">;

async function renderAt(aspect: "9:16" | "16:9", scale: number | undefined) {
  const blobs = memoryBlobs();
  blobs.objects.set(`jobs/${JOB_ID}/base.mp4`, { bytes: new Uint8Array(100), contentType: "video/mp4" });
  const state = memoryState();
  const publisher = createMemoryPublisher();
  const clock = manualClock("2026-11-20T10:01:41.000Z");
  const index = createMemoryRenderIndex();
  const logger = silentLogger();
  const renderer = fakeRenderer({ ids: [RENDER_ID] });
  const deps: StartRenderDeps = { blobs, renderer, state, publisher, clock, index, webhookUrl: "https://hook.example/remotion", keyframeIntervalSeconds: 2, ...(scale !== undefined ? { scale } : {}) };
  const ready = sample("VideoBaseReady");
  ready.detail.data.job.aspect = aspect;
  await startRender(deps, ready, { logger });
  const started = publisher.published.find((e) => e.type === "RenderStarted")!;

  // Remotion wrote the output; its webhook settles the render.
  blobs.objects.set(`jobs/${JOB_ID}/final.mp4`, { bytes: new Uint8Array(9_120_442), contentType: "video/mp4" });
  clock.advance(38);
  const res = await handleRenderWebhook({ secret: SECRET, state, publisher, blobs, clock, index, logger }, remotionDelivery(successPayload()));
  expect(res.status).toBe(200);
  const completed = publisher.published.find((e) => e.type === "RenderCompleted")!;
  expect(() => pipelineEvents.RenderCompleted.data.parse(completed.data)).not.toThrow();

  // The DB writer's reducer over the RenderCompleted as EventBridge delivers it.
  const envelope = completedSample();
  envelope.detail.metadata = { ...envelope.detail.metadata, eventId: completed.eventId, causationId: completed.causationId };
  envelope.detail.data = completed.data as PipelineEvent<"RenderCompleted">["detail"]["data"];
  const jobs = createMemoryJobStore();
  const { record } = await jobs.apply(pipelineEvents.RenderCompleted.event.parse(envelope) as PipelineEvent<"RenderCompleted">);

  return { request: renderer.requests[0]!, renderRecord: state.dump().get(`${JOB_ID}|${RENDER_STATE}`)!, started, completed, record };
}

describe("the render scale, decided once by the render step", () => {
  const cases = [
    { aspect: "9:16", scale: 0.3, width: 324, height: 576 },
    { aspect: "16:9", scale: 0.3, width: 576, height: 324 },
    { aspect: "9:16", scale: 1, width: 1080, height: 1920 },
    { aspect: "16:9", scale: 1, width: 1920, height: 1080 },
  ] as const;

  for (const c of cases) {
    it(`${c.aspect} at scale ${c.scale}: asks Remotion for that scale, and RenderCompleted and generated_videos.resolution say ${c.width}×${c.height}`, async () => {
      const t = await renderAt(c.aspect, c.scale);
      expect(t.request.scale).toBe(c.scale);
      expect(t.renderRecord).toMatchObject({ scale: c.scale, expected: { width: c.width, height: c.height, fps: 30, durationSeconds: 8 } });
      expect(t.completed.data).toMatchObject({ video: { key: `jobs/${JOB_ID}/final.mp4`, width: c.width, height: c.height, fps: 30, durationSeconds: 8 } });
      expect(t.record.video?.resolution).toBe(`${c.width}x${c.height}`);
    });
  }

  it("without a scale renders at Remotion's default, full resolution, and records 1080×1920", async () => {
    const t = await renderAt("9:16", undefined);
    expect(t.request).not.toHaveProperty("scale");
    expect(t.renderRecord).not.toHaveProperty("scale");
    expect(t.completed.data).toMatchObject({ video: { width: 1080, height: 1920 } });
    expect(t.record.video?.resolution).toBe("1080x1920");
  });

  it("a re-start of a crashed start asks for the scale the claim recorded, not the deps' current one", async () => {
    const blobs = memoryBlobs();
    blobs.objects.set(`jobs/${JOB_ID}/base.mp4`, { bytes: new Uint8Array(100), contentType: "video/mp4" });
    const state = memoryState();
    const clock = manualClock();
    const renderer = fakeRenderer();
    let calls = 0;
    const hanging = { ...renderer, start: (req: Parameters<typeof renderer.start>[0]) => (calls++ === 0 ? (renderer.requests.push(structuredClone(req)), new Promise<never>(() => {})) : renderer.start(req)) };
    const base = { blobs, state, publisher: createMemoryPublisher(), clock, renderer: hanging, webhookUrl: "https://hook.example/remotion", keyframeIntervalSeconds: 2, staleStartSeconds: 300 };
    void startRender({ ...base, scale: 0.3 }, sample("VideoBaseReady"), { logger: silentLogger() });
    await new Promise((r) => setTimeout(r, 10));
    clock.advance(400);
    await startRender({ ...base, scale: 0.5 }, sample("VideoBaseReady"), { logger: silentLogger() });
    expect(renderer.requests.map((r) => r.scale)).toEqual([0.3, 0.3]);
    expect(state.dump().get(`${JOB_ID}|${RENDER_STATE}`)).toMatchObject({ status: "started", attempt: 2, scale: 0.3, expected: { width: 324, height: 576 } });
  });

  it("refuses a scale Remotion would refuse before claiming anything (configuration: retried, not a failed job)", async () => {
    const blobs = memoryBlobs();
    blobs.objects.set(`jobs/${JOB_ID}/base.mp4`, { bytes: new Uint8Array(100), contentType: "video/mp4" });
    const state = memoryState();
    const renderer = fakeRenderer();
    const deps: StartRenderDeps = { blobs, state, renderer, publisher: createMemoryPublisher(), clock: manualClock(), webhookUrl: "https://hook.example/remotion", keyframeIntervalSeconds: 2 };
    for (const scale of [0, -1, 17, Number.NaN, 0.0001]) {
      await expect(startRender({ ...deps, scale }, sample("VideoBaseReady"), { logger: silentLogger() })).rejects.toBeInstanceOf(InvalidRenderScaleError);
    }
    expect(renderer.requests).toEqual([]);
    expect(state.dump().size).toBe(0);
  });
});

describe("scaledSize (Remotion's H.264 sizing)", () => {
  it("scales each side and keeps it even, as Remotion's validateEvenDimensionsWithCodec does", () => {
    expect(scaledSize({ width: 1080, height: 1920 }, 0.3)).toEqual({ width: 324, height: 576 });
    expect(scaledSize({ width: 1080, height: 1920 }, 0.25)).toEqual({ width: 270, height: 480 });
    expect(scaledSize({ width: 1080, height: 1920 }, 1)).toEqual({ width: 1080, height: 1920 });
    expect(scaledSize({ width: 1080, height: 1920 }, 0.15)).toEqual({ width: 162, height: 288 });
    expect(scaledSize({ width: 1920, height: 1080 }, 0.35)).toEqual({ width: 672, height: 378 });
    // Rounded: 1080 × 0.37 = 399.6 → 400, 1920 × 0.37 = 710.4 → 710.
    expect(scaledSize({ width: 1080, height: 1920 }, 0.37)).toEqual({ width: 400, height: 710 });
    // An odd result lowers the side first: 1080 × 0.31 = 334.8 → 335, so 1077 × 0.31 → 334;
    // 1920 × 0.31 = 595.2 → 595, so 1917 × 0.31 → 594. (Checked against @remotion/renderer 4.0.527.)
    expect(scaledSize({ width: 1080, height: 1920 }, 0.31)).toEqual({ width: 334, height: 594 });
  });

  it("gives expectedVideo's geometry per aspect", () => {
    expect(expectedVideo("9:16", 6, 0.3)).toEqual({ durationSeconds: 8, width: 324, height: 576, fps: 30 });
    expect(expectedVideo("16:9", 6)).toEqual({ durationSeconds: 8, width: 1920, height: 1080, fps: 30 });
  });
});
