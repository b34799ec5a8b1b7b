import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresNotFoundError, findPostgres } from "../../../src/postgres/embedded";
import { startLocalGeneratedVideos } from "../../../src/runtime/generated-videos";

const saved = process.env.REELBRIDGE_POSTGRES_BIN;
afterEach(() => {
  if (saved === undefined) delete process.env.REELBRIDGE_POSTGRES_BIN;
  else process.env.REELBRIDGE_POSTGRES_BIN = saved;
});

describe("the embedded Postgres without PostgreSQL", () => {
  it("says what is missing and how to install it, and the runtime's auto mode goes on without the table", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "reelbridge-nopg-"));
    try {
      process.env.REELBRIDGE_POSTGRES_BIN = join(dataDir, "no-such-bin");
      expect(() => findPostgres()).toThrow(PostgresNotFoundError);
      expect(() => findPostgres()).toThrow(/apt-get install postgresql/);
      expect(() => findPostgres()).toThrow(/REELBRIDGE_POSTGRES_BIN=.*no-such-bin has no initdb/);
      const auto = await startLocalGeneratedVideos(dataDir, "auto");
      expect(auto.table).toBeUndefined();
      expect(auto.notice).toMatch(/^no generated_videos table this run: PostgreSQL 13 or later was not found/);
      await expect(startLocalGeneratedVideos(dataDir, true)).rejects.toBeInstanceOf(PostgresNotFoundError);
      expect(await startLocalGeneratedVideos(dataDir, undefined)).toEqual({});
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
