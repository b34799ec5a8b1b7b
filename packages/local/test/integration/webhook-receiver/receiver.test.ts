import { afterEach, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { startWebhookReceiver } from "../../../src/fakes/webhook-receiver";
import type { WebhookReceiver } from "../../../src/fakes/webhook-receiver";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
let r: WebhookReceiver | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const post = (url: string, body: string, headers: Record<string, string>) =>
  fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

describe("startWebhookReceiver", () => {
  it("accepts a correctly signed request and answers 401 to a forged or stale one", async () => {
    r = await startWebhookReceiver({ secret: SECRET });
    const body = JSON.stringify({ type: "video.completed", timestamp: new Date().toISOString(), data: {} });
    const now = new Date();
    const good = { "webhook-id": "msg_1", "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": new Webhook(SECRET).sign("msg_1", now, body) };
    expect((await post(r.url, body, good)).status).toBe(204);
    const forged = { ...good, "webhook-signature": new Webhook("whsec_" + Buffer.from("another secret 24 bytes!").toString("base64")).sign("msg_1", now, body) };
    expect((await post(r.url, body, forged)).status).toBe(401);
    const old = new Date(Date.now() - 10 * 60_000);
    const stale = { "webhook-id": "msg_2", "webhook-timestamp": String(Math.floor(old.getTime() / 1000)), "webhook-signature": new Webhook(SECRET).sign("msg_2", old, body) };
    expect((await post(r.url, body, stale)).status).toBe(401);
    expect(r.deliveries.map((d) => [d.webhookId, d.verified, d.attempt])).toEqual([
      ["msg_1", true, 1],
      ["msg_1", false, 2],
      ["msg_2", false, 1],
    ]);
    expect(r.deliveries[2]!.verifyError).toMatch(/too old/);
  });

  it("answers as scripted, including delays, and waitFor resolves on the n-th delivery", async () => {
    r = await startWebhookReceiver({ secret: SECRET, behaviour: ({ attempt }) => (attempt === 1 ? { status: 429, retryAfter: 7 } : { status: 200, delayMs: 50 }) });
    const res1 = await post(r.url, "{}", { "webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,x" });
    expect(res1.status).toBe(429);
    expect(res1.headers.get("retry-after")).toBe("7");
    const pending = r.waitFor(2);
    const res2 = await post(r.url, "{}", { "webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,x" });
    expect(res2.status).toBe(200);
    expect((await pending).map((d) => d.status)).toEqual([429, 200]);
  });
});
