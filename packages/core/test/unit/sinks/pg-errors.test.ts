import { describe, expect, it } from "vitest";
import { classifyPgError, sinkErrorOf } from "../../../src/adapters/postgres/errors";
import { SinkRefusedError, SinkUnavailableError } from "../../../src/sinks/errors";

const pgError = (code: string, message = "boom") => Object.assign(new Error(message), { code });

describe("PostgreSQL errors → retry with backoff, or refuse into the DLQ", () => {
  it.each(["40001", "40P01", "53300", "53100", "57P01", "57P02", "57P03", "57014", "55P03", "08006", "08001", "58030", "XX000"])("%s is transient", (code) => {
    expect(classifyPgError(pgError(code)).kind).toBe("transient");
    expect(sinkErrorOf(pgError(code), "x")).toBeInstanceOf(SinkUnavailableError);
  });

  it.each(["42P01", "42703", "42501", "28P01", "28000", "3D000", "3F000", "22P02", "23502", "23505", "25006", "0A000"])("%s is refused", (code) => {
    expect(classifyPgError(pgError(code)).kind).toBe("refused");
    const err = sinkErrorOf(pgError(code), "the row");
    expect(err).toBeInstanceOf(SinkRefusedError);
    expect(err.sqlState).toBe(code);
    expect(err.message).toContain(code);
  });

  it("socket errors and node-postgres's own are transient", () => {
    for (const e of [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }), Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), new Error("Connection terminated unexpectedly"), new Error("timeout exceeded when trying to connect")]) {
      expect(sinkErrorOf(e, "x")).toBeInstanceOf(SinkUnavailableError);
    }
  });

  it("unavailable leaves the delay to the queue's backoff; refused asks for none, so it reaches the DLQ in seconds", () => {
    expect(sinkErrorOf(pgError("57P01"), "x").retryAfterSeconds).toBeUndefined();
    expect(sinkErrorOf(pgError("42P01"), "x").retryAfterSeconds).toBe(0);
  });
});
