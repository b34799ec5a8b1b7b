/**
 * `reelbridge dev` serves a page built for the local runtime: its own build folder, not SST's
 * `dist`, which the deploy build (stacks/Web.ts) fills with a stage's sign-in issuer and API URLs,
 * and no stage's VITE_* settings from the environment.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LOCAL_WEB_OUT_DIR, ensureWebBuild } from "../../../src/commands/dev";

const STAGE_ISSUER = "https://issuer.staging-only.example";
const saved = process.env.VITE_AUTH_ISSUER;
afterEach(() => {
  if (saved === undefined) delete process.env.VITE_AUTH_ISSUER;
  else process.env.VITE_AUTH_ISSUER = saved;
});

const filesUnder = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));

describe("reelbridge dev's web build", () => {
  it("is its own folder, built without a stage's VITE_* settings, and reused while the sources are unchanged", () => {
    const lines: string[] = [];
    const first = ensureWebBuild((l) => lines.push(l));
    rmSync(first, { recursive: true, force: true });
    // A stage's setting in the environment (as SST's site build has it) must not reach the local page.
    process.env.VITE_AUTH_ISSUER = STAGE_ISSUER;
    const dir = ensureWebBuild((l) => lines.push(l));
    expect(relative(join(dir, ".."), dir)).toBe(LOCAL_WEB_OUT_DIR);
    expect(existsSync(join(dir, "index.html"))).toBe(true);
    const js = filesUnder(dir).filter((f) => f.endsWith(".js"));
    expect(js.length).toBeGreaterThan(0);
    for (const f of js) expect(readFileSync(f, "utf8").includes(STAGE_ISSUER), f).toBe(false);
    expect(lines.filter((l) => l.includes("building the web client")).length).toBeGreaterThanOrEqual(1);
    // Nothing changed since: no second build.
    const before = lines.length;
    expect(ensureWebBuild((l) => lines.push(l))).toBe(dir);
    expect(lines.length).toBe(before);
  }, 240_000);
});
