import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { httpJsonSchemas } from "../../src/json-schema";
import { detailTypes, jsonSchemas, jobParamsSchema, on, onAny, parseEvent, patterns, pipelineEvents, s3ObjectCreated, s3ObjectCreatedEventSchema } from "../../src";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sample = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`${root}samples/v1/${name}.json`, "utf8"));
const clone = <T>(v: T): T => structuredClone(v);

describe("versioned samples (v1) are the contract", () => {
  it("has a sample for every event type", () => {
    const files = readdirSync(`${root}samples/v1`).map((f) => f.replace(/\.json$/, ""));
    expect(files.sort()).toEqual([...detailTypes, "S3ObjectCreated"].sort());
  });

  // Our schemas strip unknown keys, so a field removed from a schema disappears from the parsed
  // sample and this fails; a required field added to a schema fails the parse of the old sample.
  it.each(detailTypes)("%s: the v1 sample parses to itself, losing no field", (type) => {
    const s = sample(type);
    const parsed = parseEvent(type, clone(s));
    expect(parsed).toEqual(s);
  });

  it("fails when an event loses a required field (e.g. RenderCompleted without video.key)", () => {
    const s = clone(sample("RenderCompleted")) as { detail: { data: { video: Record<string, unknown> } } };
    delete s.detail.data.video.key;
    expect(() => parseEvent("RenderCompleted", s)).toThrow(/video[\s\S]*key|key/);
  });

  it("names the offending path when metadata is wrong", () => {
    const s = clone(sample("VideoBaseReady")) as { detail: { metadata: Record<string, unknown> } };
    s.detail.metadata.jobId = "not-a-ulid";
    const r = pipelineEvents.VideoBaseReady.event.safeParse(s);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["detail", "metadata", "jobId"]);
  });

  it("accepts the S3 Object Created event of a POST upload, including keys AWS may add later", () => {
    const s = clone(sample("S3ObjectCreated")) as { detail: Record<string, unknown> & { object: Record<string, unknown> } };
    s.detail["new-aws-field"] = { anything: true };
    s.detail.object["checksum-algorithm"] = "CRC64NVME";
    const parsed = s3ObjectCreatedEventSchema.parse(s);
    expect(parsed.detail.reason).toBe("POST Object");
    expect((parsed.detail as Record<string, unknown>)["new-aws-field"]).toEqual({ anything: true });
  });
});

describe("job parameters", () => {
  const base = sample("RenderCompleted") as { detail: { data: { job: Record<string, unknown> } } };
  const job = () => clone(base.detail.data.job);

  it.each([
    ["accents", "Café à Montréal — été"],
    ["CJK", "東京の夜景と桜の季節"],
    ["Arabic (RTL)", "غروب الشمس في دبي"],
    ["Hebrew (RTL)", "שקיעה בתל אביב"],
    ["emoji", "Road trip 🚗🌄✨ 👩‍👩‍👧"],
  ])("accepts %s titles unchanged", (_n, title) => {
    expect(jobParamsSchema.parse({ ...job(), title }).title).toBe(title);
  });

  it("rejects an empty title, unknown aspect and over-long subtitle with the field named", () => {
    const r = jobParamsSchema.safeParse({ ...job(), title: "  ", aspect: "4:3", subtitle: "x".repeat(161) });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["title", "aspect", "subtitle"]));
  });
});

describe("JSON Schemas", () => {
  // Other teams consume these files without TypeScript: they must be what the zod schemas say.
  it("committed schemas match the zod schemas (run `pnpm events:schemas` after a change)", () => {
    const generated = jsonSchemas();
    const committed = readdirSync(`${root}schemas`).filter((f) => f.endsWith(".json"));
    expect(committed.sort()).toEqual(Object.keys(generated).map((n) => `${n}.json`).sort());
    for (const [name, schema] of Object.entries(generated)) {
      expect(JSON.parse(readFileSync(`${root}schemas/${name}.json`, "utf8")), name).toEqual(JSON.parse(JSON.stringify(schema)));
    }
  });

  // The HTTP API bodies (src/http.ts) are published beside them, in schemas/http/.
  it("committed schemas/http/*.json match the HTTP contracts' zod schemas", () => {
    const generated = httpJsonSchemas();
    const committed = readdirSync(`${root}schemas/http`).filter((f) => f.endsWith(".json"));
    expect(committed.sort()).toEqual(Object.keys(generated).map((n) => `${n}.json`).sort());
    for (const [name, schema] of Object.entries(generated)) {
      expect(JSON.parse(readFileSync(`${root}schemas/http/${name}.json`, "utf8")), name).toEqual(JSON.parse(JSON.stringify(schema)));
    }
  });

  it("marks the envelope and data fields as required", () => {
    const s = jsonSchemas()["RenderCompleted.v1"] as { required: string[]; properties: { detail: { required: string[] } } };
    expect(s.required).toEqual(expect.arrayContaining(["detail-type", "source", "detail"]));
    expect(s.properties.detail.required).toEqual(["metadata", "data"]);
  });
});

describe("pattern builders", () => {
  it("builds the RenderCompleted-of-9:16 rule without hand-typed strings", () => {
    expect(patterns.renderCompleted({ aspect: "9:16" })).toEqual({
      source: ["reelbridge.render"],
      "detail-type": ["RenderCompleted"],
      detail: { data: { job: { aspect: ["9:16"] } } },
    });
  });

  it("narrows by nested data with operators", () => {
    expect(on("SegmentsReady", { data: { job: { durationSeconds: [{ numeric: [">=", 10] }] } } }).detail).toEqual({
      data: { job: { durationSeconds: [{ numeric: [">=", 10] }] } },
    });
  });

  it("combines sources of several types", () => {
    expect(onAny(["VideoBaseFailed", "RenderFailed", "SegmentsFailed"])).toEqual({
      source: ["reelbridge.ingest", "reelbridge.render", "reelbridge.segmenter"],
      "detail-type": ["VideoBaseFailed", "RenderFailed", "SegmentsFailed"],
    });
  });

  it("matches S3 uploads of one bucket under a prefix", () => {
    expect(s3ObjectCreated({ bucket: "b", keyPrefix: "uploads/" })).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: { bucket: { name: ["b"] }, object: { key: [{ prefix: "uploads/" }] } },
    });
  });

  it("rejects a misspelt field at compile time", () => {
    // @ts-expect-error: "aspekt" is not a field of the job
    on("RenderCompleted", { data: { job: { aspekt: ["9:16"] } } });
  });
});
