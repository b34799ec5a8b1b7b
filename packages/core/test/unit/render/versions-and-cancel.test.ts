/**
 * Re-render versions and cancel (issue #13 items 4, 5; docs/decisions/0009), on the use-cases
 * with in-memory stores: numbering, idempotency, the version's own keys and outcome, cancel as
 * the job's one outcome and its race with the render's completion.
 */
import { describe, expect, it } from "vitest";
import type { PipelineEvent } from "@reelbridge/events";
import { createJobLedger } from "../../../src/jobs/ledger";
import { admitEvent } from "../../../src/jobs/trust";
import { reduceEvents, toJobRecord } from "../../../src/jobs/reducer";
import type { AnyPipelineEvent } from "../../../src/jobs/reducer";
import { handleRenderWebhook } from "../../../src/usecases/render-webhook";
import { settleRender } from "../../../src/render/outcome";
import { createMemoryRenderIndex } from "../../../src/render";
import { parseRenderRecord, renderStateName } from "../../../src/render/record";
import { startRender } from "../../../src/usecases/start-render";
import { JobRequestError, requestRerender } from "../../../src/usecases/rerender";
import { cancelJob } from "../../../src/usecases/cancel-job";
import { cancelRunningRender } from "../../../src/usecases/cancel-render";
import type { OutgoingEvent } from "../../../src/ports";
import { PermanentError } from "../../../src/errors";
import { createRemotionLambdaRenderer } from "../../../src/adapters/aws/remotion-lambda-renderer";
import { notifiedTypes, webhookPayload } from "../../../src/notify/webhook";
import { JOB_ID, fakeRenderer, manualClock, memoryState, sample } from "./fakes";
import { createMemoryPublisher } from "../../../src/publish";
import { RENDER_ID, remotionDelivery, startedJob, successPayload } from "./helpers";

const MUSIC = ["sunrise", "pulse"];
const OWNER = sample("VideoBaseReady").detail.data.job.owner;

/** The envelope a consumer would receive for an event the use-cases published. */
const asDelivered = <T extends OutgoingEvent>(e: T, time = "2026-11-20T11:00:00.000Z"): AnyPipelineEvent =>
  ({
    version: "0",
    id: `id-${e.eventId}`,
    "detail-type": e.type,
    source: "test",
    account: "111122223333",
    time,
    region: "eu-west-1",
    resources: [],
    detail: { metadata: { schemaVersion: "1", jobId: e.jobId, eventId: e.eventId, causationId: e.causationId, producer: "test", time }, data: e.data },
  }) as unknown as AnyPipelineEvent;

/** A job whose first render completed (ledger outcome RenderCompleted), with its base clip stored. */
async function completedJob() {
  const t = await startedJob();
  await createJobLedger(t.state).recordStarted(JOB_ID, sample("VideoBaseReady").detail.data.job, { at: "2026-11-20T10:00:30.000Z", causationId: "seed" });
  t.writeOutput();
  const res = await handleRenderWebhook(t.deps, remotionDelivery(successPayload()));
  expect(res.body.result).toBe("RenderCompleted");
  t.publisher.published.length = 0;
  const rerender = (body: unknown, key: string | undefined, caller: { owner: string } | undefined = { owner: OWNER }) =>
    requestRerender({ state: t.state, blobs: t.blobs, publisher: t.publisher, clock: t.clock, musicIds: MUSIC }, { jobId: JOB_ID, caller, idempotencyKey: key, body });
  return { ...t, rerender };
}

const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(JobRequestError);
  return { status: (err as JobRequestError).status, code: (err as JobRequestError).code };
};

