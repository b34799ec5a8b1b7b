import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { JobCost } from "@reelbridge/events";
import type { WebhookRequest, WebhookSender } from "../../../src/notify/http";
import { createMemoryPublisher } from "../../../src/publish";
import { createMemoryJobStore } from "../../../src/jobs/memory";
import { lambdaCost, ltxCost, sumCost } from "../../../src/jobs/cost";
import { notifyEvent } from "../../../src/usecases/notify";
import type { NotifyDeps } from "../../../src/usecases/notify";
import type { Logger } from "../../../src/ports";
import type { WebhookPayload } from "../../../src/notify/webhook";
import { createMemoryStepStateStore } from "../../support/memory-step-state";
import { sample, SECRET } from "./fixtures";

/** Issue #13 item 1: the webhooks subscribers get carry the job's cost so far; video.failed what the failed job cost. */

const CALLBACK = "https://hooks.example.com/reelbridge";
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function setup(jobs?: NotifyDeps["jobs"]) {
  const sent: WebhookRequest[] = [];
  const sender: WebhookSender = {
    async send(req) {
      sent.push(req);
      return { status: 200, bodySnippet: "" };
    },
  };
  const deps: NotifyDeps = {
    sender,
    secret: SECRET,
    state: createMemoryStepStateStore(),
    publisher: createMemoryPublisher(),
    logger: quiet,
    stageEndpoints: [],
    policy: { requireHttps: true },
    links: async () => ({}),
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    sleep: async () => undefined,
    ...(jobs ? { jobs } : {}),
  };
  // Signed as sent: the cost is part of the bytes the signature covers.
  const payloads = () => sent.map((r) => new Webhook(SECRET).verify(r.body, r.headers) as WebhookPayload);
  return { deps, sent, payloads };
}

const ctx = { attempt: 1, lastAttempt: false };
const ltx = ltxCost({ provider: "ltx", model: "ltx-2-fast", seconds: 6, width: 1080, height: 1920 });
const withStepCost = <E extends { detail: { data: unknown } }>(e: E, c: JobCost): E => {
  (e.detail.data as { stepCost?: JobCost }).stepCost = c;
  return e;
};

describe("webhook payloads carry the job's cost", () => {
  it("video.failed shows what the failed job cost: the record's lines plus the failing step's own, before the DB writer has recorded it", async () => {
    const jobs = createMemoryJobStore();
    const ready = withStepCost(sample("RenderCompleted", { callbackUrl: CALLBACK }), sumCost([ltx]));
    // The record knows an earlier event of the job (its LTX line)…
    const started = structuredClone(ready);
    started.detail.metadata.eventId = "01JD7X8Q2RZ4V6N3K5M9P1T0ZZ";
    await jobs.apply(started as never);
    // …and the failure, not recorded yet, carries the render step's Lambda line.
    const failed = withStepCost(sample("RenderFailed", { callbackUrl: CALLBACK }), sumCost([lambdaCost(0.5, "arm64", { fn: "render-step", invocations: 1 })]));
    const { deps, payloads } = setup(jobs);
    await notifyEvent(deps, failed, ctx);
    const [p] = payloads();
    expect(p!.type).toBe("video.failed");
    const items = p!.data.cost!.lines.map((l) => l.item);
    expect(items).toEqual(expect.arrayContaining(["ltx-generation", "lambda:render-step", "eventbridge"]));
    expect(p!.data.cost!.totalUsd).toBeGreaterThanOrEqual(0.24);
    const sum = p!.data.cost!.lines.reduce((a, l) => a + Math.round(l.usd * 1e9), 0) / 1e9;
    expect(p!.data.cost!.totalUsd).toBe(sum);
    expect(p!.data.cost!.lines.every((l) => typeof l.basis === "string" && l.basis.length > 0)).toBe(true);
  });

  it("does not count an event's lines twice once the record has them", async () => {
    const jobs = createMemoryJobStore();
    const done = withStepCost(sample("RenderCompleted", { callbackUrl: CALLBACK }), sumCost([ltx]));
    await jobs.apply(done as never);
    const { deps, payloads } = setup(jobs);
    await notifyEvent(deps, done, ctx);
    const p = payloads()[0]!;
    expect(p.type).toBe("video.completed");
    expect(p.data.cost).toEqual((await jobs.get(done.detail.metadata.jobId))!.cost);
    expect(p.data.cost!.lines.filter((l) => l.item === "ltx-generation")).toHaveLength(1);
  });

  it("a job with no record yet still gets the event's own lines; a store that fails leaves them too, and the webhook goes out", async () => {
    const failed = withStepCost(sample("VideoBaseFailed", { callbackUrl: CALLBACK }), sumCost([lambdaCost(1.2, "x86_64", { fn: "ltx-step", invocations: 2 })]));
    const none = setup(createMemoryJobStore());
    await notifyEvent(none.deps, failed, ctx);
    expect(none.payloads()[0]!.data.cost!.lines.map((l) => l.item)).toEqual(["lambda:ltx-step"]);
    const broken = setup({ get: async () => Promise.reject(new Error("table unavailable")) });
    await notifyEvent(broken.deps, failed, ctx);
    expect(broken.sent).toHaveLength(1);
    expect(broken.payloads()[0]!.data.cost!.lines.map((l) => l.item)).toEqual(["lambda:ltx-step"]);
  });

  it("has no cost field when the notifier reads no job record (additive: older payloads are unchanged)", async () => {
    const { deps, payloads } = setup();
    await notifyEvent(deps, sample("RenderCompleted", { callbackUrl: CALLBACK }), ctx);
    expect(payloads()[0]!.data).not.toHaveProperty("cost");
  });
});
