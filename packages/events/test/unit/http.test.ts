import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { httpJsonSchemas } from "../../src/json-schema";
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  budgetExceededBodySchema,
  errorBodySchema,
  httpContracts,
  jobListSchema,
  jobViewSchema,
  uploadContentTypes,
  uploadRequestBodySchema,
  uploadRequestSchema,
  uploadResponseSchema,
  rerenderRequestBodySchema,
  rerenderRequestSchema,
  rerenderResponseSchema,
  cancelResponseSchema,
  idempotencyKeySchema,
  quoteRequestBodySchema,
  quoteResponseSchema,
} from "../../src/http";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(`${root}samples/http/${name}.json`, "utf8"));
const clone = <T>(v: T): T => structuredClone(v);
const paths = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } }) => (r.error?.issues ?? []).map((i) => i.path.map(String).join("."));

// Every sample under samples/http/ and the schema it is an instance of.
const samples = {
  UploadRequest: uploadRequestBodySchema,
  UploadResponse: uploadResponseSchema,
  JobView: jobViewSchema,
  "JobView.failed": jobViewSchema,
  JobList: jobListSchema,
  ErrorBody: errorBodySchema,
  BudgetExceeded: budgetExceededBodySchema,
  RerenderRequest: rerenderRequestBodySchema,
  RerenderResponse: rerenderResponseSchema,
  CancelResponse: cancelResponseSchema,
  QuoteRequest: quoteRequestBodySchema,
  QuoteResponse: quoteResponseSchema,
} as const;

describe("HTTP samples are the contract", () => {
  it("has a sample for every published contract, and a schema for every sample", () => {
    const files = readdirSync(`${root}samples/http`).map((f) => f.replace(/\.json$/, ""));
    expect(files.sort()).toEqual(Object.keys(samples).sort());
    for (const name of Object.keys(httpContracts)) expect(files).toContain(name);
  });

  // The schemas strip unknown keys: a field removed from a schema disappears from the parsed sample.
  it.each(Object.entries(samples))("%s parses to itself, losing no field", (name, schema) => {
    const s = sample(name);
    expect(schema.parse(clone(s))).toEqual(s);
  });
});

describe("upload request", () => {
  const body = () => sample("UploadRequest");

  it("accepts any Unicode text and trims it", () => {
    expect(uploadRequestBodySchema.parse({ ...body(), title: "  東京の夜景 🚗  " }).title).toBe("東京の夜景 🚗");
  });

  it("names every wrong field: empty title, unknown aspect, a GIF, a too-short clip", () => {
    const r = uploadRequestBodySchema.safeParse({ ...body(), title: " ", aspect: "4:3", contentType: "image/gif", durationSeconds: 1 });
    expect(paths(r).sort()).toEqual(["aspect", "contentType", "durationSeconds", "title"]);
    expect(r.error!.issues.find((i) => i.path[0] === "contentType")!.message).toBe("must be one of image/jpeg, image/png, image/webp");
  });

  it("the server's schema checks music against the catalog it is given", () => {
    const schema = uploadRequestSchema(["sunrise", "pulse"]);
    expect(schema.parse(body()).music).toBe("sunrise");
    const r = schema.safeParse({ ...body(), music: "kazoo-solo" });
    expect(paths(r)).toEqual(["music"]);
    expect(r.error!.issues[0]!.message).toBe("must be one of the music catalog's ids: sunrise, pulse");
  });

  it("one definition of the accepted types and the default limit", () => {
    expect(uploadContentTypes).toEqual(["image/jpeg", "image/png", "image/webp"]);
    expect(DEFAULT_MAX_UPLOAD_BYTES).toBe(15 * 1024 * 1024);
  });
});

describe("answers", () => {
  it("an upload response needs the presigned POST's url, fields, limit and expiry", () => {
    const s = clone(sample("UploadResponse")) as { upload: Record<string, unknown> };
    delete s.upload.maxBytes;
    s.upload.url = "not a url";
    expect(paths(uploadResponseSchema.safeParse(s)).sort()).toEqual(["upload.maxBytes", "upload.url"]);
  });

  it("a job view with a status the page does not know, or the playlist under another name, is refused", () => {
    const s = clone(sample("JobView")) as Record<string, unknown> & { outputs: Record<string, unknown> };
    s.status = "archived";
    s.outputs.hls = s.outputs.hlsPlaylist;
    s.outputs.hlsPlaylist = "https://example.com/index.m3u8";
    expect(paths(jobViewSchema.safeParse(s)).sort()).toEqual(["outputs.hlsPlaylist", "status"]);
  });

  it("a job view without createdAt or timeline is refused; one without params (null) is not", () => {
    const s = clone(sample("JobView"));
    delete s.createdAt;
    delete s.timeline;
    expect(paths(jobViewSchema.safeParse(s)).sort()).toEqual(["createdAt", "timeline"]);
    expect(jobViewSchema.safeParse({ ...sample("JobView.failed"), params: null }).success).toBe(true);
  });

  it("tolerates what is additive: unknown event types and reason codes, new fields (stripped)", () => {
    const s = clone(sample("JobView.failed")) as Record<string, unknown> & { failure: Record<string, unknown>; timeline: Array<Record<string, unknown>> };
    s.failure.code = "SomeFutureCode";
    s.timeline[0]!.type = "SomeFutureEvent";
    s.shinyNewField = true;
    const parsed = jobViewSchema.parse(s) as Record<string, unknown>;
    expect(parsed.shinyNewField).toBeUndefined();
    expect((parsed.failure as { code: string }).code).toBe("SomeFutureCode");
  });

  it("a job list item needs its id, status and times; the cursor is optional", () => {
    const s = clone(sample("JobList")) as { items: Array<Record<string, unknown>>; cursor?: string };
    delete s.cursor;
    expect(jobListSchema.safeParse(s).success).toBe(true);
    delete s.items[0]!.createdAt;
    s.items[1]!.jobId = "not-a-ulid";
    expect(paths(jobListSchema.safeParse(s)).sort()).toEqual(["items.0.createdAt", "items.1.jobId"]);
  });

  it("an error body has a code and a message; details name fields", () => {
    expect(errorBodySchema.safeParse({ error: "Internal", message: "internal error" }).success).toBe(true);
    expect(paths(errorBodySchema.safeParse({ message: "x", details: [{ message: "y" }] })).sort()).toEqual(["details.0.field", "error"]);
  });
});

