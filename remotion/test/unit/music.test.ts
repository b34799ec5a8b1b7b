import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_MUSIC_ID, MUSIC_CATALOG, MUSIC_IDS, isMusicId, musicIdSchema } from "../../src/music";

const publicDir = path.resolve(import.meta.dirname, "../../public");

describe("music catalog", () => {
  it("lists sunrise (the default) and pulse, each a file that ships with the project under its licence", () => {
    expect(MUSIC_IDS).toEqual(["sunrise", "pulse"]);
    expect(DEFAULT_MUSIC_ID).toBe("sunrise");
    for (const id of MUSIC_IDS) {
      expect(existsSync(path.join(publicDir, MUSIC_CATALOG[id].file)), id).toBe(true);
      expect(MUSIC_CATALOG[id].licence).toBe("CC0-1.0");
    }
    expect(readFileSync(path.join(publicDir, "music/LICENSE.md"), "utf8")).toContain("CC0");
  });

  it("validates a job's music choice", () => {
    expect(musicIdSchema.parse("pulse")).toBe("pulse");
    expect(isMusicId("sunrise")).toBe(true);
    expect(isMusicId("SUNRISE")).toBe(false);
    expect(isMusicId("../../etc/passwd")).toBe(false);
  });

  it("ships the fonts' licence next to them", () => {
    expect(readFileSync(path.join(publicDir, "fonts/OFL.txt"), "utf8")).toContain("SIL OPEN FONT LICENSE Version 1.1");
  });
});
