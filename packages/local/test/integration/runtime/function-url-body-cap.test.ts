import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTION_URL_MAX_REQUEST_BYTES } from "../../../src/runtime/lambda";
import { startRuntime } from "../../../src/runtime/runtime";
import type { Runtime } from "../../../src/runtime/runtime";

/**
 * Issue #11, item 7: the local HTTP server caps request bodies at what a Function URL accepts
 * (6 MB), answers 413 as Lambda does, and reads no more than the cap, over real HTTP.
 */

const MiB = 1024 * 1024;
const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-bodycap-"));
let rt: Runtime;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  rt = await startRuntime({ dataDir, renderScale: 0.25, logSink: (line) => logLines.push(...line.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)) });
});
afterAll(async () => {
  await rt?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Sent {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  /** Body bytes the client got to hand to its socket before the server stopped it. */
  written: number;
  error?: string;
}

/**
 * POSTs `total` bytes, written from one reused chunk (so the test's own memory holds no body),
 * with a Content-Length or chunked. Resolves once the answer is read, or the connection died.
 */
function post(url: string, total: number, opts: { chunked?: boolean; fill?: (chunk: Buffer, offset: number) => void } = {}): Promise<Sent> {
  return new Promise((resolve) => {
    const sent: Sent = { written: 0 };
    const req = request(url, { method: "POST", headers: { "content-type": "application/json", ...(opts.chunked ? {} : { "content-length": String(total) }) } });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(sent);
    };
    req.on("response", (res) => {
      sent.status = res.statusCode;
      sent.headers = res.headers;
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => {
        sent.body = text;
        // As a client does when answered before it finished sending: stop sending.
        req.destroy();
        finish();
      });
      res.on("error", finish);
    });
    req.on("error", (err) => {
      sent.error = err.message;
      // An answer that arrived before the reset still counts; give it a moment to be read.
      setTimeout(finish, 200);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (sent.written < total && !req.destroyed) {
        const n = Math.min(chunk.length, total - sent.written);
        const part = n === chunk.length ? chunk : chunk.subarray(0, n);
        opts.fill?.(part, sent.written);
        sent.written += n;
        if (!req.write(part)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

const expectTooLarge = (r: Sent) => {
  expect(r.status).toBe(413);
  expect(r.headers?.["content-type"]).toBe("application/json");
  expect(r.headers?.["x-amzn-errortype"]).toBe("RequestTooLargeException");
  expect(JSON.parse(r.body ?? "")).toEqual({ Message: `Request must be smaller than ${FUNCTION_URL_MAX_REQUEST_BYTES} bytes for the InvokeFunction operation` });
};

describe("the local Function URL bridge caps request bodies at 6 MB", () => {
  it("answers a 20 MB POST with Lambda's 413, without invoking the handler", async () => {
    const r = await post(`${rt.apiBase}/uploads`, 20 * MiB);
    expectTooLarge(r);
  });

  it("answers a 20 MB chunked POST (no Content-Length) with 413 once the cap is passed", async () => {
    const r = await post(`${rt.apiBase}/uploads`, 20 * MiB, { chunked: true });
    expectTooLarge(r);
  });

  it("reads no more than the cap: a 300 MB body does not grow the process by its size", async () => {
    const before = process.memoryUsage().rss;
    const declared = await post(`${rt.apiBase}/uploads`, 300 * MiB);
    const chunked = await post(`${rt.apiBase}/uploads`, 300 * MiB, { chunked: true });
    const grown = process.memoryUsage().rss - before;
    expectTooLarge(declared);
    expectTooLarge(chunked);
    // The server stopped reading and closed the connection: the client could hand its socket
    // little more than the cap plus the kernel's buffers, nowhere near 300 MB.
    expect(declared.written).toBeLessThan(FUNCTION_URL_MAX_REQUEST_BYTES + 16 * MiB);
    expect(chunked.written).toBeLessThan(FUNCTION_URL_MAX_REQUEST_BYTES + 16 * MiB);
    expect(grown).toBeLessThan(64 * MiB);
  });

  it("still serves a request just under the cap (a valid upload request padded with whitespace)", async () => {
    const json = JSON.stringify({ title: "Cap", subtitle: "", cameraPrompt: "pan left", music: "pulse", aspect: "16:9", durationSeconds: 2, contentType: "image/jpeg" });
    const total = FUNCTION_URL_MAX_REQUEST_BYTES - 1024;
    const r = await post(`${rt.apiBase}/uploads`, total, {
      // The JSON first, then spaces (JSON.parse allows trailing whitespace).
      fill: (chunk, offset) => {
        chunk.fill(0x20);
        if (offset === 0) chunk.write(json);
      },
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body ?? "")).toMatchObject({ jobId: expect.any(String) });
  });

  it("logs a refused body as a WARN naming the limit, not as an ERROR \"request failed\" (issue #11 item 8)", async () => {
    logLines.length = 0;
    expectTooLarge(await post(`${rt.apiBase}/uploads`, 20 * MiB));
    await new Promise((r) => setTimeout(r, 50));
    expect(logLines.filter((l) => l.level === "ERROR")).toEqual([]);
    expect(logLines).toContainEqual(expect.objectContaining({ level: "WARN", message: "request refused: body over the Function URL limit", path: "/api/uploads", status: 413, maxBytes: FUNCTION_URL_MAX_REQUEST_BYTES }));
  });

  it("keeps serving after refusing (the server is not wedged by a refused request)", async () => {
    await post(`${rt.apiBase}/uploads`, 20 * MiB);
    const res = await fetch(`${rt.apiBase}/jobs`);
    expect(res.status).toBe(200);
  });
});
