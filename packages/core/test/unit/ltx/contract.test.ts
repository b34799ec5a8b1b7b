import { describe, expect, it } from "vitest";
import { fitToModel, parseErrorEnvelope, parseRetryAfter } from "../../../src/adapters/ltx/contract";

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and nothing else", () => {
    expect(parseRetryAfter("7")).toBe(7);
    expect(parseRetryAfter(" 0 ")).toBe(0);
    const now = Date.parse("2026-11-20T10:00:00Z");
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Fri, 20 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe("parseErrorEnvelope", () => {
  it("reads LTX's error envelope and tolerates anything else", () => {
    expect(parseErrorEnvelope('{"type":"error","error":{"type":"authentication_error","message":"Invalid API key"}}')).toEqual({
      type: "authentication_error",
      message: "Invalid API key",
    });
    expect(parseErrorEnvelope("<html>502 Bad Gateway</html>")).toEqual({});
    expect(parseErrorEnvelope('{"message":"x"}')).toEqual({});
  });
});

describe("fitToModel", () => {
  it("keeps requests the model accepts", () => {
    expect(fitToModel("ltx-2-fast", 6, 24)).toEqual({ duration: 6, fps: 24, adjusted: [] });
    expect(fitToModel("ltx-2-pro", 10, 24)).toEqual({ duration: 10, fps: 24, adjusted: [] });
    expect(fitToModel("ltx-2-3-fast", 20, 25)).toEqual({ duration: 20, fps: 25, adjusted: [] });
  });

  it("brings durations inside the model's range and asks long fast clips at 25 fps", () => {
    expect(fitToModel("ltx-2-fast", 3, 24)).toMatchObject({ duration: 6, fps: 24 });
    expect(fitToModel("ltx-2-pro", 15, 24)).toMatchObject({ duration: 10, fps: 24 });
    const long = fitToModel("ltx-2-fast", 15, 24);
    expect(long).toMatchObject({ duration: 15, fps: 25 });
    expect(long.adjusted.join(" ")).toMatch(/25 fps/);
  });
});