describe("re-render: version N+1 from the stored base clip", () => {
  it("a new title gives version 2 with its own render record, output key, events and outcome; the job's first outcome stays", async () => {
    const t = await completedJob();
    const r = await t.rerender({ title: "Fixed the typo" }, "key-1");
    expect(r).toMatchObject({ jobId: JOB_ID, version: 2, status: "requested", replayed: false });
    const requested = t.publisher.published.find((e) => e.type === "RenderRequested") as OutgoingEvent<"RenderRequested">;
    expect(requested.data.version).toBe(2);
    expect(requested.data.job.title).toBe("Fixed the typo");
    expect(requested.data.job.cameraPrompt).toBe(sample("VideoBaseReady").detail.data.job.cameraPrompt);
    expect(requested.data.baseVideo.key).toBe(`jobs/${JOB_ID}/base.mp4`);

    const renderer = fakeRenderer({ ids: ["v2render01"] });
    await startRender(
      { blobs: t.blobs, renderer, state: t.state, publisher: t.publisher, clock: t.clock, index: t.index, webhookUrl: "https://hook.example/remotion", keyframeIntervalSeconds: 2 },
      asDelivered(requested) as PipelineEvent<"RenderRequested">,
      { logger: t.logger },
    );
    expect(renderer.requests[0]!.outputKey).toBe(`jobs/${JOB_ID}/v2/final.mp4`);
    expect(renderer.requests[0]!.webhook.customData).toEqual({ jobId: JOB_ID, version: 2 });
    expect((renderer.requests[0]!.inputProps as { title: string }).title).toBe("Fixed the typo");
    expect(parseRenderRecord(await t.state.get(JOB_ID, renderStateName(2)))?.status).toBe("started");
    expect(parseRenderRecord(await t.state.get(JOB_ID, renderStateName(1)))?.status).toBe("completed");
    const started = t.publisher.published.find((e) => e.type === "RenderStarted") as OutgoingEvent<"RenderStarted">;
    expect(started.data.version).toBe(2);

    t.blobs.objects.set(`jobs/${JOB_ID}/v2/final.mp4`, { bytes: new Uint8Array(500), contentType: "video/mp4" });
    const res = await handleRenderWebhook(t.deps, remotionDelivery(successPayload({ renderId: "v2render01", customData: { jobId: JOB_ID, version: 2 } })));
    expect(res.body.result).toBe("RenderCompleted");
    const completed = t.publisher.published.find((e) => e.type === "RenderCompleted") as OutgoingEvent<"RenderCompleted">;
    expect(completed.data).toMatchObject({ version: 2, video: { key: `jobs/${JOB_ID}/v2/final.mp4` } });
    const ledger = createJobLedger(t.state);
    expect((await ledger.view(JOB_ID)).outcome?.eventId).toBe(`${JOB_ID}:render-completed:${RENDER_ID}`);
    const v2 = await ledger.view(JOB_ID, { version: 2 });
    expect(v2.version?.outcome?.eventId).toBe(completed.eventId);
    // The segmenter may follow version 2's RenderCompleted, which a v1 check would have refused.
    expect(admitEvent(v2, asDelivered(completed), "follow")).toEqual({ admitted: true });
    // Forged: another title on version 2, a version never requested, version 2's event claimed as v1's.
    const forgedParams = { ...completed, data: { ...completed.data, job: { ...completed.data.job, title: "Forged" } } };
    expect(admitEvent(v2, asDelivered(forgedParams), "record")).toMatchObject({ admitted: false });
    const v9 = { ...completed, data: { ...completed.data, version: 9 } };
    expect(admitEvent(await ledger.view(JOB_ID, { version: 9 }), asDelivered(v9), "record")).toMatchObject({ admitted: false });
    const { version: _v, ...asV1 } = completed.data;
    expect(admitEvent(await ledger.view(JOB_ID), asDelivered({ ...completed, data: asV1 }), "follow")).toMatchObject({ admitted: false });
  });

  it("the same Idempotency-Key returns the same version; another body with it is 422; concurrent keys get distinct versions", async () => {
    const t = await completedJob();
    const first = await t.rerender({ title: "Again" }, "same");
    const second = await t.rerender({ title: "Again" }, "same");
    expect(second).toEqual({ ...first, replayed: true });
    expect(t.publisher.published.filter((e) => e.type === "RenderRequested")).toHaveLength(1);
    expect(await refusal(t.rerender({ title: "Other" }, "same"))).toEqual({ status: 422, code: "IdempotencyKeyReused" });

    const many = await Promise.all(Array.from({ length: 6 }, (_, i) => t.rerender({ subtitle: `take ${i}` }, `k${i}`)));
    expect(many.map((r) => r.version).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8]);
    const requested = t.publisher.published.filter((e) => e.type === "RenderRequested") as Array<OutgoingEvent<"RenderRequested">>;
    expect(new Set(requested.map((e) => e.eventId)).size).toBe(7);
  });

  it("refuses what cannot be re-rendered, with a specific status", async () => {
    const t = await completedJob();
    expect(await refusal(t.rerender({ title: "x" }, undefined))).toEqual({ status: 400, code: "MissingIdempotencyKey" });
    expect(await refusal(t.rerender({ title: "x" }, "bad key"))).toEqual({ status: 400, code: "InvalidIdempotencyKey" });
    expect(await refusal(t.rerender({ music: "jazz" }, "k"))).toEqual({ status: 400, code: "InvalidRerenderRequest" });
    expect(await refusal(t.rerender({ title: "x" }, "k", { owner: "someone-else" }))).toEqual({ status: 404, code: "JobNotFound" });
    t.blobs.objects.delete(`jobs/${JOB_ID}/base.mp4`);
    expect(await refusal(t.rerender({ title: "x" }, "k2"))).toEqual({ status: 409, code: "NoBaseClip" });

    const running = await startedJob();
    await createJobLedger(running.state).recordStarted(JOB_ID, sample("VideoBaseReady").detail.data.job, { at: "2026-11-20T10:00:30.000Z", causationId: "seed" });
    const deps = { state: running.state, blobs: running.blobs, publisher: running.publisher, clock: running.clock, musicIds: MUSIC };
    expect(await refusal(requestRerender(deps, { jobId: JOB_ID, caller: undefined, idempotencyKey: "k", body: { title: "x" } }))).toEqual({ status: 409, code: "JobInProgress" });
  });
});

