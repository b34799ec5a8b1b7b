/**
 * Logs are structured JSON with the jobId on every line: an HTTP request about a job
 * (/jobs/{jobId}…) logs each of its lines with that jobId, a rejected one included.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HttpError, httpEndpoint } from "../../src/lib/handlers";

process.env.LOG_LEVEL = "INFO";

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const request = (path: string) =>
  ({ version: "2.0", routeKey: "$default", rawPath: path, rawQueryString: "", headers: {}, requestContext: { http: { method: "POST", path } }, isBase64Encoded: false }) as unknown as APIGatewayProxyEventV2;

function captured(): { lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
  }
  return { lines: () => out.join("").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

afterEach(() => vi.restoreAllMocks());

describe("httpEndpoint's logs", () => {
  it("carry the jobId of the request's path on every line, the rejection's too", async () => {
    const logs = captured();
    const handler = httpEndpoint("jobs-api-logs-test", async (_req, logger) => {
      logger.info("cancelling");
      throw new HttpError(409, "JobFinished", "the job has already completed");
    });
    const res = await handler(request(`/jobs/${JOB}/cancel`), undefined as never);
    expect(res).toMatchObject({ statusCode: 409 });
    const lines = logs.lines();
    expect(lines.map((l) => l.message)).toEqual(["cancelling", "request rejected"]);
    for (const l of lines) expect(l.jobId, JSON.stringify(l)).toBe(JOB);
    // Why it was rejected survives (Powertools drops an extra key named "message").
    expect(lines[1]).toMatchObject({ level: "WARN", status: 409, errorCode: "JobFinished", why: "the job has already completed" });
  });

  it("a request about no job (the list) logs without inventing one", async () => {
    const logs = captured();
    const handler = httpEndpoint("status-api-logs-test", async () => {
      throw new HttpError(400, "InvalidRequest", "bad cursor");
    });
    await handler(request("/jobs"), undefined as never);
    const [line] = logs.lines();
    expect(line).toMatchObject({ message: "request rejected" });
    expect(line!.jobId).toBeUndefined();
  });
});
