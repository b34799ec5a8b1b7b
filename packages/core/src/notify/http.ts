import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { IncomingMessage } from "node:http";
import { checkEndpointUrl, guardedLookup, hostOf, resolveSafely, systemResolver, UnsafeEndpointError } from "./ssrf";
import type { EndpointPolicy, Resolver } from "./ssrf";

/** One POST of a signed webhook. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What the endpoint answered. Any status, 3xx included: redirects are never followed. */
export interface WebhookResponse {
  status: number;
  /** Retry-After, in seconds from now, when the endpoint sent one. */
  retryAfterSeconds?: number;
  /** The start of the response body (capped), for logs. */
  bodySnippet: string;
}

/**
 * The webhook sender port: POSTs one request. Throws UnsafeEndpointError (permanent) when the
 * SSRF guard refuses the endpoint, WebhookNetworkError (transient) when no answer came
 * (refused, reset, DNS failure, timeout).
 */
export interface WebhookSender {
  send(req: WebhookRequest): Promise<WebhookResponse>;
}

export class WebhookNetworkError extends Error {
  readonly retryable = true;
  constructor(message: string, readonly code: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
    this.name = "WebhookNetworkError";
  }
}

export interface HttpWebhookSenderOptions {
  policy: EndpointPolicy;
  /** Whole request: connect, send, response headers and capped body. Standard Webhooks: 15–30 s. */
  timeoutMs?: number;
  /** Bytes of the response body read at most; the rest is discarded unread. */
  maxResponseBytes?: number;
  /** DNS, injectable so tests can simulate rebinding. */
  resolver?: Resolver;
  userAgent?: string;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;

/**
 * Sends webhooks with node:http(s) and the SSRF guard's `lookup`, so every address the socket
 * connects to has been checked (DNS rebinding between a check and the connect is impossible).
 * No agent keep-alive: each attempt resolves and checks again.
 */
export function createHttpWebhookSender(opts: HttpWebhookSenderOptions): WebhookSender {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const maxBytes = opts.maxResponseBytes ?? 4_096;
  const resolver = opts.resolver ?? systemResolver;
  const lookup = guardedLookup(opts.policy, resolver);

  return {
    async send(req) {
      const url = checkEndpointUrl(req.url, opts.policy);
      // Early, clear refusal before any socket exists. Not the protection itself: the
      // connect-time lookup below resolves again and checks what it connects to.
      try {
        await resolveSafely(hostOf(url), opts.policy, resolver);
      } catch (err) {
        if (err instanceof UnsafeEndpointError) throw err;
        throw toNetworkError(err, url.host);
      }
      const body = Buffer.from(req.body, "utf8");
      const requestFn = url.protocol === "https:" ? httpsRequest : httpRequest;
      return new Promise<WebhookResponse>((resolve, reject) => {
        let settled = false;
        const done = (err: unknown, res?: WebhookResponse) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) reject(err);
          else resolve(res!);
        };
        const r = requestFn(
          url,
          {
            method: "POST",
            agent: false,
            lookup: lookup as never,
            headers: {
              ...req.headers,
              "content-type": "application/json",
              "content-length": String(body.length),
              "user-agent": opts.userAgent ?? "reelbridge-webhooks/1",
            },
          },
          (res: IncomingMessage) => {
            const chunks: Buffer[] = [];
            let read = 0;
            const finish = () => {
              res.destroy();
              done(undefined, {
                status: res.statusCode ?? 0,
                ...retryAfter(res.headers["retry-after"]),
                bodySnippet: Buffer.concat(chunks).toString("utf8").slice(0, 500),
              });
            };
            res.on("data", (chunk: Buffer) => {
              if (read < maxBytes) chunks.push(chunk.subarray(0, maxBytes - read));
              read += chunk.length;
              if (read >= maxBytes) finish();
            });
            res.on("end", finish);
            res.on("error", finish);
          },
        );
        const timer = setTimeout(() => {
          r.destroy(new WebhookNetworkError(`no answer from ${url.host} within ${timeoutMs} ms`, "ETIMEDOUT"));
        }, timeoutMs);
        r.on("error", (err) => done(err instanceof UnsafeEndpointError || err instanceof WebhookNetworkError ? err : toNetworkError(err, url.host)));
        r.end(body);
      });
    },
  };
}

function toNetworkError(err: unknown, host: string): WebhookNetworkError {
  const code = (err as NodeJS.ErrnoException)?.code ?? "ENETWORK";
  return new WebhookNetworkError(`could not reach ${host}: ${code}${err instanceof Error && !err.message.includes(code) ? ` (${err.message})` : ""}`, code, {
    cause: err,
  });
}

/** Retry-After as seconds from now: delta-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, now: Date = new Date()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

function retryAfter(header: string | string[] | undefined): { retryAfterSeconds?: number } {
  const s = parseRetryAfter(Array.isArray(header) ? header[0] : header);
  return s === undefined ? {} : { retryAfterSeconds: s };
}
