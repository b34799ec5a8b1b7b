import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePattern, InvalidEventPatternError } from "../../../src/eventbridge";

// Vendored with its provenance and licences: test/fixtures/eventbridge-conformance/README.md.
const file = resolve(import.meta.dirname, "../../fixtures/eventbridge-conformance/eventbridge-patterns.json");
interface Case { name: string; pattern: unknown; event: unknown; expect: "match" | "nomatch" | "invalid" }
const cases = JSON.parse(readFileSync(file, "utf8")) as Case[];

function outcome(c: Case): string {
  try {
    return compilePattern(c.pattern).matches(c.event) ? "match" : "nomatch";
  } catch (e) {
    if (e instanceof InvalidEventPatternError) return "invalid";
    throw e;
  }
}

describe("conformance: LocalStack cases verified against AWS TestEventPattern", () => {
  const ls = cases.filter((c) => c.name.startsWith("localstack:"));
  it("has the LocalStack cases", () => expect(ls.length).toBeGreaterThanOrEqual(160));
  it.each(ls.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(outcome(c)).toBe(c.expect);
  });
});

describe("conformance: aws/event-ruler unit-test cases", () => {
  // Not verified against AWS (README). We follow them all, including the two that are event-ruler's
  // own choices: a one-element $or is refused, and a $or alternative whose key is an operator name
  // ({"$or": [{"numeric": [...]}, ...]}) is refused as a misplaced operator.
  const er = cases.filter((c) => c.name.startsWith("event-ruler:"));
  it.each(er.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(outcome(c)).toBe(c.expect);
  });
});
