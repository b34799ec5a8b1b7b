/**
 * The bus's HTTP endpoint, speaking the AWS JSON 1.1 protocol (POST /, `X-Amz-Target`,
 * `Content-Type: application/x-amz-json-1.1`) so the real EventBridgeClient can PutEvents to it with
 * `endpoint: url`. Besides AWSEvents.PutEvents and AWSEvents.TestEventPattern it answers a few
 * `ReelbridgeLocal.*` targets the CLI uses (DLQ list/redrive, archive replay). Listens on 127.0.0.1.
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { LocalBus } from "./bus";
import { compilePattern, validateTestEvent } from "./pattern";
import { files, writeRuntimeFile } from "./store";
import type { PutEventsRequest } from "./types";

const CONTENT_TYPE = "application/x-amz-json-1.1";
const MAX_BODY = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, "ValidationException", "Request body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, requestId: string, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": CONTENT_TYPE,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": requestId,
    ...(errorType ? { "x-amzn-errortype": errorType } : {}),
  });
  res.end(text);
}

function errorShape(e: unknown): { status: number; type: string; message: string } {
  if (e instanceof HttpError) return { status: e.status, type: e.type, message: e.message };
  const err = e as { code?: unknown; message?: unknown; permanent?: unknown };
  if (typeof err?.code === "string" && err.permanent === true) return { status: 400, type: err.code, message: String(err.message) };
  return { status: 500, type: "InternalException", message: e instanceof Error ? e.message : String(e) };
}

export async function startHttpEndpoint(bus: LocalBus, opts: { port: number; dataDir: string }): Promise<{ url: string; close(): Promise<void> }> {
  const handlers: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    "AWSEvents.PutEvents": (input) => bus.putEvents(input as unknown as PutEventsRequest),
    "AWSEvents.TestEventPattern": async (input) => {
      const compiled = compilePattern(input.EventPattern);
      return { Result: compiled.matches(validateTestEvent(input.Event)) };
    },
    "ReelbridgeLocal.ListDlq": async (input) => ({ Entries: bus.dlq.list(typeof input.Subscription === "string" ? input.Subscription : undefined) }),
    "ReelbridgeLocal.RedriveDlq": async (input) => ({ Redriven: bus.dlq.redrive(typeof input.Subscription === "string" ? input.Subscription : undefined) }),
    "ReelbridgeLocal.Replay": async (input) => {
      const from = new Date(String(input.From));
      const to = input.To === undefined ? undefined : new Date(String(input.To));
      if (Number.isNaN(from.getTime()) || (to && Number.isNaN(to.getTime()))) throw new HttpError(400, "ValidationException", "From/To must be timestamps");
      return bus.archive.replay({ from, ...(to ? { to } : {}), ...(input.EventPattern !== undefined ? { eventPattern: input.EventPattern } : {}) });
    },
    "ReelbridgeLocal.Ping": async () => ({ ok: true, pid: process.pid }),
  };

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    void (async () => {
      try {
        if (req.method !== "POST") throw new HttpError(405, "UnknownOperationException", "Only POST is supported");
        const target = String(req.headers["x-amz-target"] ?? "");
        const handler = handlers[target];
        if (!handler) throw new HttpError(400, "UnknownOperationException", `Unknown operation ${target || "(no X-Amz-Target)"}`);
        const text = await readBody(req);
        let input: unknown;
        try {
          input = text ? JSON.parse(text) : {};
        } catch {
          throw new HttpError(400, "SerializationException", "Request body is not valid JSON");
        }
        if (typeof input !== "object" || input === null || Array.isArray(input)) throw new HttpError(400, "SerializationException", "Request body must be a JSON object");
        send(res, 200, await handler(input as Record<string, unknown>), requestId);
      } catch (e) {
        const { status, type, message } = errorShape(e);
        send(res, status, { __type: type, message }, requestId, type);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  writeRuntimeFile(opts.dataDir, { url, pid: process.pid, startedAt: new Date().toISOString() });
  return {
    url,
    close: () => new Promise<void>((resolve) => {
      rmSync(files(opts.dataDir).runtime, { force: true });
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
