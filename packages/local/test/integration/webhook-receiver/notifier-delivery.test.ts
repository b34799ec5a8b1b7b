import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PipelineEvent } from "@reelbridge/events";
import { TransientError } from "@reelbridge/core";
import type { Logger, StepStateStore } from "@reelbridge/core";
import { createHttpWebhookSender } from "@reelbridge/core/notify/http";
import type { EndpointPolicy, Resolver } from "@reelbridge/core/notify/ssrf";
import type { NotifiedEvent, NotifiedType } from "@reelbridge/core/notify/webhook";
import { createMemoryPublisher } from "@reelbridge/core/publish";
import { notifyEvent } from "@reelbridge/core/usecases/notify";
import type { NotifyDeps } from "@reelbridge/core/usecases/notify";
import { startWebhookReceiver } from "../../../src/fakes/webhook-receiver";
import type { ScriptedResponse, WebhookReceiver } from "../../../src/fakes/webhook-receiver";

/**
 * The notifier end to end over real HTTP on 127.0.0.1: the use-case, the SSRF-guarded sender
 * and a receiver that verifies every request with the `standardwebhooks` package.
 */

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const LOCAL: EndpointPolicy = { requireHttps: false, allowPrivateForLocal: true };
const samples = join(__dirname, "../../../../events/samples/v1");

function sample<T extends NotifiedType>(type: T, callbackUrl: string, eventId?: string): PipelineEvent<T> & NotifiedEvent {
  const e = JSON.parse(readFileSync(join(samples, `${type}.json`), "utf8")) as PipelineEvent<T> & NotifiedEvent;
  (e.detail.data as { job: { callbackUrl?: string } }).job.callbackUrl = callbackUrl;
  if (eventId) e.detail.metadata.eventId = eventId;
  return e;
}

function memoryState(): StepStateStore {
  const m = new Map<string, Record<string, unknown>>();
  const k = (j: string, n: string) => `${j}#${n}`;
  return {
    get: async (j, n) => structuredClone(m.get(k(j, n))),
    putIfAbsent: async (j, n, v) => {
      const existing = m.get(k(j, n));
      if (existing) return { created: false, value: structuredClone(existing) };
      m.set(k(j, n), structuredClone(v));
      return { created: true, value: v };
    },
    update: async (j, n, v) => void m.set(k(j, n), { ...m.get(k(j, n)), ...structuredClone(v) }),
  };
}

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
async function receiver(behaviour?: ScriptedResponse[], logPath?: string) {
  const r = await startWebhookReceiver({ secret: SECRET, ...(behaviour ? { behaviour } : {}), ...(logPath ? { logPath } : {}) });
  receivers.push(r);
  return r;
}

function deps(extra: Partial<NotifyDeps> & { policy?: EndpointPolicy; resolver?: Resolver } = {}) {
  const publisher = createMemoryPublisher();
  const { resolver, ...rest } = extra;
  const policy = extra.policy ?? LOCAL;
  const d: NotifyDeps = {
    sender: createHttpWebhookSender({ policy, timeoutMs: 2_000, ...(resolver ? { resolver } : {}) }),
    secret: SECRET,
    state: memoryState(),
    publisher,
    logger: quiet,
    stageEndpoints: [],
    policy,
    links: async (e) => ({ status: `http://127.0.0.1:9/jobs/${e.detail.metadata.jobId}` }),
    retry: { baseDelayMs: 20, maxDelayMs: 50, requestTimeoutMs: 2_000 },
    ...rest,
  };
  return { deps: d, publisher };
}
const first = { attempt: 1, lastAttempt: false };