describe("cancel: JobCancelled is the job's one outcome", () => {
  const cancelDeps = (t: Awaited<ReturnType<typeof startedJob>>) => ({ state: t.state, publisher: t.publisher, clock: t.clock });

  it("cancelling a rendering job publishes JobCancelled once, stops the render, and the render's late success publishes nothing", async () => {
    const t = await startedJob();
    await createJobLedger(t.state).recordStarted(JOB_ID, sample("VideoBaseReady").detail.data.job, { at: "2026-11-20T10:00:30.000Z", causationId: "seed" });
    const r = await cancelJob(cancelDeps(t), { jobId: JOB_ID, caller: { owner: OWNER } });
    expect(r).toMatchObject({ status: "cancelled", cancelledNow: true });
    const again = await cancelJob(cancelDeps(t), { jobId: JOB_ID, caller: { owner: OWNER } });
    expect(again).toMatchObject({ status: "cancelled", cancelledNow: false, cancelledAt: r.cancelledAt });
    const cancelled = t.publisher.published.filter((e) => e.type === "JobCancelled");
    expect(cancelled).toHaveLength(1);

    const cancels: string[] = [];
    const renderer = { ...fakeRenderer(), cancel: async (q: { renderId: string }) => void cancels.push(q.renderId) };
    const out = await cancelRunningRender({ state: t.state, renderer, index: t.index }, asDelivered(cancelled[0]!) as PipelineEvent<"JobCancelled">, { logger: t.logger });
    expect(out).toEqual({ cancelled: true, renderId: RENDER_ID });
    expect(cancels).toEqual([RENDER_ID]);
    expect(t.index.entries()).toHaveLength(0);

    t.writeOutput();
    const res = await handleRenderWebhook(t.deps, remotionDelivery(successPayload()));
    expect(res.body.result).toBe("cancelled");
    expect(t.publisher.published.filter((e) => e.type === "RenderCompleted")).toHaveLength(0);
    expect((await createJobLedger(t.state).view(JOB_ID)).outcome?.type).toBe("JobCancelled");
  });

  it("cancel racing the render's completion is decided once, whichever wins", async () => {
    const winners = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const t = await startedJob();
      await createJobLedger(t.state).recordStarted(JOB_ID, sample("VideoBaseReady").detail.data.job, { at: "2026-11-20T10:00:30.000Z", causationId: "seed" });
      t.writeOutput();
      const record = parseRenderRecord(await t.state.get(JOB_ID, renderStateName(1)))!;
      const both = [
        cancelJob(cancelDeps(t), { jobId: JOB_ID, caller: undefined }).then(() => "cancel", (e: unknown) => (e as JobRequestError).code),
        settleRender(t.deps, { ...record, renderId: RENDER_ID }, { kind: "success", timeToFinishMs: 1000, costs: null }, "webhook").then((s) => (s.emitted ? "completed" : "lost")),
      ];
      const results = i % 2 ? await Promise.all(both) : (await Promise.all(both.reverse())).reverse();
      const outcomes = t.publisher.published.filter((e) => e.type === "JobCancelled" || e.type === "RenderCompleted").map((e) => e.type);
      expect(outcomes).toHaveLength(1);
      const ledger = (await createJobLedger(t.state).view(JOB_ID)).outcome!;
      expect(ledger.type).toBe(outcomes[0]);
      expect(results).toEqual(ledger.type === "JobCancelled" ? ["cancel", "lost"] : ["JobCompleted", "completed"]);
      winners.add(ledger.type);
    }
    expect(winners.size).toBeGreaterThanOrEqual(1);
  });

  it("a completed job answers 409, unless a re-render is in flight: that one is cancelled", async () => {
    const t = await completedJob();
    const deps = cancelDeps(t);
    expect(await refusal(cancelJob(deps, { jobId: JOB_ID, caller: undefined }))).toEqual({ status: 409, code: "JobCompleted" });
    await t.rerender({ title: "Second" }, "k");
    const r = await cancelJob(deps, { jobId: JOB_ID, caller: undefined });
    expect(r).toMatchObject({ status: "cancelled", version: 2, cancelledNow: true });
    const ledger = createJobLedger(t.state);
    expect((await ledger.view(JOB_ID)).outcome?.type).toBe("RenderCompleted");
    expect((await ledger.view(JOB_ID, { version: 2 })).version?.outcome?.type).toBe("JobCancelled");
    // The render step starts nothing for the cancelled version.
    const requested = t.publisher.published.find((e) => e.type === "RenderRequested")!;
    const view = await ledger.view(JOB_ID, { version: 2 });
    expect(admitEvent(view, asDelivered(requested), "act")).toMatchObject({ admitted: false });
  });
});

