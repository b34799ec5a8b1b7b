import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { TransientError } from "../../../src/errors";
import { WebhookNetworkError } from "../../../src/notify/http";
import type { WebhookRequest, WebhookResponse, WebhookSender } from "../../../src/notify/http";
import { UnsafeEndpointError } from "../../../src/notify/ssrf";
import { createMemoryPublisher } from "../../../src/publish";
import { notifyEvent, STAGE_ENDPOINTS_STATE_JOB_ID } from "../../../src/usecases/notify";
import type { NotifyDeps } from "../../../src/usecases/notify";
import type { Logger } from "../../../src/ports";
import { createMemoryStepStateStore } from "../../support/memory-step-state";
import { sample, SECRET } from "./fixtures";

const CALLBACK = "https://hooks.example.com/reelbridge";
const STAGE = "https://ops.example.net/webhooks?token=s3cr3t";
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

type Answer = WebhookResponse | Error;
/** A sender that answers from a per-URL script and records every request. */
function scriptedSender(script: Record<string, Answer[]>) {
  const sent: WebhookRequest[] = [];
  const sender: WebhookSender = {
    async send(req) {
      sent.push(req);
      const next = script[req.url]?.shift() ?? { status: 204, bodySnippet: "" };
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { sender, sent };
}
const ok = (status = 200): WebhookResponse => ({ status, bodySnippet: "" });
const status = (s: number, retryAfterSeconds?: number): WebhookResponse => ({ status: s, bodySnippet: "", ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });

function setup(script: Record<string, Answer[]> = {}, extra: Partial<NotifyDeps> = {}) {
  const { sender, sent } = scriptedSender(script);
  const publisher = createMemoryPublisher();
  const state = createMemoryStepStateStore();
  const sleeps: number[] = [];
  // Near the real time: the standardwebhooks verifier checks a 5-minute tolerance against Date.now().
  let t = Date.now() - 60_000;
  const deps: NotifyDeps = {
    sender,
    secret: SECRET,
    state,
    publisher,
    logger: quiet,
    // Each reading of the clock moves 1 s on, so attempts get distinct webhook-timestamps.
    clock: { now: () => new Date((t += 1000)) },
    stageEndpoints: [STAGE],
    policy: { requireHttps: true },
    links: async () => ({ status: "https://api.example.com/jobs/x" }),
    retry: { baseDelayMs: 10, maxDelayMs: 40 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  };
  return { deps, sent, publisher, state, sleeps };
}
const first = { attempt: 1, lastAttempt: false };
const last = { attempt: 8, lastAttempt: true };
const verify = (req: WebhookRequest) => new Webhook(SECRET).verify(req.body, req.headers);
const types = (p: ReturnType<typeof createMemoryPublisher>) => p.published.map((e) => `${e.type}:${(e.data as { endpoint: { kind: string } }).endpoint.kind}`);

describe("notifyEvent", () => {
  it("sends one signed webhook to the callback and to each stage endpoint, then announces NotificationDelivered", async () => {
    const { deps, sent, publisher } = setup();
    const results = await notifyEvent(deps, sample("RenderCompleted"), first);
    expect(sent.map((r) => r.url).sort()).toEqual([CALLBACK, STAGE].sort());
    for (const req of sent) expect(verify(req)).toMatchObject({ type: "video.completed", data: { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AB" } });
    expect(new Set(sent.map((r) => r.headers["webhook-id"])).size).toBe(2);
    expect(results.map((r) => r.outcome)).toEqual(["delivered", "delivered"]);
    expect(types(publisher).sort()).toEqual(["NotificationDelivered:callback", "NotificationDelivered:stage"]);
    const stage = publisher.published.find((e) => (e.data as { endpoint: { kind: string } }).endpoint.kind === "stage")!;
    // Query strings may hold tokens: never echoed into events.
    expect(stage.data).toMatchObject({ endpoint: { url: "https://ops.example.net/webhooks" }, webhookType: "video.completed", attempts: 1, statusCode: 204 });
    expect(stage.causationId).toBe("01JD7XA0000000000000000004");
  });

  it("retries within the invocation, honouring a short Retry-After, with the same webhook-id and a fresh timestamp", async () => {
    const { deps, sent, publisher, sleeps } = setup({ [CALLBACK]: [status(503, 2), status(502), ok()] }, { stageEndpoints: [] });
    await notifyEvent(deps, sample("SegmentsReady"), first);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(new Set(sent.map((r) => r.headers["webhook-timestamp"])).size).toBe(3);
    expect(new Set(sent.map((r) => r.body)).size).toBe(1);
    // Retry-After: 2 s, then exponential backoff with jitter (base 10 ms, attempt 2 → 20 ms × [0.5, 1]).
    expect(sleeps).toEqual([2000, 15]);
    expect(publisher.published[0]).toMatchObject({ type: "NotificationDelivered", data: { attempts: 3 } });
  });

  it("leaves a long Retry-After to the queue: TransientError carrying it, attempts remembered for the next delivery", async () => {
    const { deps, sent, publisher, state } = setup({ [CALLBACK]: [status(429, 600), ok(202)] }, { stageEndpoints: [] });
    const err = await notifyEvent(deps, sample("RenderCompleted"), first).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ code: "DeliveryFailed", retryAfterSeconds: 600 });
    expect(sent).toHaveLength(1);
    expect(publisher.published).toHaveLength(0);
    const results = await notifyEvent(deps, sample("RenderCompleted"), { attempt: 2, lastAttempt: false });
    expect(results[0]).toMatchObject({ outcome: "delivered", attempts: 2, statusCode: 202 });
    expect(sent[0]!.headers["webhook-id"]).toBe(sent[1]!.headers["webhook-id"]);
    expect([...state.records.values()][0]).toMatchObject({ status: "delivered", attempts: 2 });
  });

  it("on the queue's last receive, emits NotificationFailed (RetriesExhausted) and still throws for the DLQ", async () => {
    const refused = () => new WebhookNetworkError("could not reach hooks.example.com: ECONNREFUSED", "ECONNREFUSED");
    const { deps, sent, publisher } = setup({ [CALLBACK]: [refused(), refused(), refused()] }, { stageEndpoints: [] });
    await expect(notifyEvent(deps, sample("RenderFailed"), last)).rejects.toBeInstanceOf(TransientError);
    expect(sent).toHaveLength(3);
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({
      type: "NotificationFailed",
      data: { webhookType: "video.failed", attempts: 3, reason: { code: "RetriesExhausted", message: expect.stringContaining("ECONNREFUSED") } },
    });
  });

  it("stops quick retries when the invocation's time budget cannot fit another request", async () => {
    const { deps, sent } = setup({ [CALLBACK]: [status(500), status(500), status(500)] }, { stageEndpoints: [], retry: { budgetMs: 20_000, requestTimeoutMs: 15_000, baseDelayMs: 10_000 } });
    await expect(notifyEvent(deps, sample("RenderCompleted"), first)).rejects.toBeInstanceOf(TransientError);
    expect(sent).toHaveLength(1);
  });

  it("treats a redirect as a failure and never follows it", async () => {
    const { deps, sent, publisher } = setup({ [CALLBACK]: [status(301), status(301), status(301)] }, { stageEndpoints: [] });
    await expect(notifyEvent(deps, sample("RenderCompleted"), last)).rejects.toBeInstanceOf(TransientError);
    expect(sent.every((r) => r.url === CALLBACK)).toBe(true);
    expect(publisher.published[0]).toMatchObject({ type: "NotificationFailed", data: { lastStatusCode: 301, reason: { message: expect.stringContaining("redirects are not followed") } } });
  });

  it("410 disables a stage endpoint: EndpointGone now, and no request for later events", async () => {
    const { deps, sent, publisher, state } = setup({ [STAGE]: [status(410)] });
    await notifyEvent(deps, sample("RenderCompleted"), first);
    expect(sent.filter((r) => r.url === STAGE)).toHaveLength(1);
    expect(publisher.published.find((e) => e.type === "NotificationFailed")).toMatchObject({ data: { lastStatusCode: 410, reason: { code: "EndpointGone" } } });
    expect([...state.records.keys()].some((k) => k.startsWith(`${STAGE_ENDPOINTS_STATE_JOB_ID}#endpoint-disabled:`))).toBe(true);

    const before = sent.length;
    const results = await notifyEvent(deps, sample("SegmentsReady"), first);
    expect(sent.slice(before).map((r) => r.url)).toEqual([CALLBACK]);
    expect(results.find((r) => r.kind === "stage")).toMatchObject({ outcome: "gone", attempts: 0 });
    expect(publisher.published.filter((e) => e.type === "NotificationFailed")).toHaveLength(2);
  });

  it("a duplicate pipeline event sends nothing after a success, and retries only the endpoint still pending", async () => {
    const { deps, sent, publisher } = setup({ [STAGE]: [status(500), status(500), status(500)] });
    await expect(notifyEvent(deps, sample("RenderCompleted"), first)).rejects.toBeInstanceOf(TransientError);
    expect(sent.filter((r) => r.url === CALLBACK)).toHaveLength(1);
    await notifyEvent(deps, sample("RenderCompleted"), { attempt: 2, lastAttempt: false });
    expect(sent.filter((r) => r.url === CALLBACK)).toHaveLength(1);
    expect(sent.filter((r) => r.url === STAGE)).toHaveLength(4);
    const again = await notifyEvent(deps, sample("RenderCompleted"), first);
    expect(again.map((r) => r.outcome)).toEqual(["already-delivered", "already-delivered"]);
    expect(sent).toHaveLength(5);
    expect(publisher.published.map((e) => e.eventId)).toHaveLength(2);
  });

  it("re-announces a delivery whose NotificationDelivered was lost, without sending again", async () => {
    const { deps, sent, publisher } = setup({}, { stageEndpoints: [] });
    let fail = true;
    const flaky = { publish: async (events: Parameters<typeof publisher.publish>[0]) => {
      if (fail) throw new Error("PutEvents throttled");
      await publisher.publish(events);
    } };
    await expect(notifyEvent({ ...deps, publisher: flaky }, sample("RenderCompleted"), first)).rejects.toThrow(/throttled/);
    fail = false;
    await notifyEvent({ ...deps, publisher: flaky }, sample("RenderCompleted"), first);
    expect(sent).toHaveLength(1);
    expect(publisher.published.map((e) => e.type)).toEqual(["NotificationDelivered"]);
  });

  it("refuses unsafe endpoints without sending: http on an AWS stage, metadata address, refusal at connect time", async () => {
    const { deps, sent, publisher } = setup(
      { "https://rebind.example.com/h": [new UnsafeEndpointError("rebind.example.com resolves to 169.254.169.254, which is link-local / cloud metadata")] },
      { stageEndpoints: ["https://169.254.169.254/latest/meta-data/", "https://rebind.example.com/h"] },
    );
    const results = await notifyEvent(deps, sample("RenderCompleted", { callbackUrl: "http://hooks.example.com/plain" }), first);
    expect(results.map((r) => r.outcome)).toEqual(["unsafe", "unsafe", "unsafe"]);
    expect(sent.map((r) => r.url)).toEqual(["https://rebind.example.com/h"]);
    expect(publisher.published.map((e) => (e.data as { reason: { code: string } }).reason.code)).toEqual(["UnsafeEndpoint", "UnsafeEndpoint", "UnsafeEndpoint"]);
  });

  it("notifies stage endpoints of a failure that carries no job, without publishing an outcome it cannot describe", async () => {
    const { deps, sent, publisher } = setup();
    const e = sample("VideoBaseFailed");
    delete (e.detail.data as { job?: unknown }).job;
    await notifyEvent(deps, e, first);
    expect(sent.map((r) => r.url)).toEqual([STAGE]);
    expect(verify(sent[0]!)).toMatchObject({ type: "video.failed", data: { failedStep: "ingest", reason: { code: "UnsupportedFormat" } } });
    expect(publisher.published).toHaveLength(0);
  });

  it("does nothing without endpoints", async () => {
    const { deps, sent } = setup({}, { stageEndpoints: [] });
    expect(await notifyEvent(deps, sample("RenderCompleted", { callbackUrl: null }), first)).toEqual([]);
    expect(sent).toHaveLength(0);
  });
});
