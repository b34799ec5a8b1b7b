import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GENERATED_VIDEOS_COLUMNS } from "@reelbridge/core/sinks/generated-videos";
import { submitSamplePhoto, until } from "../../fixtures/runtime-jobs";
import { startRuntime } from "../../../src/runtime/runtime";
import type { Runtime } from "../../../src/runtime/runtime";

const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-sink-rt-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const submit = (rt: Runtime) => submitSamplePhoto(rt, { title: "Sink outage", cameraPrompt: "pan left", music: "pulse", aspect: "16:9", durationSeconds: 2 });


describe("the embedded runtime keeps the generated_videos table in its Postgres", () => {
  it("a job's row lands after the database went away mid-run and came back, equal to the job record's generated_videos fields", async () => {
    const rt = await startRuntime({ dataDir, renderScale: 0.25, generatedVideos: true });
    try {
      expect(rt.subscriptions.map((s) => s.name)).toContain("supabase-sink");
      const db = rt.generatedVideos!;
      expect(db.dir).toBe(join(dataDir, "postgres"));
      let stopped: Promise<void> | undefined;
      rt.bus.on("accepted", ({ event }) => {
        // Mid-run: the render is done, the segmenter and notifier are still to come.
        if (event["detail-type"] === "RenderCompleted" && !stopped) stopped = db.stop();
      });
      const jobId = await submit(rt);
      await until("the job to complete", async () => (await rt.jobs.get(jobId))?.status === "completed");
      await stopped;
      // The sink could not write while the database was down: its events wait in the queue.
      expect(stopped).toBeDefined();
      await db.start();
      await until("the row to land", async () => (await db.rows(jobId))[0]?.status === "completed", 120_000);
      await rt.bus.onIdle();
      const record = (await rt.jobs.get(jobId))!;
      const rows = await db.rows(jobId);
      expect(rows).toHaveLength(1);
      const { id: _id, job_id, ...fields } = rows[0]!;
      expect({ id: job_id, ...fields }).toEqual(Object.fromEntries(GENERATED_VIDEOS_COLUMNS.map((c) => [c, record.video![c]])));
      expect(rows[0]!.resolution).toBe("480x270");
      expect(rt.bus.dlq.list()).toEqual([]);
      expect(db.psqlCommand).toMatch(/^PGPASSFILE=\S+ \S+\/psql -h 127\.0\.0\.1 -p \d+ -U postgres postgres$/);
    } finally {
      await rt.close();
    }
  });
});
