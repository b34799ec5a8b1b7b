import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanScratch, DataDirNotWritableError, makePrivate, prepareDataDir } from "../../../src/runtime/data-dir";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "rb-datadir-"));
  dirs.push(d);
  return d;
};

describe("the data dir (issue #11 items 9, 10, 11)", () => {
  it("refuses a data dir that cannot be written with a message naming it (the check injected: root writes anywhere)", () => {
    const dataDir = join(tmp(), "data");
    const probe = () => {
      throw Object.assign(new Error("EROFS: read-only file system, open"), { code: "EROFS" });
    };
    const err = (() => {
      try {
        prepareDataDir(dataDir, { probe });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DataDirNotWritableError);
    expect((err as Error).message).toBe(
      `the data directory ${dataDir} is not writable (read-only file system). reelbridge keeps its database, event journal, media and logs there: pass --data-dir with a writable directory, or make this one writable`,
    );
  });

  it("makes an existing data dir private: folders 0700, files 0600 (0700 when executable)", () => {
    const dataDir = tmp();
    chmodSync(dataDir, 0o755);
    mkdirSync(join(dataDir, "logs", "old"), { recursive: true, mode: 0o755 });
    writeFileSync(join(dataDir, "logs", "webhook-deliveries.jsonl"), "{}\n", { mode: 0o644 });
    writeFileSync(join(dataDir, "logs", "old", "tool"), "", { mode: 0o755 });
    expect(prepareDataDir(dataDir).tightened).toBeGreaterThanOrEqual(4);
    const mode = (p: string) => statSync(join(dataDir, p)).mode & 0o777;
    expect(mode("")).toBe(0o700);
    expect(mode("logs")).toBe(0o700);
    expect(mode("logs/old")).toBe(0o700);
    expect(mode("logs/webhook-deliveries.jsonl")).toBe(0o600);
    expect(mode("logs/old/tool")).toBe(0o700);
    for (const d of ["blobs", "dynamo", "bus", "tmp", "render-cache", "renders"]) expect(mode(d)).toBe(0o700);
    expect(makePrivate(dataDir)).toBe(0);
  });

  it("cleans the scratch a crashed run left in tmp/, keeping the folders themselves", () => {
    const dataDir = tmp();
    mkdirSync(join(dataDir, "tmp", "generator", "01JOB-abc"), { recursive: true });
    writeFileSync(join(dataDir, "tmp", "generator", "01JOB-abc", "input.jpg"), "x");
    mkdirSync(join(dataDir, "tmp", "segmenter", "segment-01JOB-x"), { recursive: true });
    expect(cleanScratch(dataDir).sort()).toEqual(["generator/01JOB-abc", "segmenter/segment-01JOB-x"]);
    expect(statSync(join(dataDir, "tmp", "generator")).isDirectory()).toBe(true);
    expect(cleanScratch(dataDir)).toEqual([]);
  });
});
