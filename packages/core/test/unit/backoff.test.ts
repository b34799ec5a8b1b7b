import { describe, expect, it } from "vitest";
import { backoffMs } from "../../src/backoff";

describe("backoffMs: the one retry delay", () => {
  it("doubles from the base per attempt and stops at the cap", () => {
    const none = (n: number) => backoffMs(n, { baseMs: 100, maxMs: 1_000, jitter: "none" });
    expect([1, 2, 3, 4, 5, 6].map(none)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffMs(0, { baseMs: 100, jitter: "none" })).toBe(100);
    expect(backoffMs(10_000, { baseMs: 1, jitter: "none" })).toBe(2 ** 30);
  });

  it("equal jitter keeps at least half the step, full jitter may be anything below it", () => {
    expect(backoffMs(3, { baseMs: 100, random: () => 0 })).toBe(200);
    expect(backoffMs(3, { baseMs: 100, random: () => 0.999 })).toBe(400);
    expect(backoffMs(3, { baseMs: 100, jitter: "full", random: () => 0 })).toBe(0);
    expect(backoffMs(3, { baseMs: 100, jitter: "full", random: () => 0.5 })).toBe(200);
  });
});
