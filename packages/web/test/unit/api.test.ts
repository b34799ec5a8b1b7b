import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, UnexpectedResponse, createUpload, getJob, listJobs } from "../../src/api";

const samples = fileURLToPath(new URL("../../../events/samples/http/", import.meta.url));
const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(`${samples}${name}.json`, "utf8"));
const cfg = { uploadApi: "https://u.example", statusApi: "https://s.example" };

/** fetch answers `body` (JSON unless a string) with `status`, and records what was asked. */
function answer(status: number, body: unknown) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the page reads the status API through its contract", () => {
  it("a job view as the API sends it, field for field", async () => {
    answer(200, sample("JobView"));
    const job = await getJob(cfg, "01JD7X8Q2RZ4V6N3K5M9P1T0AB");
    expect(job).toEqual(sample("JobView"));
    expect(job?.outputs.hlsPlaylist?.url).toMatch(/\/hls\/index\.m3u8$/);
  });

  it("404 is a job not recorded yet", async () => {
    answer(404, { error: "JobNotFound", message: "no such job" });
    await expect(getJob(cfg, "01JD7X8Q2RZ4V6N3K5M9P1T0AB")).resolves.toBeUndefined();
  });

  it("a view of another shape is an UnexpectedResponse naming the field, not a guess", async () => {
    const v = sample("JobView") as Record<string, unknown> & { outputs: Record<string, unknown> };
    v.outputs.hls = v.outputs.hlsPlaylist;
    v.outputs.hlsPlaylist = "https://example.com/index.m3u8";
    answer(200, v);
    const err = await getJob(cfg, "01JD7X8Q2RZ4V6N3K5M9P1T0AB").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnexpectedResponse);
    expect((err as UnexpectedResponse).code).toBe("UnexpectedResponse");
    expect((err as Error).message).toContain("outputs.hlsPlaylist");
  });

  it("lists jobs with their cursor; an HTML page instead is an UnexpectedResponse", async () => {
    const calls = answer(200, sample("JobList"));
    const page = await listJobs(cfg, { limit: 10, cursor: "abc" });
    expect(page).toEqual(sample("JobList"));
    expect(calls[0]!.url).toBe("https://s.example/jobs?limit=10&cursor=abc");
    answer(200, "<!doctype html><title>CloudFront</title>");
    await expect(listJobs(cfg)).rejects.toBeInstanceOf(UnexpectedResponse);
  });
});

describe("the page reads the upload API through its contract", () => {
  it("sends the request body and parses the presigned POST", async () => {
    const calls = answer(201, sample("UploadResponse"));
    const req = sample("UploadRequest") as Parameters<typeof createUpload>[1];
    const ticket = await createUpload(cfg, req);
    expect(ticket).toEqual(sample("UploadResponse"));
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual(req);
  });

  it("a 400 carries the error body's code, message and field details", async () => {
    answer(400, sample("ErrorBody"));
    const err = (await createUpload(cfg, sample("UploadRequest") as Parameters<typeof createUpload>[1]).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err).not.toBeInstanceOf(UnexpectedResponse);
    expect([err.status, err.code, err.details.map((d) => d.field)]).toEqual([400, "InvalidRequest", ["aspect"]]);
  });

  it("an error that is not the API's (a gateway's page) keeps only its status", async () => {
    answer(502, "<html>Bad gateway</html>");
    const err = (await createUpload(cfg, sample("UploadRequest") as Parameters<typeof createUpload>[1]).catch((e: unknown) => e)) as ApiError;
    expect([err.status, err.code, err.message]).toEqual([502, "HTTP502", "The service answered HTTP 502."]);
  });
});
