/**
 * Issue #11 items 2 and 3 through the embedded runtime: a job that failed is not restarted by a
 * second upload with the same presigned POST fields, and events forged over the local bus's
 * PutEvents change no record, start no render and send no webhook.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import renderFailedSample from "@reelbridge/events/samples/v1/RenderFailed.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import { SAMPLE_PHOTO } from "../../../src/commands/run";
import { startRuntime } from "../../../src/runtime/runtime";

const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-trust-"));
let rt: Awaited<ReturnType<typeof startRuntime>>;
beforeAll(async () => {
  rt = await startRuntime({ dataDir, renderScale: 0.25 });
}, 120_000);
afterAll(async () => {
  await rt?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const SA = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const NEVER = "01JD7X8Q2RZ4V6N3K5M9P1T0EF";
const OTHER = "01JD7X8Q2RZ4V6N3K5M9P1T0CD";

const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};
const settle = async () => {
  await rt.bus.onIdle();
  await new Promise((r) => setTimeout(r, 500));
  await rt.bus.onIdle();
};
/** A sample event re-addressed to `jobId`, with its keys moved along. */
const forge = <T>(sample: T, jobId: string): T => JSON.parse(JSON.stringify(sample).split(SA).join(jobId)) as T;
const put = (e: { source: string; "detail-type": string; detail: unknown }) =>
  rt.bus.putEvents({ Entries: [{ Source: e.source, DetailType: e["detail-type"], Detail: JSON.stringify(e.detail), EventBusName: rt.subscriptions.find((s) => s.name === "db-writer")!.busName }] });

describe("the pipeline trusts what it knows, not what it is told (embedded runtime)", () => {
  let jobId: string;
  let upload: { url: string; fields: Record<string, string> };

  it("a failed job stays failed when the same presigned fields are POSTed again with a real photo", async () => {
    const res = await fetch(`${rt.apiBase}/uploads`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "Twice", subtitle: "", cameraPrompt: "static", music: "sunrise", aspect: "9:16", durationSeconds: 2, contentType: "image/jpeg" }),
    });
    ({ jobId, upload } = (await res.json()) as { jobId: string; upload: { url: string; fields: Record<string, string> } });
    const post = async (bytes: Uint8Array<ArrayBuffer>) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
      form.append("file", new Blob([bytes], { type: "image/jpeg" }), "photo.jpg");
      return (await fetch(upload.url, { method: "POST", body: form })).status;
    };
    expect(await post(new TextEncoder().encode("this is not a photo") as Uint8Array<ArrayBuffer>)).toBe(204);
    await until("the job to fail", async () => (await rt.jobs.get(jobId))?.status === "failed");
    await rt.receiver.waitFor(1, 30_000);
    await settle();
    const deliveries = rt.receiver.deliveries.length;

    expect(await post(new Uint8Array(readFileSync(SAMPLE_PHOTO)) as Uint8Array<ArrayBuffer>)).toBe(204);
    await settle();
    expect(rt.stats.generations).toBe(0);
    expect((await rt.jobs.get(jobId))?.status).toBe("failed");
    expect(rt.receiver.deliveries).toHaveLength(deliveries);
    expect(rt.receiver.deliveries.map((d) => d.type)).toEqual(["video.failed"]);
  }, 120_000);

  it("forged RenderCompleted (another job's video), RenderFailed and a VideoBaseReady for a job that never existed change nothing and send nothing", async () => {
    const before = JSON.stringify(await rt.jobs.get(jobId));
    const deliveries = rt.receiver.deliveries.length;
    const record = (await rt.jobs.get(jobId))!;

    const completed = forge(completedSample, jobId);
    completed.detail.data.job = { ...record.params, callbackUrl: "http://127.0.0.1:9/steal" } as typeof completed.detail.data.job;
    completed.detail.data.video.key = `jobs/${OTHER}/final.mp4`;
    const ownKey = forge(completedSample, jobId);
    ownKey.detail.data.job = record.params as typeof ownKey.detail.data.job;
    const failed = forge(renderFailedSample, jobId);
    failed.detail.data.job = record.params as typeof failed.detail.data.job;
    const never = forge(readySample, NEVER);
    never.detail.data.job.owner = "attacker";
    const escaping = forge(completedSample, jobId);
    escaping.detail.data.video.key = "../../secrets.json";

    for (const e of [completed, ownKey, failed, never, escaping]) expect((await put(e)).FailedEntryCount ?? 0).toBe(0);
    await settle();

    expect(JSON.stringify(await rt.jobs.get(jobId))).toBe(before);
    expect(await rt.jobs.get(NEVER)).toBeUndefined();
    expect(rt.stats.renders).toBe(0);
    expect(rt.receiver.deliveries).toHaveLength(deliveries);
    const status = await fetch(`${rt.apiBase}/jobs/${jobId}`);
    expect(status.status).toBe(200);
  }, 120_000);
});
