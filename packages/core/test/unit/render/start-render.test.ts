import { describe, expect, it } from "vitest";
import { createMemoryPublisher } from "../../../src/publish";
import { PermanentError, TransientError } from "../../../src/errors";
import { createMemoryRenderIndex } from "../../../src/render";
import { failRenderStart, startRender } from "../../../src/usecases/start-render";
import type { StartRenderDeps } from "../../../src/usecases/start-render";
import type { RenderRequest } from "../../../src/ports";
import { JOB_ID, fakeRenderer, manualClock, memoryBlobs, memoryState, sample, silentLogger } from "./fakes";

const setup = (over: { renderer?: ReturnType<typeof fakeRenderer>; staleStartSeconds?: number; logoKey?: string } = {}) => {
  const blobs = memoryBlobs();
  blobs.objects.set(`jobs/${JOB_ID}/base.mp4`, { bytes: new Uint8Array(100), contentType: "video/mp4" });
  blobs.objects.set("assets/music/sunrise.m4a", { bytes: new Uint8Array(10), contentType: "audio/mp4" });
  const fakes = {
    blobs,
    renderer: over.renderer ?? fakeRenderer(),
    state: memoryState(),
    publisher: createMemoryPublisher(),
    clock: manualClock(),
    index: createMemoryRenderIndex(),
  };
  const deps: StartRenderDeps = {
    ...fakes,
    webhookUrl: "https://abc.lambda-url.eu-west-1.on.aws/remotion-webhook",
    keyframeIntervalSeconds: 2,
    ...(over.staleStartSeconds ? { staleStartSeconds: over.staleStartSeconds } : {}),
    ...(over.logoKey ? { logoKey: over.logoKey } : {}),
  };
  return { ...fakes, deps, ctx: { logger: silentLogger() } };
};

