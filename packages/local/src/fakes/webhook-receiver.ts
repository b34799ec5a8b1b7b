import { appendFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/**
 * A Standard Webhooks receiver for tests and the local demo: verifies every request with the
 * reference `standardwebhooks` package (over the raw body, as the spec requires), records what
 * arrived, and answers as scripted (status codes, Retry-After, delays, redirects), so retries,
 * 410s and redirects can be exercised against real HTTP.
 */

export interface ScriptedResponse {
  status: number;
  /** Retry-After header value (seconds or an HTTP date). */
  retryAfter?: string | number;
  /** Location header (for 3xx). */
  location?: string;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
  body?: string;
}

export interface ReceivedDelivery {
  webhookId: string;
  /** webhook-timestamp, Unix seconds. */
  timestamp: number;
  /** The payload's `type`, when the body was JSON. */
  type?: string;
  payload: unknown;
  verified: boolean;
  verifyError?: string;
  /** 1 for the first request with this webhook-id, 2 for its first retry, … */
  attempt: number;
  /** What the receiver answered. */
  status: number;
  path: string;
  receivedAt: string;
  headers: Record<string, string>;
}

export interface WebhookReceiverOptions {
  /** `whsec_…` secret shared with the sender. */
  secret: string;
  port?: number;
  host?: string;
  /**
   * Responses in order (one per request; after the list runs out, 204), or a function of the
   * request. Verification failures are answered 401 unless scripted otherwise.
   */
  behaviour?: ScriptedResponse[] | ((req: { path: string; webhookId: string; attempt: number; verified: boolean }) => ScriptedResponse);
  /** Append each delivery as a JSON line (the local demo's log). */
  logPath?: string;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  deliveries: ReceivedDelivery[];
  /** Resolves once `count` deliveries were recorded. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedDelivery[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const wh = new Webhook(opts.secret);
  const deliveries: ReceivedDelivery[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const script = Array.isArray(opts.behaviour) ? [...opts.behaviour] : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const webhookId = headers["webhook-id"] ?? "";
    let verified = false;
    let verifyError: string | undefined;
    let payload: unknown;
    try {
      payload = wh.verify(raw, headers);
      verified = true;
    } catch (err) {
      verifyError = (err as Error).message;
      try {
        payload = JSON.parse(raw);
      } catch {
        payload = raw;
      }
    }
    const attempt = deliveries.filter((d) => d.webhookId === webhookId).length + 1;
    const path = req.url ?? "/";
    const scripted: ScriptedResponse =
      typeof opts.behaviour === "function"
        ? opts.behaviour({ path, webhookId, attempt, verified })
        : (script?.shift() ?? (verified ? { status: 204 } : { status: 401, body: verifyError }));
    const delivery: ReceivedDelivery = {
      webhookId,
      timestamp: Number(headers["webhook-timestamp"]),
      ...(payload && typeof payload === "object" && typeof (payload as { type?: unknown }).type === "string" ? { type: (payload as { type: string }).type } : {}),
      payload,
      verified,
      ...(verifyError ? { verifyError } : {}),
      attempt,
      status: scripted.status,
      path,
      receivedAt: new Date().toISOString(),
      headers,
    };
    deliveries.push(delivery);
    // The log holds signatures and presigned links: private to the user.
    if (opts.logPath) await appendFile(opts.logPath, JSON.stringify(delivery) + "\n", { mode: 0o600 });
    for (const w of waiters.filter((w) => deliveries.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    if (scripted.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
    const out: Record<string, string> = { "content-type": "text/plain" };
    if (scripted.retryAfter !== undefined) out["retry-after"] = String(scripted.retryAfter);
    if (scripted.location) out.location = scripted.location;
    if (!res.destroyed) res.writeHead(scripted.status, out).end(scripted.body ?? "");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    deliveries,
    waitFor(count, timeoutMs = 10_000) {
      if (deliveries.length >= count) return Promise.resolve(deliveries);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} deliveries, got ${deliveries.length}`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(deliveries);
          },
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
