import { describe, expect, it } from "vitest";
import { compilePattern, InvalidEventError, InvalidEventPatternError, testEventPattern } from "../../../src/eventbridge";

const m = (pattern: unknown, event: unknown) => compilePattern(pattern).matches(event);
function invalidField(pattern: unknown): string {
  try {
    compilePattern(pattern);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidEventPatternError);
    return (e as InvalidEventPatternError).field;
  }
  throw new Error("pattern was accepted");
}

const envelope = {
  version: "0", id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "VideoBaseReady", source: "reelbridge.ltx",
  account: "111122223333", time: "2026-11-20T10:00:00Z", region: "eu-west-1", resources: [],
  detail: { jobId: "01J", output: { key: "jobs/01J/base.mp4", bytes: 1024 }, tags: ["a", "b"] },
};

describe("exact values (eb-event-patterns: exact, case-sensitive, JSON types)", () => {
  it("matches strings exactly and case-sensitively, keys too", () => {
    expect(m({ source: ["reelbridge.ltx"] }, envelope)).toBe(true);
    expect(m({ source: ["Reelbridge.ltx"] }, envelope)).toBe(false);
    expect(m({ Source: ["reelbridge.ltx"] }, envelope)).toBe(false);
  });
  it("300 and 300.0 are the same number (LocalStack number_comparison_float, verified on AWS)", () => {
    expect(m({ n: [300] }, JSON.parse('{"n": 300.0}'))).toBe(true);
    expect(m({ n: [300] }, JSON.parse('{"n": 3.0e2}'))).toBe(true);
  });
  it("a number never equals its string form", () => {
    expect(m({ n: [300] }, { n: "300" })).toBe(false);
    expect(m({ n: ["300"] }, { n: 300 })).toBe(false);
  });
  it("null matches null, not a missing field; empty string matches only empty string", () => {
    expect(m({ a: [null] }, { a: null })).toBe(true);
    expect(m({ a: [null] }, {})).toBe(false);
    expect(m({ a: [""] }, { a: "" })).toBe(true);
    expect(m({ a: [""] }, { a: null })).toBe(false);
  });
  it("booleans match by value", () => {
    expect(m({ a: [true] }, { a: true })).toBe(true);
    expect(m({ a: [true] }, { a: "true" })).toBe(false);
  });
  it("Unicode strings match byte for byte", () => {
    expect(m({ t: ["Crème brûlée 🎬"] }, { t: "Crème brûlée 🎬" })).toBe(true);
    expect(m({ t: ["Crème brûlée 🎬"] }, { t: "Creme brulee 🎬" })).toBe(false);
  });
});

describe("arrays and nesting (eb-event-patterns-arrays)", () => {
  it("an event array matches when its intersection with the pattern array is non-empty", () => {
    expect(m({ detail: { tags: ["b", "z"] } }, envelope)).toBe(true);
    expect(m({ detail: { tags: ["z"] } }, envelope)).toBe(false);
  });
  it("deep nesting", () => {
    const deep = { a: { b: { c: { d: { e: { f: "x" } } } } } };
    expect(m({ a: { b: { c: { d: { e: { f: ["x"] } } } } } }, deep)).toBe(true);
    expect(m({ a: { b: { c: { d: { e: { g: ["x"] } } } } } }, deep)).toBe(false);
  });
  it("an array of objects matches when one element satisfies the whole nested pattern", () => {
    const ev = { items: [{ kind: "clip", n: 1 }, { kind: "poster", n: 2 }] };
    expect(m({ items: { kind: ["poster"], n: [2] } }, ev)).toBe(true);
    expect(m({ items: { kind: ["poster"], n: [1] } }, ev)).toBe(false);
  });
  it("a pattern field on a scalar that the pattern treats as an object does not match", () => {
    expect(m({ detail: { jobId: { x: ["1"] } } }, envelope)).toBe(false);
  });
  it("the detail must be an object, not a JSON string (LocalStack nested_json_NEG)", () => {
    expect(m({ detail: { jobId: ["01J"] } }, { ...envelope, detail: JSON.stringify(envelope.detail) })).toBe(false);
  });
});

