import { describe, expect, it } from "vitest";
import { pipelineEvents } from "@reelbridge/events";
import { TransientError } from "../../../src/errors";
import { signRemotionWebhook } from "../../../src/render";
import { handleRenderWebhook } from "../../../src/usecases/render-webhook";
import { JOB_ID, RENDER_ID, SECRET, errorPayload, remotionDelivery, startedJob, successPayload, timeoutPayload } from "./helpers";

describe("handleRenderWebhook", () => {
  it("turns a signed success into RenderCompleted with the true video facts, cost and time to finish", async () => {
    const t = await startedJob();
    t.writeOutput(9_120_442);
    t.clock.advance(38);
    const res = await handleRenderWebhook(t.deps, remotionDelivery(successPayload()));

    expect(res).toEqual({ status: 200, body: { ok: true, result: "RenderCompleted", eventId: `${JOB_ID}:render-completed:${RENDER_ID}` } });
    expect(t.publisher.published).toHaveLength(1);
    const ev = t.publisher.published[0]!;
    expect(ev).toMatchObject({ type: "RenderCompleted", jobId: JOB_ID, causationId: `${JOB_ID}:render-started:${RENDER_ID}` });
    expect(ev.data).toEqual({
      job: expect.objectContaining({ jobId: JOB_ID, title: "Lisbon at golden hour" }),
      renderId: RENDER_ID,
      renderer: "remotion-lambda",
      // 6 s base clip + 2 s end card at 30 fps, 1080×1920 for 9:16.
      video: { bucket: "reelbridge-prod-media", key: `jobs/${JOB_ID}/final.mp4`, sizeBytes: 9_120_442, durationSeconds: 8, width: 1080, height: 1920, fps: 30 },
      timeToFinishMs: 36_512,
      cost: { estimated: 0.0042, currency: "USD", disclaimer: "Estimated cost for function invocations only." },
      completedAt: "2026-11-20T10:02:19.000Z",
      // The cost ledger's line: Remotion's own estimate, flagged as one, with its basis.
      stepCost: {
        lines: [{ item: "remotion-render", basis: expect.stringContaining("Remotion's estimate"), quantity: 1, unit: "render", unitPriceUsd: 0.0042, usd: 0.0042, estimated: true }],
        totalUsd: 0.0042,
      },
    });
    expect(() => pipelineEvents.RenderCompleted.data.parse(ev.data)).not.toThrow();
    expect(t.index.entries()).toEqual([]);
  });

  it("answers 401 and emits nothing for a tampered body, a wrong secret or a missing signature", async () => {
    const t = await startedJob();
    t.writeOutput();
    const good = remotionDelivery(successPayload());

    const tampered = { rawBody: good.rawBody.replace(RENDER_ID, "otherrender"), headers: good.headers };
    const wrongSecret = remotionDelivery(successPayload(), "not-the-secret");
    const { "x-remotion-signature": _sig, ...withoutSig } = good.headers;
    const noSecret = { rawBody: good.rawBody, headers: { ...withoutSig, "x-remotion-signature": "NO_SECRET_PROVIDED" } };

    for (const req of [tampered, wrongSecret, { rawBody: good.rawBody, headers: withoutSig }, noSecret]) {
      const res = await handleRenderWebhook(t.deps, req);
      expect(res.status).toBe(401);
    }
    expect(t.publisher.published).toEqual([]);
    expect([...t.state.dump().keys()].some((k) => k.includes("render-outcome"))).toBe(false);
  });

  it("accepts the header in any case", async () => {
    const t = await startedJob();
    t.writeOutput();
    const d = remotionDelivery(successPayload());
    const res = await handleRenderWebhook(t.deps, { rawBody: d.rawBody, headers: { "X-Remotion-Signature": d.headers["x-remotion-signature"] } });
    expect(res.status).toBe(200);
  });

  it("emits once for duplicate deliveries (Remotion retries and has sent duplicates)", async () => {
    const t = await startedJob();
    t.writeOutput();
    const d = remotionDelivery(successPayload());
    const first = await handleRenderWebhook(t.deps, d);
    const second = await handleRenderWebhook(t.deps, d);
    const concurrent = await Promise.all([handleRenderWebhook(t.deps, d), handleRenderWebhook(t.deps, d)]);
    expect(first.body.result).toBe("RenderCompleted");
    expect([second, ...concurrent].map((r) => [r.status, r.body.result])).toEqual([
      [200, "duplicate"],
      [200, "duplicate"],
      [200, "duplicate"],
    ]);
    expect(t.publisher.published).toHaveLength(1);
  });

  it("turns a timeout into RenderFailed(RenderTimeout)", async () => {
    const t = await startedJob();
    const res = await handleRenderWebhook(t.deps, remotionDelivery(timeoutPayload()));
    expect(res.body.result).toBe("RenderFailed");
    expect(t.publisher.published).toEqual([
      expect.objectContaining({
        type: "RenderFailed",
        eventId: `${JOB_ID}:render-failed:${RENDER_ID}`,
        data: expect.objectContaining({ renderId: RENDER_ID, reason: { code: "RenderTimeout", message: expect.stringContaining("timeout"), retryable: false } }),
      }),
    ]);
    // A failed render was still paid for: Remotion's timeout webhook has no costs, so the line
    // is the documented estimate, flagged as one.
    const stepCost = (t.publisher.published[0]!.data as { stepCost?: { lines: Array<{ item: string; estimated?: boolean; usd: number }>; totalUsd: number } }).stepCost;
    expect(stepCost?.lines).toEqual([expect.objectContaining({ item: "remotion-render", estimated: true, usd: 0.02 })]);
    expect(stepCost?.totalUsd).toBe(0.02);
  });

  it("turns an error into RenderFailed(RenderError) without leaking presigned URL credentials", async () => {
    const t = await startedJob();
    await handleRenderWebhook(t.deps, remotionDelivery(errorPayload()));
    const reason = (t.publisher.published[0]!.data as { reason: { code: string; message: string } }).reason;
    expect(reason.code).toBe("RenderError");
    expect(reason.message).toContain("Timed out loading https://reelbridge-prod-media.s3.eu-west-1.amazonaws.com/jobs/x/base.mp4");
    expect(reason.message).not.toMatch(/X-Amz|AKIA|SECRET/);
  });

  it("keeps the first outcome: a different status after it emits nothing", async () => {
    const t = await startedJob();
    t.writeOutput();
    await handleRenderWebhook(t.deps, remotionDelivery(timeoutPayload()));
    const late = await handleRenderWebhook(t.deps, remotionDelivery(errorPayload()));
    const later = await handleRenderWebhook(t.deps, remotionDelivery(successPayload()));
    expect([late.body.result, later.body.result]).toEqual(["duplicate", "duplicate"]);
    expect(t.publisher.published.map((e) => e.type)).toEqual(["RenderFailed"]);
  });

  it("re-publishes the recorded outcome with the same eventId when publishing failed the first time", async () => {
    const t = await startedJob();
    t.writeOutput();
    let calls = 0;
    const flaky = {
      async publish(events: Parameters<typeof t.publisher.publish>[0]) {
        if (calls++ === 0) throw new Error("EventBridge unavailable");
        return t.publisher.publish(events);
      },
    };
    const d = remotionDelivery(successPayload());
    await expect(handleRenderWebhook({ ...t.deps, publisher: flaky }, d)).rejects.toThrow("unavailable");
    const retry = await handleRenderWebhook({ ...t.deps, publisher: flaky }, d);
    expect(retry.body.result).toBe("RenderCompleted");
    expect(t.publisher.published.map((e) => e.eventId)).toEqual([`${JOB_ID}:render-completed:${RENDER_ID}`]);
  });

  it("asks for a retry (transient) when Remotion says success but the output is not there", async () => {
    const t = await startedJob();
    await expect(handleRenderWebhook(t.deps, remotionDelivery(successPayload()))).rejects.toBeInstanceOf(TransientError);
    expect(t.publisher.published).toEqual([]);
    t.writeOutput();
    expect((await handleRenderWebhook(t.deps, remotionDelivery(successPayload()))).body.result).toBe("RenderCompleted");
  });

  it("ignores renders that are not the job's current one, and unknown jobs", async () => {
    const t = await startedJob();
    const orphan = await handleRenderWebhook(t.deps, remotionDelivery(timeoutPayload({ renderId: "orphan123" })));
    const unknown = await handleRenderWebhook(t.deps, remotionDelivery(timeoutPayload({ customData: { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0ZZ" } })));
    const noCustom = await handleRenderWebhook(t.deps, remotionDelivery(timeoutPayload({ customData: null })));
    expect([orphan, unknown, noCustom].map((r) => [r.status, r.body.result])).toEqual([
      [200, "ignored"],
      [200, "ignored"],
      [200, "ignored"],
    ]);
    expect(t.publisher.published).toEqual([]);
  });

  it("answers 503 when the renderId is not recorded yet, and 400 for a signed non-payload", async () => {
    const t = await startedJob();
    await t.state.update(JOB_ID, "render", { status: "starting", renderId: undefined });
    expect((await handleRenderWebhook(t.deps, remotionDelivery(timeoutPayload()))).status).toBe(503);
    const raw = JSON.stringify({ hello: "world" });
    expect((await handleRenderWebhook(t.deps, { rawBody: raw, headers: { "x-remotion-signature": signRemotionWebhook(SECRET, raw) } })).status).toBe(400);
    expect(t.publisher.published).toEqual([]);
  });
});