describe("cancel before the LTX step has started the job (issue #13)", () => {
  const job = sample("VideoBaseReady").detail.data.job;
  const signedJob = async () => {
    const state = memoryState();
    const publisher = createMemoryPublisher();
    const clock = manualClock("2026-11-20T10:00:05.000Z");
    // What the upload API records when it signs the upload; the LTX step has recorded nothing.
    await createJobLedger(state).recordSigned(JOB_ID, job, job.createdAt);
    return { state, publisher, clock, deps: { state, publisher, clock } };
  };

  it("its owner cancels it: JobCancelled with the signed parameters is the job's outcome; anyone else gets 404", async () => {
    const t = await signedJob();
    expect(await refusal(cancelJob(t.deps, { jobId: JOB_ID, caller: { owner: `${OWNER}-not` } }))).toEqual({ status: 404, code: "JobNotFound" });
    expect(await refusal(cancelJob(t.deps, { jobId: "01JOTHERJOBNOBODYSIGNED000", caller: undefined }))).toEqual({ status: 404, code: "JobNotFound" });
    expect(t.publisher.published).toHaveLength(0);
    const r = await cancelJob(t.deps, { jobId: JOB_ID, caller: { owner: OWNER } });
    expect(r).toMatchObject({ jobId: JOB_ID, status: "cancelled", cancelledNow: true });
    const [cancelled] = t.publisher.published as Array<OutgoingEvent<"JobCancelled">>;
    expect(cancelled).toMatchObject({ type: "JobCancelled", jobId: JOB_ID, data: { job } });
    const view = await createJobLedger(t.state).view(JOB_ID);
    expect(view).toMatchObject({ known: true, outcome: { type: "JobCancelled", published: true } });
    expect(view.job).toBeUndefined();
    expect((await cancelJob(t.deps, { jobId: JOB_ID, caller: { owner: OWNER } })).cancelledNow).toBe(false);
  });

  it("consumers admit that JobCancelled and its notification, and refuse forged ones and every other event of the job", async () => {
    const t = await signedJob();
    const ledger = createJobLedger(t.state);
    // Signed only: nothing is admitted, not even a JobCancelled (no outcome was claimed).
    const forgedEarly = asDelivered({ type: "JobCancelled", eventId: "forged", jobId: JOB_ID, causationId: "forged", data: { job, cancelledAt: "2026-11-20T10:00:06.000Z" } });
    expect(admitEvent(await ledger.view(JOB_ID), forgedEarly, "record")).toMatchObject({ admitted: false });

    await cancelJob(t.deps, { jobId: JOB_ID, caller: { owner: OWNER } });
    const ours = asDelivered(t.publisher.published[0]!);
    const view = await ledger.view(JOB_ID);
    for (const role of ["record", "follow"] as const) expect(admitEvent(view, ours, role), role).toEqual({ admitted: true });
    const delivered = asDelivered({ type: "NotificationDelivered", eventId: "n-1", jobId: JOB_ID, causationId: t.publisher.published[0]!.eventId, data: {} } as unknown as OutgoingEvent);
    expect(admitEvent(view, delivered, "record")).toEqual({ admitted: true });

    // Another JobCancelled (not the recorded one), the recorded one with other parameters, and
    // any step's event (the LTX step never started the job) are not the pipeline's.
    expect(admitEvent(view, forgedEarly, "record")).toMatchObject({ admitted: false });
    const otherParams = asDelivered({ ...t.publisher.published[0]!, data: { ...t.publisher.published[0]!.data, job: { ...job, callbackUrl: "https://evil.example/hook" } } } as OutgoingEvent);
    expect(admitEvent(view, otherParams, "record")).toMatchObject({ admitted: false });
    const ready = sample("VideoBaseReady");
    const forgedReady = asDelivered({ type: "VideoBaseReady", eventId: "vbr", jobId: JOB_ID, causationId: "x", data: ready.detail.data } as OutgoingEvent);
    expect(admitEvent(view, forgedReady, "record")).toMatchObject({ admitted: false });
  });
});