describe("notifier → receiver over HTTP", () => {
  it("delivers a webhook the standardwebhooks package verifies, and logs it as JSONL", async () => {
    const dir = await mkdtemp(join(tmpdir(), "reelbridge-wh-"));
    const r = await receiver(undefined, join(dir, "deliveries.jsonl"));
    const { deps: d, publisher } = deps();
    await notifyEvent(d, sample("RenderCompleted", `${r.url}/hooks/reelbridge?token=abc`), first);
    expect(r.deliveries).toHaveLength(1);
    const got = r.deliveries[0]!;
    expect(got).toMatchObject({ verified: true, type: "video.completed", attempt: 1, status: 204, path: "/hooks/reelbridge?token=abc" });
    expect(got.webhookId).toMatch(/^msg_/);
    expect(Math.abs(got.timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(got.payload).toMatchObject({ data: { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AB", status: "completed", links: { status: expect.stringContaining("/jobs/") } } });
    expect(publisher.published[0]).toMatchObject({ type: "NotificationDelivered", data: { webhookId: got.webhookId, statusCode: 204, endpoint: { url: `${r.url}/hooks/reelbridge` } } });
    const lines = (await readFile(join(dir, "deliveries.jsonl"), "utf8")).trim().split("\n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ webhookId: got.webhookId, verified: true });
    await rm(dir, { recursive: true, force: true });
  });

  it("retries after 503 + Retry-After with the same webhook-id and a fresh timestamp, then succeeds", async () => {
    const r = await receiver([{ status: 503, retryAfter: 1 }, { status: 200 }]);
    const { deps: d, publisher } = deps();
    await notifyEvent(d, sample("SegmentsReady", `${r.url}/h`), first);
    expect(r.deliveries.map((x) => [x.attempt, x.status, x.verified])).toEqual([
      [1, 503, true],
      [2, 200, true],
    ]);
    expect(r.deliveries[1]!.webhookId).toBe(r.deliveries[0]!.webhookId);
    expect(r.deliveries[1]!.timestamp).toBeGreaterThan(r.deliveries[0]!.timestamp);
    expect(publisher.published[0]).toMatchObject({ type: "NotificationDelivered", data: { attempts: 2, webhookType: "video.segments_ready" } });
  });

  it("a receiver that is down: transient while retries remain, NotificationFailed on the queue's last receive", async () => {
    const port = await freePort();
    const { deps: d, publisher } = deps({ retry: { attemptsPerInvocation: 2, baseDelayMs: 10, maxDelayMs: 10, requestTimeoutMs: 2_000 } });
    const e = sample("RenderFailed", `http://127.0.0.1:${port}/h`);
    const err = await notifyEvent(d, e, first).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toContain("ECONNREFUSED");
    expect(publisher.published).toHaveLength(0);
    await expect(notifyEvent(d, e, { attempt: 8, lastAttempt: true })).rejects.toBeInstanceOf(TransientError);
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]).toMatchObject({ type: "NotificationFailed", data: { attempts: 4, reason: { code: "RetriesExhausted" } } });
  });

  it("410 Gone: NotificationFailed (EndpointGone), and a stage endpoint is not called for the next event", async () => {
    const gone = await receiver([{ status: 410 }]);
    const callback = await receiver();
    const { deps: d, publisher } = deps({ stageEndpoints: [`${gone.url}/stage`] });
    await notifyEvent(d, sample("RenderCompleted", `${callback.url}/cb`), first);
    await notifyEvent(d, sample("SegmentsReady", `${callback.url}/cb`), first);
    expect(gone.deliveries).toHaveLength(1);
    expect(callback.deliveries.map((x) => x.type)).toEqual(["video.completed", "video.segments_ready"]);
    const failures = publisher.published.filter((e) => e.type === "NotificationFailed");
    expect(failures.map((e) => (e.data as { reason: { code: string } }).reason.code)).toEqual(["EndpointGone", "EndpointGone"]);
  });

  it("a 301 is not followed and counts as a failed attempt", async () => {
    const target = await receiver();
    const redirecting = await receiver([301, 301, 301].map((status) => ({ status, location: `${target.url}/elsewhere` })));
    const { deps: d, publisher } = deps();
    await expect(notifyEvent(d, sample("RenderCompleted", `${redirecting.url}/h`), { attempt: 8, lastAttempt: true })).rejects.toBeInstanceOf(TransientError);
    expect(redirecting.deliveries).toHaveLength(3);
    expect(target.deliveries).toHaveLength(0);
    expect(publisher.published[0]).toMatchObject({ type: "NotificationFailed", data: { lastStatusCode: 301 } });
  });

  it("a duplicate pipeline event sends no second webhook", async () => {
    const r = await receiver();
    const { deps: d } = deps();
    const e = sample("RenderCompleted", `${r.url}/h`);
    await notifyEvent(d, e, first);
    await notifyEvent(d, structuredClone(e), first);
    expect(r.deliveries).toHaveLength(1);
  });

  it("SSRF: http is refused on an AWS stage, and names resolving to private addresses are refused at connect time", async () => {
    const r = await receiver();
    const aws: EndpointPolicy = { requireHttps: true };
    const { deps: d1, publisher: p1 } = deps({ policy: aws });
    await notifyEvent(d1, sample("RenderCompleted", `${r.url}/h`), first);
    expect(p1.published[0]).toMatchObject({ type: "NotificationFailed", data: { attempts: 0, reason: { code: "UnsafeEndpoint", message: expect.stringContaining("https") } } });

    for (const addresses of [["127.0.0.1"], ["10.0.0.8"], ["169.254.169.254"], ["::1"], ["::ffff:127.0.0.1"]]) {
      const resolver: Resolver = async () => addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
      const { deps: d, publisher } = deps({ policy: { requireHttps: false }, resolver });
      await notifyEvent(d, sample("RenderCompleted", `http://hooks.attacker.test:${r.port}/h`), first);
      expect(publisher.published[0], addresses.join()).toMatchObject({ type: "NotificationFailed", data: { reason: { code: "UnsafeEndpoint" } } });
    }

    // DNS rebinding: public when first resolved, loopback when the socket resolves it.
    let calls = 0;
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? "93.184.216.34" : "127.0.0.1", family: 4 }];
    const { deps: d2, publisher: p2 } = deps({ policy: { requireHttps: false }, resolver: rebinding });
    await notifyEvent(d2, sample("RenderCompleted", `http://rebind.attacker.test:${r.port}/h`), first);
    expect(calls).toBe(2);
    expect(p2.published[0]).toMatchObject({ type: "NotificationFailed", data: { reason: { code: "UnsafeEndpoint", message: expect.stringContaining("127.0.0.1") } } });
    expect(r.deliveries).toHaveLength(0);
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, "127.0.0.1", () => res()));
  const { port } = s.address() as AddressInfo;
  await new Promise((res) => s.close(res));
  return port;
}