describe("content filters (eb-create-pattern-operators)", () => {
  it("prefix / suffix and their equals-ignore-case forms", () => {
    expect(m({ detail: { output: { key: [{ prefix: "jobs/" }] } } }, envelope)).toBe(true);
    expect(m({ detail: { output: { key: [{ prefix: "JOBS/" }] } } }, envelope)).toBe(false);
    expect(m({ detail: { output: { key: [{ prefix: { "equals-ignore-case": "JOBS/" } }] } } }, envelope)).toBe(true);
    expect(m({ detail: { output: { key: [{ suffix: ".MP4" }] } } }, envelope)).toBe(false);
    expect(m({ detail: { output: { key: [{ suffix: { "equals-ignore-case": ".MP4" } }] } } }, envelope)).toBe(true);
  });
  it("prefix never matches numbers", () => {
    expect(m({ a: [{ prefix: "1" }] }, { a: 123 })).toBe(false);
  });
  it("anything-but: a value, a list, prefix, suffix, equals-ignore-case, wildcard", () => {
    expect(m({ a: [{ "anything-but": "x" }] }, { a: "y" })).toBe(true);
    expect(m({ a: [{ "anything-but": ["x", "y"] }] }, { a: "y" })).toBe(false);
    expect(m({ a: [{ "anything-but": [1, 2] }] }, { a: 3 })).toBe(true);
    expect(m({ a: [{ "anything-but": { prefix: "us-" } }] }, { a: "eu-west-1" })).toBe(true);
    expect(m({ a: [{ "anything-but": { prefix: "us-" } }] }, { a: "us-east-1" })).toBe(false);
    expect(m({ a: [{ "anything-but": { suffix: ".png" } }] }, { a: "x.png" })).toBe(false);
    expect(m({ a: [{ "anything-but": { "equals-ignore-case": ["A", "b"] } }] }, { a: "B" })).toBe(false);
    expect(m({ a: [{ "anything-but": { wildcard: "*/lib/*" } }] }, { a: "/usr/lib/x" })).toBe(false);
    expect(m({ a: [{ "anything-but": { wildcard: "*/lib/*" } }] }, { a: "/usr/bin/x" })).toBe(true);
  });
  it("anything-but does not match a missing field but does match null (LocalStack *_missing_NEG, *_null)", () => {
    expect(m({ a: [{ "anything-but": "x" }] }, {})).toBe(false);
    expect(m({ a: [{ "anything-but": "x" }] }, { a: null })).toBe(true);
  });
  it("numeric: every operator and ranges; only JSON numbers", () => {
    const n = (cond: unknown[], v: unknown) => m({ v: [{ numeric: cond }] }, { v });
    expect(n(["<", 5], 4.999)).toBe(true);
    expect(n(["<", 5], 5)).toBe(false);
    expect(n(["<=", 5], 5)).toBe(true);
    expect(n(["=", 5], 5.0)).toBe(true);
    expect(n([">", 5], 5)).toBe(false);
    expect(n([">=", 5], 5)).toBe(true);
    expect(n([">", 0, "<=", 5], 5)).toBe(true);
    expect(n([">", 0, "<=", 5], 0)).toBe(false);
    expect(n([">=", -1.5, "<", 1e9], -1.5)).toBe(true);
    expect(n([">", 100], "300")).toBe(false);
    expect(n([">", 100], null)).toBe(false);
  });
  it("exists true/false, on nested fields and arrays (LocalStack exists_list_empty_NEG, content_exists_false)", () => {
    expect(m({ detail: { jobId: [{ exists: true }] } }, envelope)).toBe(true);
    expect(m({ detail: { nope: [{ exists: false }] } }, envelope)).toBe(true);
    expect(m({ detail: { nope: { deeper: [{ exists: false }] } } }, envelope)).toBe(true);
    expect(m({ resources: [{ exists: true }] }, envelope)).toBe(false); // [] has no value
    expect(m({ resources: [{ exists: false }] }, envelope)).toBe(true);
    expect(m({ detail: { output: [{ exists: true }] } }, envelope)).toBe(false); // an object is not a leaf value
    expect(m({ detail: { jobId: [{ exists: false }] } }, envelope)).toBe(false);
  });
  it("cidr: IPv4 and IPv6", () => {
    expect(m({ ip: [{ cidr: "10.0.0.0/24" }] }, { ip: "10.0.0.255" })).toBe(true);
    expect(m({ ip: [{ cidr: "10.0.0.0/24" }] }, { ip: "10.0.1.0" })).toBe(false);
    expect(m({ ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db8:ffff::1" })).toBe(true);
    expect(m({ ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db9::1" })).toBe(false);
    expect(m({ ip: [{ cidr: "::ffff:0:0/96" }] }, { ip: "::ffff:10.1.2.3" })).toBe(true);
  });
  it("wildcard, with escapes", () => {
    expect(m({ k: [{ wildcard: "uploads/*/source" }] }, { k: "uploads/01J/source" })).toBe(true);
    expect(m({ k: [{ wildcard: "uploads/*/source" }] }, { k: "uploads/01J/other" })).toBe(false);
    expect(m({ k: [{ wildcard: "a\\*b" }] }, { k: "a*b" })).toBe(true);
    expect(m({ k: [{ wildcard: "a\\*b" }] }, { k: "axb" })).toBe(false);
  });
  it("$or between fields and nested $or", () => {
    const p = { source: ["reelbridge.ltx"], $or: [{ "detail-type": ["VideoBaseFailed"] }, { detail: { output: { bytes: [{ numeric: [">", 0] }] } } }] };
    expect(m(p, envelope)).toBe(true);
    expect(m(p, { ...envelope, detail: { output: { bytes: 0 } } })).toBe(false);
  });
  it("dotted keys are nesting on both sides (LocalStack dot_joining_*)", () => {
    expect(m({ "detail.output.key": [{ prefix: "jobs/" }] }, envelope)).toBe(true);
    expect(m({ detail: { output: { key: [{ prefix: "jobs/" }] } } }, { detail: { "output.key": "jobs/x" } })).toBe(true);
  });
});

describe("validation: InvalidEventPatternException naming the field", () => {
  it("names the offending field", () => {
    expect(invalidField({ detail: { state: [{ prefix: 3 }] } })).toBe("detail.state.prefix");
    expect(invalidField({ detail: { n: [{ numeric: [">", 5, "<", 1] }] } })).toBe("detail.n.numeric");
    expect(invalidField({ resources: [] })).toBe("resources");
    expect(invalidField({ source: "aws.s3" })).toBe("source");
    expect(invalidField({ detail: {} })).toBe("detail");
  });
  it("rejects wrong operator types and malformed ranges", () => {
    for (const p of [
      { a: [{ numeric: [">", "1"] }] }, { a: [{ numeric: ["<", 1, ">", 0] }] }, { a: [{ numeric: ["=", 1, "<", 2] }] },
      { a: [{ numeric: [">", 1, "<"] }] }, { a: [{ numeric: [">", 6e9] }] }, { a: [{ exists: "true" }] },
      { a: [{ "equals-ignore-case": ["x"] }] }, { a: [{ "anything-but": null }] }, { a: [{ "anything-but": [] }] },
      { a: [{ "anything-but": ["x", 1] }] }, { a: [{ "anything-but": { prefix: "" } }] }, { a: [{ "anything-but": true }] },
      { a: [{ cidr: "10.0.0.0/33" }] }, { a: [{ cidr: "10.0.0.0" }] }, { a: [{ wildcard: "a**b" }] }, { a: [{ wildcard: "a\\b" }] },
      { a: [{ prefix: "x", suffix: "y" }] }, { a: [{ Prefix: "x" }] }, { a: [["x"]] }, { $or: [{ a: ["x"] }] }, [], "nope",
    ]) {
      expect(() => compilePattern(p), JSON.stringify(p)).toThrow(InvalidEventPatternError);
    }
  });
  it("accepts JSON text and reports invalid JSON as an invalid pattern", () => {
    expect(compilePattern('{"a":["x"]}').matches({ a: "x" })).toBe(true);
    expect(() => compilePattern("{a:")).toThrow(InvalidEventPatternError);
  });
});

describe("testEventPattern (TestEventPattern parity)", () => {
  it("requires the envelope fields AWS requires", () => {
    expect(testEventPattern({ source: ["reelbridge.ltx"] }, envelope)).toBe(true);
    const { account: _a, ...noAccount } = envelope;
    expect(() => testEventPattern({ source: ["reelbridge.ltx"] }, noAccount)).toThrow(InvalidEventError);
  });
  it("checks the pattern before the event", () => {
    expect(() => testEventPattern({ source: "x" }, {})).toThrow(InvalidEventPatternError);
  });
});