describe("HTTP JSON Schemas", () => {
  it("the request is described as sent (enum of image types, music id pattern); answers name their required fields", () => {
    const s = httpJsonSchemas();
    const req = s.UploadRequest as { required: string[]; properties: { contentType: { enum: string[] }; music: { pattern: string } } };
    expect(req.properties.contentType.enum).toEqual([...uploadContentTypes]);
    expect(req.properties.music.pattern).toBeTruthy();
    expect(req.required).toEqual(expect.arrayContaining(["title", "music", "aspect", "durationSeconds", "contentType"]));
    expect((s.JobView as { required: string[] }).required).toEqual(expect.arrayContaining(["jobId", "status", "createdAt", "params", "timeline", "outputs"]));
    expect((s.UploadResponse as { required: string[] }).required.sort()).toEqual(["jobId", "quote", "statusUrl", "upload"]);
  });
});

describe("cost in the contracts (issue #13)", () => {
  it("an upload response carries its quote; a 402 names the cap, the quote and the day", () => {
    const up = uploadResponseSchema.parse(sample("UploadResponse"));
    expect(up.quote.totalUsd).toBeCloseTo(up.quote.lines.reduce((a, l) => a + l.usd, 0), 9);
    expect(up.quote.lines.every((l) => l.estimated)).toBe(true);
    const refused = budgetExceededBodySchema.parse(sample("BudgetExceeded"));
    expect(refused.quote.totalUsd).toBeGreaterThan(refused.limit.usd);
    const bad = clone(sample("BudgetExceeded")) as { limit: Record<string, unknown> };
    bad.limit.kind = "whenever";
    bad.limit.day = "yesterday";
    expect(paths(budgetExceededBodySchema.safeParse(bad)).sort()).toEqual(["limit.day", "limit.kind"]);
  });

  it("a caller may bound what it pays (maxCostUsd > 0)", () => {
    expect(uploadRequestBodySchema.parse({ ...sample("UploadRequest"), maxCostUsd: 0.5 }).maxCostUsd).toBe(0.5);
    expect(paths(uploadRequestBodySchema.safeParse({ ...sample("UploadRequest"), maxCostUsd: 0 }))).toEqual(["maxCostUsd"]);
    expect(paths(uploadRequestBodySchema.safeParse({ ...sample("UploadRequest"), maxCostUsd: "1" }))).toEqual(["maxCostUsd"]);
  });
});

describe("POST /jobs/{jobId}/renders and /cancel contracts (docs/decisions/0009)", () => {
  const schema = rerenderRequestSchema(["sunrise", "pulse"]);
  it("takes any of title, subtitle, music, aspect with the upload's own limits, and nothing else", () => {
    expect(schema.safeParse({ title: "  New title  " })).toMatchObject({ success: true, data: { title: "New title" } });
    expect(schema.safeParse({ aspect: "16:9", music: "pulse" }).success).toBe(true);
    expect(paths(schema.safeParse({ title: "x".repeat(101) }))).toEqual(["title"]);
    expect(paths(schema.safeParse({ subtitle: "y".repeat(161) }))).toEqual(["subtitle"]);
    expect(paths(schema.safeParse({ title: "" }))).toEqual(["title"]);
    expect(paths(schema.safeParse({ music: "jazz" }))).toEqual(["music"]);
    expect(paths(schema.safeParse({ aspect: "4:3" }))).toEqual(["aspect"]);
    expect(schema.safeParse({}).success).toBe(false);
    // A re-render cannot change what was generated or who owns the job.
    expect(schema.safeParse({ title: "ok", cameraPrompt: "orbit" }).success).toBe(false);
    expect(schema.safeParse({ title: "ok", owner: "mallory" }).success).toBe(false);
  });
  it("idempotency keys are 1-255 visible ASCII characters", () => {
    expect(idempotencyKeySchema.safeParse("a8f-01:retry").success).toBe(true);
    expect(idempotencyKeySchema.safeParse("").success).toBe(false);
    expect(idempotencyKeySchema.safeParse("has space").success).toBe(false);
    expect(idempotencyKeySchema.safeParse("k".repeat(256)).success).toBe(false);
  });
  it("the cancel and re-render answers name the job and say what happened", () => {
    expect(cancelResponseSchema.safeParse({ ...sample("CancelResponse"), status: "failed" }).success).toBe(false);
    expect(rerenderResponseSchema.safeParse({ ...sample("RerenderResponse"), version: 1 }).success).toBe(false);
  });
});