describe("startRender", () => {
  it("starts one render with the webhook, output key and presigned media, and announces RenderStarted", async () => {
    const t = setup();
    const result = await startRender(t.deps, sample("VideoBaseReady"), t.ctx);

    expect(result).toEqual({ renderId: "8hfxlw7yoq", started: true, status: "started" });
    expect(t.renderer.requests).toHaveLength(1);
    const req = t.renderer.requests[0]!;
    expect(req).toMatchObject({
      jobId: JOB_ID,
      compositionId: "ReelVertical",
      outputKey: `jobs/${JOB_ID}/final.mp4`,
      webhook: { url: "https://abc.lambda-url.eu-west-1.on.aws/remotion-webhook", customData: { jobId: JOB_ID } },
      keyframeIntervalSeconds: 2,
    });
    expect(req.inputProps).toMatchObject({
      title: "Lisbon at golden hour",
      subtitle: "Alfama, from the Miradouro",
      aspect: "9:16",
      baseVideoDurationSeconds: 6,
      musicId: "sunrise",
    });
    expect(req.inputProps.baseVideoUrl).toMatch(new RegExp(`/jobs/${JOB_ID}/base\\.mp4\\?X-Amz-Expires=7200`));
    expect(req.inputProps.musicUrl).toMatch(/\/assets\/music\/sunrise\.m4a\?/);
    expect(req.inputProps).not.toHaveProperty("logoUrl");

    expect(t.publisher.published).toEqual([
      {
        type: "RenderStarted",
        eventId: `${JOB_ID}:render-started:8hfxlw7yoq`,
        jobId: JOB_ID,
        causationId: "01JD7XA0000000000000000001",
        data: expect.objectContaining({
          renderId: "8hfxlw7yoq",
          renderer: "remotion-lambda",
          compositionId: "ReelVertical",
          output: { bucket: "reelbridge-prod-media", key: `jobs/${JOB_ID}/final.mp4` },
        }),
      },
    ]);
    expect(t.index.entries()).toEqual([{ jobId: JOB_ID, renderId: "8hfxlw7yoq", startedAt: "2026-11-20T10:01:41.000Z" }]);
    const record = t.state.dump().get(`${JOB_ID}|render`)!;
    expect(record).toMatchObject({ status: "started", renderId: "8hfxlw7yoq", bucketName: "remotionlambda-euwest1-abc", expected: { durationSeconds: 8, width: 1080, height: 1920, fps: 30 } });
  });

  it("uses the landscape composition, the logo when the bucket has one, and the bundled music when the file is missing", async () => {
    const t = setup({ logoKey: "assets/logo.png" });
    t.blobs.objects.delete("assets/music/sunrise.m4a");
    t.blobs.objects.set("assets/logo.png", { bytes: new Uint8Array(5), contentType: "image/png" });
    const ev = sample("VideoBaseReady");
    ev.detail.data.job.aspect = "16:9";
    await startRender(t.deps, ev, t.ctx);
    const req = t.renderer.requests[0]!;
    expect(req.compositionId).toBe("ReelLandscape");
    expect(req.inputProps).not.toHaveProperty("musicUrl");
    expect(req.inputProps.musicId).toBe("sunrise");
    expect(req.inputProps.logoUrl).toMatch(/\/assets\/logo\.png\?/);
  });

  it("never starts a second render for a duplicated VideoBaseReady", async () => {
    const t = setup();
    await startRender(t.deps, sample("VideoBaseReady"), t.ctx);
    const again = await startRender(t.deps, sample("VideoBaseReady"), t.ctx);
    expect(again).toEqual({ renderId: "8hfxlw7yoq", started: false, status: "started" });
    expect(t.renderer.requests).toHaveLength(1);
    expect(t.publisher.published).toHaveLength(1);
  });

  it("starts once when two copies arrive at the same time; the other backs off to be retried", async () => {
    const t = setup({ renderer: fakeRenderer({ delayMs: 20 }) });
    const results = await Promise.allSettled([startRender(t.deps, sample("VideoBaseReady"), t.ctx), startRender(t.deps, sample("VideoBaseReady"), t.ctx)]);
    expect(t.renderer.requests).toHaveLength(1);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(TransientError);
    // The redelivery then finds the render started and emits nothing new.
    await startRender(t.deps, sample("VideoBaseReady"), t.ctx);
    expect(t.renderer.requests).toHaveLength(1);
    expect(t.publisher.published).toHaveLength(1);
  });

  it("re-publishes RenderStarted (same eventId) when the first attempt crashed after recording the renderId", async () => {
    const t = setup();
    let calls = 0;
    const flaky = {
      async publish(events: Parameters<typeof t.publisher.publish>[0]) {
        if (calls++ === 0) throw new Error("PutEvents throttled");
        return t.publisher.publish(events);
      },
    };
    await expect(startRender({ ...t.deps, publisher: flaky }, sample("VideoBaseReady"), t.ctx)).rejects.toThrow("throttled");
    await startRender({ ...t.deps, publisher: flaky }, sample("VideoBaseReady"), t.ctx);
    expect(t.renderer.requests).toHaveLength(1);
    expect(t.publisher.published.map((e) => e.eventId)).toEqual([`${JOB_ID}:render-started:8hfxlw7yoq`]);
    await startRender({ ...t.deps, publisher: flaky }, sample("VideoBaseReady"), t.ctx);
    expect(t.publisher.published).toHaveLength(1);
  });

  it("re-starts a start that crashed before recording its renderId, once the claim is stale", async () => {
    // The first invocation claims the job and then dies inside renderer.start (never returns).
    let calls = 0;
    const renderer = fakeRenderer();
    const hanging = { ...renderer, start: (req: RenderRequest) => (calls++ === 0 ? new Promise<never>(() => {}) : renderer.start(req)) };
    const t = setup({ renderer, staleStartSeconds: 300 });
    void startRender({ ...t.deps, renderer: hanging }, sample("VideoBaseReady"), t.ctx);
    await new Promise((r) => setTimeout(r, 10));
    expect(t.state.dump().get(`${JOB_ID}|render`)).toMatchObject({ status: "starting", attempt: 1 });

    t.clock.advance(60);
    await expect(startRender({ ...t.deps, renderer: hanging }, sample("VideoBaseReady"), t.ctx)).rejects.toBeInstanceOf(TransientError);

    t.clock.advance(300);
    const result = await startRender({ ...t.deps, renderer: hanging }, sample("VideoBaseReady"), t.ctx);
    expect(result).toMatchObject({ started: true, renderId: "8hfxlw7yoq" });
    expect(calls).toBe(2);
    expect(t.state.dump().get(`${JOB_ID}|render`)).toMatchObject({ status: "started", attempt: 2 });
    expect(t.publisher.published).toHaveLength(1);
  });

  it("fails permanently without calling the renderer when the job does not fit the composition", async () => {
    const t = setup();
    const ev = sample("VideoBaseReady");
    ev.detail.data.job.title = "x".repeat(110);
    const err = await startRender(t.deps, ev, t.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: "RenderStartFailed", message: expect.stringContaining("title") });
    expect(t.renderer.requests).toHaveLength(0);
    expect(t.publisher.published).toHaveLength(0);
  });

  it("records a permanent renderer refusal so duplicates fail the same way without calling it again", async () => {
    const refusal = Object.assign(new Error("No composition with the ID ReelVertical found"), { code: "RenderStartFailed", retryable: false });
    const t = setup({ renderer: fakeRenderer({ fail: () => refusal }) });
    await expect(startRender(t.deps, sample("VideoBaseReady"), t.ctx)).rejects.toMatchObject({ code: "RenderStartFailed" });
    await expect(startRender(t.deps, sample("VideoBaseReady"), t.ctx)).rejects.toMatchObject({ code: "RenderStartFailed" });
    expect(t.renderer.requests).toHaveLength(1);
    expect(t.state.dump().get(`${JOB_ID}|render`)).toMatchObject({ status: "start-failed", failure: { code: "RenderStartFailed" } });
  });

  it("releases the claim on a transient renderer error so the redelivery starts at once", async () => {
    let n = 0;
    const t = setup({ renderer: fakeRenderer({ fail: () => (n++ === 0 ? new TransientError("Rate Exceeded") : undefined) }) });
    await expect(startRender(t.deps, sample("VideoBaseReady"), t.ctx)).rejects.toThrow("Rate Exceeded");
    const result = await startRender(t.deps, sample("VideoBaseReady"), t.ctx);
    expect(result.started).toBe(true);
    expect(t.renderer.requests).toHaveLength(2);
    expect(t.publisher.published).toHaveLength(1);
  });
});

describe("failRenderStart", () => {
  const reason = { code: "RenderStartFailed" as const, message: "bad props", retryable: false };

  it("emits RenderFailed with a deterministic eventId when no render runs", async () => {
    const t = setup();
    const res = await failRenderStart({ state: t.state, publisher: t.publisher, rendererName: "remotion-lambda" }, sample("VideoBaseReady"), reason, t.ctx);
    expect(res.emitted).toBe(true);
    expect(t.publisher.published).toEqual([
      expect.objectContaining({ type: "RenderFailed", eventId: `${JOB_ID}:render-failed:start`, data: expect.objectContaining({ reason, renderer: "remotion-lambda" }) }),
    ]);
  });

  it("emits nothing when a render was already started for the job", async () => {
    const t = setup();
    await startRender(t.deps, sample("VideoBaseReady"), t.ctx);
    const res = await failRenderStart({ state: t.state, publisher: t.publisher, rendererName: "remotion-lambda" }, sample("VideoBaseReady"), { ...reason, code: "RetriesExhausted" }, t.ctx);
    expect(res.emitted).toBe(false);
    expect(t.publisher.published.map((e) => e.type)).toEqual(["RenderStarted"]);
  });
});
