import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { submitSamplePhoto, until } from "../../fixtures/runtime-jobs";
import { startRuntime } from "../../../src/runtime/runtime";
import type { Runtime } from "../../../src/runtime/runtime";

const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-restart-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const submit = (rt: Runtime) => submitSamplePhoto(rt, { title: "Restart", cameraPrompt: "pan left", music: "pulse", aspect: "16:9", durationSeconds: 2 });


describe("the embedded runtime survives a stop", () => {
  it("a job whose render is in flight when the runtime stops completes after it starts again, once", async () => {
    const first = await startRuntime({ dataDir, renderScale: 0.25 });
    let jobId = "";
    try {
      let renderStarted = false;
      first.bus.on("accepted", ({ event }) => {
        if (event["detail-type"] === "RenderStarted") renderStarted = true;
      });
      jobId = await submit(first);
      await until("the render to start", async () => renderStarted);
    } finally {
      await first.close();
    }
    expect((await (async () => jobId)()).length).toBe(26);

    const second = await startRuntime({ dataDir, renderScale: 0.25 });
    try {
      const completed: string[] = [];
      second.bus.on("accepted", ({ event }) => {
        if (event["detail-type"] === "RenderCompleted") completed.push(event.id);
      });
      await until("the job to complete", async () => (await second.jobs.get(jobId))?.status === "completed");
      await second.bus.onIdle();
      const record = (await second.jobs.get(jobId))!;
      expect(record.outputs.finalVideoKey).toBe(`jobs/${jobId}/final.mp4`);
      // What was rendered (16:9 at scale 0.25), not the composition's full size (issue #12 item 7).
      expect(record.video?.resolution).toBe("480x270");
      // One render outcome: the resumed render, not a second one.
      expect(completed).toHaveLength(1);
      expect(second.bus.dlq.list()).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
