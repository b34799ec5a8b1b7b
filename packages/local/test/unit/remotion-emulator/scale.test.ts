import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RenderRequest } from "@reelbridge/core";
import { createFileBlobStore } from "@reelbridge/core/adapters/local/file-blob-store";
import { createLocalRemotion } from "../../../src/remotion-emulator";
import type { LocalRender, LocalRemotionOptions } from "../../../src/remotion-emulator";

/**
 * Issue #12 item 7: the emulator renders at the request's scale, the one the render step
 * recorded the output size for, as Remotion Lambda renders at renderMediaOnLambda's `scale`.
 */
const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const request = (over: Partial<RenderRequest> = {}): RenderRequest => ({
  jobId: JOB,
  compositionId: "ReelVertical",
  inputProps: { title: "Lisbon", aspect: "9:16", baseVideoUrl: "http://127.0.0.1:9/media/jobs/x/base.mp4", baseVideoDurationSeconds: 2 },
  outputKey: `jobs/${JOB}/final.mp4`,
  // No webhook: only what was rendered matters here.
  webhook: { url: "", customData: { jobId: JOB } },
  keyframeIntervalSeconds: 2,
  ...over,
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "remotion-emulator-scale-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A render that records the options it got and writes a small file. */
const recordingRender = () => {
  const calls: Array<Parameters<LocalRender>[0]> = [];
  const render: LocalRender = async (o) => {
    calls.push(o);
    await writeFile(o.outputPath, new Uint8Array(64));
    return { outputPath: o.outputPath, sizeBytes: 64, durationSeconds: 4, width: 324, height: 576, fps: 30, timeToFinishMs: 1 };
  };
  return { render, calls };
};

const emulator = (render: LocalRender, over: Partial<LocalRemotionOptions> = {}) =>
  createLocalRemotion({
    render,
    blobs: createFileBlobStore({ root: path.join(dir, "store"), bucket: "local-media", publicBaseUrl: "http://127.0.0.1:9", signingKey: "k" }),
    webhookSecret: "s",
    tmpDir: path.join(dir, "tmp"),
    ...over,
  });

describe("local Remotion emulator: the render scale", () => {
  it("renders at the request's scale", async () => {
    const r = recordingRender();
    const emu = emulator(r.render);
    await emu.start(request({ scale: 0.3 }));
    await emu.idle();
    expect(r.calls.map((c) => c.scale)).toEqual([0.3]);
    await emu.close();
  });

  it("the request's scale wins over the deprecated emulator option, even at 1", async () => {
    const r = recordingRender();
    const emu = emulator(r.render, { scale: 0.25 });
    await emu.start(request({ scale: 1 }));
    await emu.start(request({ scale: 0.3 }));
    await emu.idle();
    expect(r.calls.map((c) => c.scale)).toEqual([1, 0.3]);
    await emu.close();
  });

  it("uses the deprecated option only for a request without a scale, and no scale at all otherwise (Remotion's 1)", async () => {
    const withOption = recordingRender();
    const a = emulator(withOption.render, { scale: 0.25 });
    await a.start(request());
    await a.idle();
    expect(withOption.calls.map((c) => c.scale)).toEqual([0.25]);
    await a.close();

    const without = recordingRender();
    const b = emulator(without.render);
    await b.start(request());
    await b.idle();
    expect(without.calls[0]).not.toHaveProperty("scale");
    await b.close();
  });

  it("a render resumed after a restart keeps its request's scale", async () => {
    const stateDir = path.join(dir, "renders");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = emulator(async (o) => {
      await new Promise<void>((resolve, reject) => {
        o.signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
        void gate.then(resolve);
      });
      throw new Error("never");
    }, { stateDir });
    const { renderId } = await first.start(request({ scale: 0.3 }));
    await first.close();
    release();

    const r = recordingRender();
    const second = emulator(r.render, { stateDir, scale: 0.5 });
    expect(await second.resume()).toBe(1);
    await second.idle();
    expect(r.calls.map((c) => c.scale)).toEqual([0.3]);
    expect(second.request(renderId)?.scale).toBe(0.3);
    await second.close();
  });
});