describe("the job record with versions", () => {
  it("keeps the job's status, lists each version, and shows the latest completed version's outputs", async () => {
    const t = await completedJob();
    await t.rerender({ title: "Second cut" }, "k");
    const requested = t.publisher.published.find((e) => e.type === "RenderRequested") as OutgoingEvent<"RenderRequested">;
    const job = requested.data.job;
    const v1Done = sample("RenderStarted");
    const base = (type: string, data: unknown, eventId: string, time: string) =>
      ({ ...v1Done, "detail-type": type, detail: { metadata: { ...v1Done.detail.metadata, eventId, time }, data } }) as unknown as AnyPipelineEvent;
    const v1 = sample("VideoBaseReady").detail.data.job;
    const video = (key: string) => ({ bucket: "b", key, sizeBytes: 10, durationSeconds: 8, width: 1080, height: 1920, fps: 30 });
    const events: AnyPipelineEvent[] = [
      base("RenderCompleted", { job: v1, renderId: "r1", renderer: "x", video: video(`jobs/${JOB_ID}/final.mp4`), timeToFinishMs: 1, completedAt: "2026-11-20T10:03:00.000Z" }, "c1", "2026-11-20T10:03:00.000Z"),
      base("SegmentsReady", { job: v1, video: { bucket: "b", key: `jobs/${JOB_ID}/final.mp4` }, hls: { playlistKey: `jobs/${JOB_ID}/hls/index.m3u8`, segmentKeys: [`jobs/${JOB_ID}/hls/s0.ts`], mode: "copy" }, clips: [], posterKey: `jobs/${JOB_ID}/poster.jpg`, keys: [`jobs/${JOB_ID}/poster.jpg`] }, "s1", "2026-11-20T10:04:00.000Z"),
      asDelivered(requested, "2026-11-20T11:00:00.000Z"),
      base("RenderCompleted", { job, version: 2, renderId: "r2", renderer: "x", video: video(`jobs/${JOB_ID}/v2/final.mp4`), timeToFinishMs: 1, completedAt: "2026-11-20T11:02:00.000Z" }, "c2", "2026-11-20T11:02:00.000Z"),
    ];
    const rendered = toJobRecord(reduceEvents(events)!);
    expect(rendered.status).toBe("completed");
    expect(rendered.versions?.map((v) => [v.version, v.status, v.params.title])).toEqual([
      [1, "completed", v1.title],
      [2, "rendered", "Second cut"],
    ]);
    expect(rendered.outputs.finalVideoKey).toBe(`jobs/${JOB_ID}/final.mp4`);

    events.push(base("SegmentsReady", { job, version: 2, video: { bucket: "b", key: `jobs/${JOB_ID}/v2/final.mp4` }, hls: { playlistKey: `jobs/${JOB_ID}/v2/hls/index.m3u8`, segmentKeys: [`jobs/${JOB_ID}/v2/hls/s0.ts`], mode: "copy" }, clips: [], posterKey: `jobs/${JOB_ID}/v2/poster.jpg`, keys: [`jobs/${JOB_ID}/v2/poster.jpg`] }, "s2", "2026-11-20T11:03:00.000Z"));
    // Order does not matter: the same record from the reversed events.
    const done = toJobRecord(reduceEvents([...events].reverse())!);
    expect(done).toEqual(toJobRecord(reduceEvents(events)!));
    expect(done.latestVersion).toBe(2);
    expect(done.versions?.[1]?.status).toBe("completed");
    expect(done.outputs).toMatchObject({ finalVideoKey: `jobs/${JOB_ID}/v2/final.mp4`, hlsPlaylistKey: `jobs/${JOB_ID}/v2/hls/index.m3u8`, posterKey: `jobs/${JOB_ID}/v2/poster.jpg` });
    expect(done.video?.title).toBe("Second cut");
  });

  it("a JobCancelled job is cancelled whatever ran before it", () => {
    const s = sample("RenderStarted") as unknown as AnyPipelineEvent;
    const cancelled = {
      ...s,
      "detail-type": "JobCancelled",
      detail: { metadata: { ...s.detail.metadata, eventId: "x:job-cancelled" }, data: { job: sample("VideoBaseReady").detail.data.job, cancelledAt: "2026-11-20T10:01:50.000Z" } },
    } as unknown as AnyPipelineEvent;
    expect(toJobRecord(reduceEvents([s, cancelled])!).status).toBe("cancelled");
    expect(toJobRecord(reduceEvents([cancelled, s])!).status).toBe("cancelled");
  });
});

