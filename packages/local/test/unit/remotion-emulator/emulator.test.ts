import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RenderRequest } from "@reelbridge/core";
import { verifyRemotionSignature } from "@reelbridge/core/render/signature";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createLocalRemotion } from "../../../src/remotion-emulator";
import type { LocalRender } from "../../../src/remotion-emulator";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const SECRET = "local-secret";
const request = (over: Partial<RenderRequest> = {}): RenderRequest => ({
  jobId: JOB,
  compositionId: "ReelVertical",
  inputProps: { title: "Lisbon", aspect: "9:16", baseVideoUrl: "http://127.0.0.1:9/media/jobs/x/base.mp4", baseVideoDurationSeconds: 2 },
  outputKey: `jobs/${JOB}/final.mp4`,
  webhook: { url: "http://127.0.0.1:9/remotion-webhook", customData: { jobId: JOB } },
  keyframeIntervalSeconds: 2,
  ...over,
});

/** A renderer that writes a small file and reports progress, after `gate` resolves. */
const fakeRender = (opts: { fail?: Error; gate?: Promise<void>; bytes?: number } = {}): LocalRender & { calls: number; active: number; maxActive: number } => {
  const f = Object.assign(
    async (o: Parameters<LocalRender>[0]) => {
      f.calls++;
      f.active++;
      f.maxActive = Math.max(f.maxActive, f.active);
      try {
        o.onProgress?.({ progress: 0.5, renderedFrames: 120, encodedFrames: 100 });
        if (opts.gate) {
          await new Promise<void>((resolve, reject) => {
            if (o.signal?.aborted) reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
            o.signal?.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })), { once: true });
            void opts.gate!.then(resolve);
          });
        }
        if (opts.fail) throw opts.fail;
        await writeFile(o.outputPath, new Uint8Array(opts.bytes ?? 2048));
        return { outputPath: o.outputPath, sizeBytes: opts.bytes ?? 2048, durationSeconds: 4, width: 1080, height: 1920, fps: 30, timeToFinishMs: 5 };
      } finally {
        f.active--;
      }
    },
    { calls: 0, active: 0, maxActive: 0 },
  );
  return f;
};

