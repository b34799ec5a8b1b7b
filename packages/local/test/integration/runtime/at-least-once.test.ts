import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stageConfig } from "@reelbridge/functions/stage-config";
import { subscriptions } from "@reelbridge/functions/topology";
import { SAMPLE_PHOTO } from "../../../src/commands/run";
import { startRuntime } from "../../../src/runtime/runtime";

const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-alo-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("the embedded runtime runs the topology with EventBridge's at-least-once, unordered delivery", () => {
  it("subscribes exactly the topology's subscriptions, with the same patterns and delivery", async () => {
    const rt = await startRuntime({ dataDir: join(dataDir, "topology") });
    try {
      const expected = subscriptions({ mediaBucket: rt.s3.bucket });
      expect(rt.subscriptions.map((s) => s.name)).toEqual(expected.map((s) => s.name));
      for (const s of expected) {
        const local = rt.subscriptions.find((l) => l.name === s.name)!;
        expect(local.pattern).toEqual(s.pattern);
        expect(local.delivery).toEqual(s.delivery);
        expect(local.busName).toBe(s.bus === "default" ? "default" : "local-reelbridge");
        if (s.delivery.kind === "queue") expect(local.concurrency).toBe(stageConfig("local").concurrency[s.delivery.concurrencyKey]);
      }
    } finally {
      await rt.close();
    }
  });

  it("with every event redelivered at random and shuffled, a job still pays for one generation and one render, and sends each webhook once", async () => {
    const rt = await startRuntime({ dataDir: join(dataDir, "chaos"), renderScale: 0.25, testMode: { redeliverProbability: 0.7, shuffle: true, seed: 42 } });
    try {
      const types: string[] = [];
      rt.bus.on("delivered", ({ event }) => types.push(event["detail-type"]));
      const res = await fetch(`${rt.apiBase}/uploads`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "Twice told", subtitle: "", cameraPrompt: "static", music: "sunrise", aspect: "9:16", durationSeconds: 2, contentType: "image/jpeg" }),
      });
      const { jobId, upload } = (await res.json()) as { jobId: string; upload: { url: string; fields: Record<string, string> } };
      const form = new FormData();
      for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
      form.append("file", new Blob([readFileSync(SAMPLE_PHOTO)], { type: "image/jpeg" }), "photo.jpg");
      expect((await fetch(upload.url, { method: "POST", body: form })).status).toBe(204);

      const end = Date.now() + 240_000;
      while ((await rt.jobs.get(jobId))?.status !== "completed") {
        if (Date.now() > end) throw new Error("the job did not complete");
        await new Promise((r) => setTimeout(r, 250));
      }
      await rt.bus.onIdle();

      // The test mode really did redeliver: some event types reached their handlers twice or more.
      expect(types.length).toBeGreaterThan(new Set(types).size);
      expect(rt.stats.generations).toBe(1);
      expect(rt.stats.renders).toBe(1);
      const record = (await rt.jobs.get(jobId))!;
      expect(record.status).toBe("completed");
      expect(new Set(record.timeline.map((t) => t.eventId)).size).toBe(record.timeline.length);
      const ids = rt.receiver.deliveries.map((d) => d.webhookId);
      expect(ids.length).toBeGreaterThan(0);
      expect(new Set(ids).size).toBe(ids.length);
      expect(rt.bus.dlq.list()).toEqual([]);
    } finally {
      await rt.close();
    }
  });
});
