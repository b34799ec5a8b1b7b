import { describe, expect, it } from "vitest";
import { synth } from "./helpers";

describe("prod stage", () => {
  it("refuses to synthesize with open APIs (no JWT issuer configured)", async () => {
    await expect(synth("prod")).rejects.toThrow(/stage "prod" must configure JWT auth/);
  }, 120_000);
});