/** Captures webhook POSTs; `statuses` are answered in order (then 200). */
const fakeFetch = (statuses: number[] = []) => {
  const sent: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  const f = (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), headers: init!.headers as Record<string, string>, body: String(init!.body) });
    return new Response(null, { status: statuses.shift() ?? 200 });
  }) as typeof fetch;
  return { fetch: f, sent };
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "remotion-emulator-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("local Remotion emulator", () => {
  it("returns a renderId at once, stores the output at outputKey and POSTs a signed success webhook like Remotion", async () => {
    const blobs = createMemoryBlobStore({ bucket: "local-media" });
    const render = fakeRender();
    const hook = fakeFetch();
    const progress: number[] = [];
    const emu = createLocalRemotion({ render, blobs, webhookSecret: SECRET, tmpDir: dir, fetch: hook.fetch, onProgress: (p) => progress.push(p.progress) });

    const { renderId, bucketName } = await emu.start(request());
    expect(renderId).toMatch(/^[a-z0-9]{10}$/);
    expect(bucketName).toBe("local-media");
    await emu.idle();

    expect(blobs.objects.get(`jobs/${JOB}/final.mp4`)?.bytes.byteLength).toBe(2048);
    expect(progress).toEqual([0.5]);
    expect(hook.sent).toHaveLength(1);
    const { url, headers, body } = hook.sent[0]!;
    expect(url).toBe("http://127.0.0.1:9/remotion-webhook");
    expect(headers).toMatchObject({ "Content-Type": "application/json", "X-Remotion-Mode": "production", "X-Remotion-Status": "success" });
    expect(verifyRemotionSignature(SECRET, body, headers["X-Remotion-Signature"])).toBe(true);
    expect(JSON.parse(body)).toMatchObject({
      type: "success",
      renderId,
      bucketName: "local-media",
      customData: { jobId: JOB },
      lambdaErrors: [],
      timeToFinish: expect.any(Number),
      costs: { estimatedCost: 0, currency: "USD" },
    });
    expect(await emu.getProgress({ renderId })).toMatchObject({ done: true, fatalErrorEncountered: false, overallProgress: 1, outputSizeInBytes: 2048 });
  });

  it("sends the error payload when the render fails", async () => {
    const blobs = createMemoryBlobStore();
    const hook = fakeFetch();
    const emu = createLocalRemotion({ render: fakeRender({ fail: Object.assign(new Error("invalid input props: title"), { name: "InvalidRenderInputError" }) }), blobs, webhookSecret: SECRET, tmpDir: dir, fetch: hook.fetch });
    const { renderId } = await emu.start(request());
    await emu.idle();
    expect(hook.sent[0]!.headers["X-Remotion-Status"]).toBe("error");
    expect(JSON.parse(hook.sent[0]!.body)).toMatchObject({ type: "error", renderId, customData: { jobId: JOB }, errors: [{ name: "InvalidRenderInputError", message: "invalid input props: title" }] });
    expect(await emu.getProgress({ renderId })).toMatchObject({ done: false, fatalErrorEncountered: true });
    expect(blobs.objects.size).toBe(0);
  });

  it("sends the timeout payload when the render outlives the function timeout", async () => {
    const hook = fakeFetch();
    const emu = createLocalRemotion({ render: fakeRender({ gate: new Promise(() => {}) }), blobs: createMemoryBlobStore(), webhookSecret: SECRET, tmpDir: dir, fetch: hook.fetch, timeoutMs: 30 });
    await emu.start(request());
    await emu.idle();
    expect(JSON.parse(hook.sent[0]!.body)).toMatchObject({ type: "timeout", customData: { jobId: JOB } });
  });

  it("retries the webhook twice, like Remotion, then records the failure on the render", async () => {
    const delays: number[] = [];
    const hook = fakeFetch([500, 502, 503]);
    const emu = createLocalRemotion({
      render: fakeRender(),
      blobs: createMemoryBlobStore(),
      webhookSecret: SECRET,
      tmpDir: dir,
      fetch: hook.fetch,
      webhookRetryDelayMs: (n) => {
        delays.push(n);
        return 1;
      },
    });
    const { renderId } = await emu.start(request());
    await emu.idle();
    expect(hook.sent).toHaveLength(3);
    expect(new Set(hook.sent.map((s) => s.body)).size).toBe(1);
    expect(delays).toEqual([1, 2]);
    expect((await emu.getProgress({ renderId })).errors).toEqual([{ name: "WebhookError", message: expect.stringContaining("503") }]);
  });

  it("renders at most `concurrency` at once; the others wait their turn", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const render = fakeRender({ gate });
    const hook = fakeFetch();
    const emu = createLocalRemotion({ render, blobs: createMemoryBlobStore(), webhookSecret: SECRET, tmpDir: dir, fetch: hook.fetch, concurrency: 2 });
    await Promise.all([emu.start(request()), emu.start(request()), emu.start(request())]);
    await new Promise((r) => setTimeout(r, 20));
    expect(render.active).toBe(2);
    open();
    await emu.idle();
    expect(render.calls).toBe(3);
    expect(render.maxActive).toBe(2);
    expect(hook.sent.map((s) => JSON.parse(s.body).type)).toEqual(["success", "success", "success"]);
  });

  it("close() aborts running renders without sending webhooks", async () => {
    const hook = fakeFetch();
    const emu = createLocalRemotion({ render: fakeRender({ gate: new Promise(() => {}) }), blobs: createMemoryBlobStore(), webhookSecret: SECRET, tmpDir: dir, fetch: hook.fetch });
    await emu.start(request());
    await emu.close();
    expect(hook.sent).toEqual([]);
    await expect(emu.start(request())).rejects.toThrow(/closed/);
  });

  it("tries a render that failed with a flaky error (a delayRender timeout) once more, like Remotion's maxRetries", async () => {
    const blobs = createMemoryBlobStore({ bucket: "local-media" });
    const ok = fakeRender();
    let first = true;
    const render: LocalRender = async (o) => {
      if (first) {
        first = false;
        throw new Error("A delayRender() \"Loading <Video>\" was called but not cleared after 28000ms");
      }
      return ok(o);
    };
    const hook = fakeFetch();
    const emu = createLocalRemotion({ render, blobs, webhookSecret: SECRET, tmpDir: dir, fetch: hook.fetch });
    await emu.start(request());
    await emu.idle();
    expect(ok.calls).toBe(1);
    expect(hook.sent.map((s) => JSON.parse(s.body).type)).toEqual(["success"]);
  });

  it("does not retry a render whose input is wrong: one error webhook", async () => {
    const blobs = createMemoryBlobStore({ bucket: "local-media" });
    const render = fakeRender({ fail: Object.assign(new Error("composition ReelVertical does not render aspect 16:9"), { name: "InvalidRenderInputError" }) });
    const hook = fakeFetch();
    const emu = createLocalRemotion({ render, blobs, webhookSecret: SECRET, tmpDir: dir, fetch: hook.fetch });
    await emu.start(request());
    await emu.idle();
    expect(render.calls).toBe(1);
    expect(hook.sent.map((s) => JSON.parse(s.body).type)).toEqual(["error"]);
  });
  it("per render (Remotion's Lambda API): its renderId, its webhook secret (null → NO_SECRET_PROVIDED), no webhook without a url", async () => {
    const hook = fakeFetch();
    const emu = createLocalRemotion({ render: fakeRender(), blobs: createMemoryBlobStore(), webhookSecret: SECRET, tmpDir: dir, fetch: hook.fetch });
    expect(await emu.start(request(), { renderId: "abcdefghij", webhookSecret: "per-render" })).toMatchObject({ renderId: "abcdefghij" });
    await expect(emu.start(request(), { renderId: "abcdefghij" })).rejects.toThrow(/already exists/);
    await emu.start(request(), { webhookSecret: null });
    await emu.start(request({ webhook: { url: "", customData: {} } }));
    await emu.idle();
    expect(hook.sent).toHaveLength(2);
    expect(verifyRemotionSignature("per-render", hook.sent[0]!.body, hook.sent[0]!.headers["X-Remotion-Signature"])).toBe(true);
    expect(hook.sent[1]!.headers["X-Remotion-Signature"]).toBe("NO_SECRET_PROVIDED");
    expect(emu.request("abcdefghij")).toMatchObject({ outputKey: `jobs/${JOB}/final.mp4` });
    expect(emu.request("unknown000")).toBeUndefined();
  });
});
