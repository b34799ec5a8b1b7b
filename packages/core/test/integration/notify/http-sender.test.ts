import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpWebhookSender, WebhookNetworkError } from "../../../src/notify/http";
import { UnsafeEndpointError } from "../../../src/notify/ssrf";
import type { Resolver } from "../../../src/notify/ssrf";

/** A plain HTTP server on 127.0.0.1 whose answers are chosen by path. */
let server: Server;
let port: number;
const seen: Array<{ path: string; host: string | undefined; body: string }> = [];
beforeAll(async () => {
  server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    for await (const c of req) body += String(c);
    seen.push({ path: req.url ?? "", host: req.headers.host, body });
    if (req.url === "/slow") setTimeout(() => res.writeHead(200).end(), 2_000);
    else if (req.url === "/redirect") res.writeHead(301, { location: `http://127.0.0.1:${port}/target` }).end();
    else if (req.url === "/big") res.writeHead(200).end(Buffer.alloc(8 * 1024 * 1024, 97));
    else if (req.url === "/busy") res.writeHead(503, { "retry-after": "3" }).end("busy");
    else res.writeHead(200).end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const local = { requireHttps: false, allowPrivateForLocal: true };
const strict = { requireHttps: false };
const req = (url: string) => ({ url, headers: { "webhook-id": "msg_x" }, body: '{"type":"video.completed"}' });
const fixed = (...answers: string[][]): Resolver & { calls: number } => {
  const r = Object.assign(
    async () => {
      const addrs = answers[Math.min(r.calls, answers.length - 1)]!;
      r.calls++;
      return addrs.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    },
    { calls: 0 },
  );
  return r;
};

describe("createHttpWebhookSender (real sockets)", () => {
  it("POSTs the body with the given headers to a name resolved through the guarded lookup", async () => {
    const resolver = fixed(["127.0.0.1"]);
    const sender = createHttpWebhookSender({ policy: local, resolver });
    const res = await sender.send(req(`http://hooks.test:${port}/hook`));
    expect(res).toMatchObject({ status: 200, bodySnippet: "ok" });
    expect(seen.at(-1)).toMatchObject({ path: "/hook", host: `hooks.test:${port}`, body: '{"type":"video.completed"}' });
    expect(resolver.calls).toBe(2); // the early check and the connect-time lookup
  });

  it("blocks DNS rebinding: public when checked, loopback when connecting → refused, nothing sent", async () => {
    const before = seen.length;
    const resolver = fixed(["93.184.216.34"], ["127.0.0.1"]);
    const sender = createHttpWebhookSender({ policy: strict, resolver });
    await expect(sender.send(req(`http://rebind.test:${port}/hook`))).rejects.toBeInstanceOf(UnsafeEndpointError);
    expect(resolver.calls).toBe(2);
    expect(seen.length).toBe(before);
  });

  it.each([
    [["127.0.0.1"]],
    [["10.1.2.3"]],
    [["169.254.169.254"]],
    [["::1"]],
    [["::ffff:127.0.0.1"]],
    [["93.184.216.34", "192.168.0.10"]],
  ])("refuses a name resolving to %j", async (addresses) => {
    const sender = createHttpWebhookSender({ policy: strict, resolver: fixed(addresses) });
    await expect(sender.send(req(`http://evil.test:${port}/hook`))).rejects.toBeInstanceOf(UnsafeEndpointError);
  });

  it("refuses loopback literals and localhost unless allowPrivateForLocal", async () => {
    const sender = createHttpWebhookSender({ policy: strict });
    await expect(sender.send(req(`http://127.0.0.1:${port}/hook`))).rejects.toBeInstanceOf(UnsafeEndpointError);
    await expect(sender.send(req(`http://[::1]:${port}/hook`))).rejects.toBeInstanceOf(UnsafeEndpointError);
    await expect(sender.send(req(`http://localhost:${port}/hook`))).rejects.toBeInstanceOf(UnsafeEndpointError);
    await expect(createHttpWebhookSender({ policy: local }).send(req(`http://127.0.0.1:${port}/hook`))).resolves.toMatchObject({ status: 200 });
  });

  it("returns a redirect as it is, without following it", async () => {
    const before = seen.length;
    const res = await createHttpWebhookSender({ policy: local }).send(req(`http://127.0.0.1:${port}/redirect`));
    expect(res.status).toBe(301);
    expect(seen.slice(before).map((s) => s.path)).toEqual(["/redirect"]);
  });

  it("reads Retry-After, caps the response body, and times out a silent endpoint", async () => {
    const sender = createHttpWebhookSender({ policy: local, timeoutMs: 300, maxResponseBytes: 1024 });
    expect(await sender.send(req(`http://127.0.0.1:${port}/busy`))).toMatchObject({ status: 503, retryAfterSeconds: 3 });
    const big = await sender.send(req(`http://127.0.0.1:${port}/big`));
    expect(big.status).toBe(200);
    expect(big.bodySnippet.length).toBeLessThanOrEqual(500);
    const t0 = Date.now();
    const err = await sender.send(req(`http://127.0.0.1:${port}/slow`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookNetworkError);
    expect(err).toMatchObject({ code: "ETIMEDOUT" });
    expect(Date.now() - t0).toBeLessThan(1_500);
  });

  it("reports a refused connection as a transient network error", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const p = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await createHttpWebhookSender({ policy: local }).send(req(`http://127.0.0.1:${p}/hook`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookNetworkError);
    expect(err).toMatchObject({ code: "ECONNREFUSED", retryable: true });
  });
});