describe("cancelling on Remotion Lambda and telling subscribers", () => {
  const request = { jobId: JOB_ID, compositionId: "ReelVertical", inputProps: {}, outputKey: `jobs/${JOB_ID}/v2/final.mp4`, webhook: { url: "https://hook.example/remotion", customData: { jobId: JOB_ID, version: 2 } }, keyframeIntervalSeconds: 2 };

  it("renders start with enableCancellation, and cancel() writes Remotion's signal for that render in its bucket", async () => {
    const calls: unknown[] = [];
    const renderer = createRemotionLambdaRenderer({
      region: "eu-west-1",
      functionName: "remotion-render",
      serveUrl: "https://sites.example/reel",
      bucket: "media",
      webhookSecret: "s",
      cancelRenderOnLambda: (async (input: unknown) => void calls.push(input)) as never,
    });
    expect(renderer.renderInput(request)).toMatchObject({ enableCancellation: true, outName: { bucketName: "media", key: `jobs/${JOB_ID}/v2/final.mp4` } });
    await renderer.cancel({ renderId: "abc", bucketName: "remotionlambda-euwest1-x" });
    expect(calls).toEqual([{ region: "eu-west-1", bucketName: "remotionlambda-euwest1-x", renderId: "abc" }]);
    await expect(renderer.cancel({ renderId: "abc" })).rejects.toBeInstanceOf(PermanentError);
    const refusing = createRemotionLambdaRenderer({
      region: "eu-west-1", functionName: "f", serveUrl: "u", bucket: "media", webhookSecret: "s",
      cancelRenderOnLambda: (async () => { throw new Error("Cannot cancel render abc: The render was not started with enableCancellation: true."); }) as never,
    });
    await expect(refusing.cancel({ renderId: "abc", bucketName: "b" })).rejects.toBeInstanceOf(PermanentError);
  });

  it("JobCancelled becomes video.cancelled; a re-render's webhooks name their version", () => {
    const cancelled = asDelivered({ type: "JobCancelled", eventId: `${JOB_ID}:job-cancelled`, jobId: JOB_ID, causationId: "x", data: { job: sample("VideoBaseReady").detail.data.job, cancelledAt: "2026-11-20T10:01:50.000Z" } } as OutgoingEvent<"JobCancelled">);
    expect(notifiedTypes).toContain("JobCancelled");
    const p = webhookPayload(cancelled as never, {});
    expect(p).toMatchObject({ type: "video.cancelled", data: { jobId: JOB_ID, status: "cancelled" } });
    expect(p.data.version).toBeUndefined();
    const v2 = asDelivered({ type: "RenderCompleted", eventId: "c2", jobId: JOB_ID, causationId: "x", data: { ...sample("VideoBaseReady").detail.data, version: 2 } } as unknown as OutgoingEvent<"RenderCompleted">);
    expect(webhookPayload(v2 as never, {})).toMatchObject({ type: "video.completed", data: { version: 2 } });
  });
});

describe("the watchdog's in-flight index with versions", () => {
  it("keeps two versions of one job started in the same millisecond, and removes each by its own key", async () => {
    const index = createMemoryRenderIndex();
    const at = "2026-11-20T11:00:00.000Z";
    await index.add({ jobId: JOB_ID, renderId: "v3", startedAt: at, version: 3 });
    await index.add({ jobId: JOB_ID, renderId: "v4", startedAt: at, version: 4 });
    await index.add({ jobId: JOB_ID, renderId: "v1", startedAt: at });
    expect((await index.listInFlight(new Date("2026-11-20T12:00:00.000Z"))).map((e) => e.renderId).sort()).toEqual(["v1", "v3", "v4"]);
    await index.remove({ jobId: JOB_ID, startedAt: at, version: 3 });
    expect((await index.listInFlight(new Date("2026-11-20T12:00:00.000Z"))).map((e) => [e.renderId, e.version])).toEqual(expect.arrayContaining([["v1", undefined], ["v4", 4]]));
    expect(await index.listInFlight(new Date("2026-11-20T12:00:00.000Z"))).toHaveLength(2);
  });
});
