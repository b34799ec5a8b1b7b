/**
 * Issue #13 items 4 and 5 on the embedded runtime (docs/decisions/0009), through the jobs API as
 * a browser would call it: a re-render is version 2 with no second generation, two re-renders at
 * once are two versions, a repeated Idempotency-Key is one; a cancel mid-render ends the job
 * cancelled with the render aborted; cancel against completion is decided once.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cancelResponseSchema, jobViewSchema, rerenderResponseSchema } from "@reelbridge/events/http";
import type { JobView } from "@reelbridge/events/http";
import { SAMPLE_PHOTO } from "../../../src/commands/run";
import { startRuntime } from "../../../src/runtime/runtime";
import { cancel as cancelCli, rerender as rerenderCli } from "../../../src/commands/versions";
import { formatReport, jobReport } from "../../../src/commands/job";

type Runtime = Awaited<ReturnType<typeof startRuntime>>;

const until = async <T>(what: string, get: () => Promise<T | undefined>, ms = 240_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

async function upload(rt: Runtime, title: string, beforeTheFile?: (jobId: string) => Promise<void>): Promise<string> {
  const res = await fetch(`${rt.apiBase}/uploads`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title, subtitle: "", cameraPrompt: "static", music: "sunrise", aspect: "9:16", durationSeconds: 2, contentType: "image/jpeg" }),
  });
  expect(res.status).toBe(201);
  const { jobId, upload: post } = (await res.json()) as { jobId: string; upload: { url: string; fields: Record<string, string> } };
  await beforeTheFile?.(jobId);
  const form = new FormData();
  for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
  form.append("file", new Blob([new Uint8Array(readFileSync(SAMPLE_PHOTO))], { type: "image/jpeg" }), "photo.jpg");
  expect((await fetch(post.url, { method: "POST", body: form })).status).toBe(204);
  return jobId;
}

const view = async (rt: Runtime, jobId: string): Promise<JobView | undefined> => {
  const res = await fetch(`${rt.apiBase}/jobs/${jobId}`);
  return res.status === 200 ? jobViewSchema.parse(await res.json()) : undefined;
};
const withStatus = (rt: Runtime, jobId: string, status: string) => until(`job ${jobId} ${status}`, async () => {
  const v = await view(rt, jobId);
  return v?.status === status ? v : undefined;
});
const rerender = (rt: Runtime, jobId: string, body: unknown, key?: string) =>
  fetch(`${rt.apiBase}/jobs/${jobId}/renders`, { method: "POST", headers: { "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) }, body: JSON.stringify(body) });
const cancel = (rt: Runtime, jobId: string) => fetch(`${rt.apiBase}/jobs/${jobId}/cancel`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
const webhookTypes = (rt: Runtime, jobId: string) =>
  rt.receiver.deliveries.filter((d) => (d.payload as { data?: { jobId?: string } }).data?.jobId === jobId).map((d) => `${d.type}${(d.payload as { data: { version?: number } }).data.version ? `@v${(d.payload as { data: { version?: number } }).data.version}` : ""}`);

describe("re-render (scale 0.25 renders)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-versions-"));
  let rt: Runtime;
  beforeAll(async () => {
    rt = await startRuntime({ dataDir, renderScale: 0.25, logSink: () => undefined });
  }, 120_000);
  afterAll(async () => {
    await rt?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let firstJobId = "";
  it("a new title is version 2 without a second generation; a repeated key is one version, two requests at once are two", async () => {
    const jobId = await upload(rt, "First cut");
    firstJobId = jobId;
    const before = await withStatus(rt, jobId, "completed");
    expect(before.versions).toBeUndefined();
    expect(rt.stats.generations).toBe(1);

    const inProgressRefused = await rerender(rt, jobId, { title: "x" });
    expect(inProgressRefused.status).toBe(400);
    expect(((await inProgressRefused.json()) as { error: string }).error).toBe("MissingIdempotencyKey");

    const first = await rerender(rt, jobId, { title: "Second cut" }, "fix-typo");
    expect(first.status).toBe(202);
    const v2 = rerenderResponseSchema.parse(await first.json());
    expect(v2).toMatchObject({ version: 2, replayed: false, generation: "reused" });
    const again = await rerender(rt, jobId, { title: "Second cut" }, "fix-typo");
    expect(again.status).toBe(200);
    expect(rerenderResponseSchema.parse(await again.json())).toMatchObject({ version: 2, replayed: true });
    const reused = await rerender(rt, jobId, { title: "Something else" }, "fix-typo");
    expect(reused.status).toBe(422);

    const [a, b] = await Promise.all([rerender(rt, jobId, { music: "pulse" }, "a"), rerender(rt, jobId, { aspect: "16:9" }, "b")]);
    // Which of the two concurrent requests gets 3 and which 4 is the race's to decide.
    const musicVersion = rerenderResponseSchema.parse(await a.json()).version;
    const aspectVersion = rerenderResponseSchema.parse(await b.json()).version;
    expect([musicVersion, aspectVersion].sort()).toEqual([3, 4]);

    const done = await until("versions 2-4 to finish", async () => {
      const v = await view(rt, jobId);
      return v?.versions?.length === 4 && v.versions.every((x) => x.status === "completed" || x.status === "failed") ? v : undefined;
    }, 480_000);
    expect(done.versions!.map((v) => [v.version, v.status])).toEqual([[1, "completed"], [2, "completed"], [3, "completed"], [4, "completed"]]);
    expect(done.versions![1]!.title).toBe("Second cut");
    const byVersion = (n: number) => done.versions!.find((v) => v.version === n)!;
    expect(byVersion(musicVersion).music).toBe("pulse");
    expect(byVersion(aspectVersion).aspect).toBe("16:9");
    // No second generation was paid for: the base clip was reused three times.
    expect(rt.stats.generations).toBe(1);
    expect(rt.stats.renders).toBe(4);
    // Each version has its own outputs; the job still says completed and shows the latest.
    expect(done.status).toBe("completed");
    expect(done.latestVersion).toBe(4);
    for (const v of [2, 3, 4]) {
      expect(await rt.s3.blobStore.head(`jobs/${jobId}/v${v}/final.mp4`)).toBeDefined();
      expect(await rt.s3.blobStore.head(`jobs/${jobId}/v${v}/poster.jpg`)).toBeDefined();
    }
    expect(await rt.s3.blobStore.head(`jobs/${jobId}/final.mp4`)).toBeDefined();
    expect(done.outputs.video?.url).toContain(`jobs/${jobId}/v4/final.mp4`);
    // Webhooks name the version.
    await until("the re-renders' webhooks", async () => (webhookTypes(rt, jobId).filter((t) => t.startsWith("video.segments_ready@v")).length === 3 ? true : undefined));
    expect(webhookTypes(rt, jobId)).toEqual(expect.arrayContaining(["video.completed", "video.completed@v2", "video.completed@v3", "video.completed@v4", "video.segments_ready@v2"]));

    // Nothing in flight: a completed job cannot be cancelled.
    const refused = await cancel(rt, jobId);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toBe("JobCompleted");
  }, 900_000);

  it("the CLI against a running runtime: rerender renders version 5 and waits for it; cancel of the completed job exits 1 with JobCompleted", async () => {
    expect(firstJobId).not.toBe("");
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    let codes: number[];
    try {
      codes = [await rerenderCli([firstJobId, "--title", "From the CLI", "--api", rt.apiBase, "--json"]), await cancelCli([firstJobId, "--api", rt.apiBase, "--json"])];
    } finally {
      spy.mockRestore();
    }
    // The handlers' own log lines share stdout; the CLI's answers are the other JSON lines.
    const [r, c] = out.filter((l) => !l.includes('"level"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(codes).toEqual([0, 1]);
    expect(r).toMatchObject({ version: 5, replayed: false, generation: "reused", result: { status: "completed", title: "From the CLI" } });
    expect(c).toMatchObject({ error: "JobCompleted", status: 409 });
    expect(rt.stats.generations).toBe(1);
    // `reelbridge job` lists the versions the status API reports.
    const report = await jobReport(dataDir, firstJobId);
    expect(report.source).toBe("runtime");
    expect(report.versions!.map((v) => [v.version, v.status])).toEqual([1, 2, 3, 4, 5].map((v) => [v, "completed"]));
    expect(formatReport(report)).toMatch(/\n {2}v5 +completed +"From the CLI" · /);
  }, 300_000);

  it("cancel racing the render's completion is decided once", async () => {
    const jobId = await upload(rt, "Race");
    // Cancel when the render is almost done: either the cancel or the completion wins, never both.
    await until("the render to be nearly done", async () => {
      const p = await rt.remotion.getProgress({ renderId: (await view(rt, jobId))?.timeline.find((t) => t.type === "RenderStarted")?.summary.split(" ")[1] ?? "none" }).catch(() => undefined);
      return p && p.overallProgress >= 0.8 ? true : undefined;
    });
    const res = await cancel(rt, jobId);
    const final = await until("the job to end", async () => {
      const v = await view(rt, jobId);
      return v && (v.status === "cancelled" || v.status === "completed") ? v : undefined;
    });
    await rt.bus.onIdle();
    await new Promise((r) => setTimeout(r, 1_000));
    await rt.bus.onIdle();
    const types = (await view(rt, jobId))!.timeline.map((t) => t.type);
    const hooks = webhookTypes(rt, jobId);
    if (res.status === 200) {
      expect(final.status).toBe("cancelled");
      expect(types).not.toContain("RenderCompleted");
      expect(hooks).toEqual(["video.cancelled"]);
    } else {
      expect(res.status).toBe(409);
      expect((await view(rt, jobId))!.status).toBe("completed");
      expect(types).not.toContain("JobCancelled");
      expect(hooks).not.toContain("video.cancelled");
    }
  }, 300_000);
});

describe("cancel mid-render (full-scale render, so it is still running)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-cancel-"));
  let rt: Runtime;
  beforeAll(async () => {
    rt = await startRuntime({ dataDir, logSink: () => undefined });
  }, 120_000);
  afterAll(async () => {
    await rt?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("ends the job cancelled, aborts the render, stores no final video and sends video.cancelled; cancelling again is fine", async () => {
    const jobId = await upload(rt, "Stop me");
    await withStatus(rt, jobId, "rendering");
    const res = await cancel(rt, jobId);
    expect(res.status).toBe(200);
    const body = cancelResponseSchema.parse(await res.json());
    expect(body).toMatchObject({ jobId, status: "cancelled", cancelledNow: true });

    const cancelled = await withStatus(rt, jobId, "cancelled");
    expect(cancelled.timeline.map((t) => t.type)).toContain("JobCancelled");
    await until("the render to be aborted", async () => (rt.stats.cancelledRenders === 1 ? true : undefined), 60_000);
    await rt.remotion.idle();
    await rt.bus.onIdle();
    const renderId = cancelled.timeline.find((t) => t.type === "RenderStarted")!.summary.split(" ")[1]!;
    const progress = await rt.remotion.getProgress({ renderId });
    expect(progress.done).toBe(false);
    expect(progress.errors.map((e) => e.name)).toContain("RenderCancelledError");
    expect(await rt.s3.blobStore.head(`jobs/${jobId}/final.mp4`)).toBeUndefined();
    await until("video.cancelled", async () => (webhookTypes(rt, jobId).includes("video.cancelled") ? true : undefined), 60_000);
    expect(webhookTypes(rt, jobId)).toEqual(["video.cancelled"]);

    const twice = await cancel(rt, jobId);
    expect(twice.status).toBe(200);
    expect(cancelResponseSchema.parse(await twice.json())).toMatchObject({ cancelledNow: false, cancelledAt: body.cancelledAt });
    // A cancelled job cannot be re-rendered.
    const rr = await rerender(rt, jobId, { title: "x" }, "k");
    expect(rr.status).toBe(409);
    expect(((await rr.json()) as { error: string }).error).toBe("JobCancelled");
    expect((await view(rt, jobId))!.status).toBe("cancelled");
  }, 300_000);

  it("cancelled while its base clip is generated: the generation is no longer looked at and no render starts", async () => {
    const renders = rt.stats.renders;
    const jobId = await upload(rt, "Stop early");
    await withStatus(rt, jobId, "generating");
    const res = await cancel(rt, jobId);
    expect(res.status).toBe(200);
    await withStatus(rt, jobId, "cancelled");
    // Long enough for the offline generation to have finished and a render to have been started.
    await new Promise((r) => setTimeout(r, 15_000));
    await rt.bus.onIdle();
    const types = (await view(rt, jobId))!.timeline.map((t) => t.type);
    expect(types).not.toContain("RenderStarted");
    // The LTX step stood down and said what it had paid: the generation is on the job's cost.
    expect(types).toContain("VideoBaseStopped");
    expect((await view(rt, jobId))!.cost?.lines.map((l) => l.item)).toContain("ltx-generation");
    expect(rt.stats.renders).toBe(renders);
    expect((await view(rt, jobId))!.status).toBe("cancelled");
    expect(webhookTypes(rt, jobId)).toEqual(["video.cancelled"]);
  }, 300_000);

  it("cancelled before the LTX step has seen it (signed, not yet uploaded): cancelled, nothing generated, and only its owner could", async () => {
    const generations = rt.stats.generations;
    let answer: { status: number; body: unknown } | undefined;
    const jobId = await upload(rt, "Never mind", async (id) => {
      const res = await cancel(rt, id);
      answer = { status: res.status, body: await res.json() };
    });
    expect(answer).toMatchObject({ status: 200, body: { jobId, status: "cancelled", cancelledNow: true } });
    const cancelled = await withStatus(rt, jobId, "cancelled");
    expect(cancelled.timeline.map((t) => t.type)).toEqual(["JobCancelled"]);
    // The upload's S3 event reached the LTX step, which found the outcome: no generation submitted.
    await rt.bus.onIdle();
    await new Promise((r) => setTimeout(r, 3_000));
    await rt.bus.onIdle();
    expect(rt.stats.generations).toBe(generations);
    const after = (await view(rt, jobId))!;
    expect(after.status).toBe("cancelled");
    expect(after.timeline.map((t) => t.type)).not.toContain("VideoBaseStarted");
    expect(webhookTypes(rt, jobId)).toEqual(["video.cancelled"]);
    // A job id nobody signed is still unknown.
    expect((await cancel(rt, "01JZZZZZZZZZZZZZZZZZZZZZZZ")).status).toBe(404);
  }, 300_000);
});
