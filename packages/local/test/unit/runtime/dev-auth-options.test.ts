import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../src/commands/dev";

/** `reelbridge dev --auth-*`: refused by name before anything starts (no data dir, no server). */
describe("reelbridge dev --auth-* options", () => {
  afterEach(() => vi.restoreAllMocks());

  const run = async (args: string[]) => {
    const err: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
    const code = await main([...args, "--data-dir", "/nonexistent/never-created"]);
    return { code, stderr: err.join("") };
  };

  it("wants the issuer with any other --auth-* option", async () => {
    await expect(run(["--auth-audience", "https://api.example", "--auth-client-id", "web"])).resolves.toEqual({ code: 2, stderr: "--auth-audience, --auth-client-id need --auth-issuer\n" });
  });

  it("wants an audience with the issuer", async () => {
    await expect(run(["--auth-issuer", "https://id.example"])).resolves.toEqual({ code: 2, stderr: "--auth-issuer needs --auth-audience\n" });
  });

  it("checks the values with the stage config's auth schema", async () => {
    const r = await run(["--auth-issuer", "https://id.example", "--auth-audience", "https://api.example", "--auth-jwks-url", "not a url"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^--auth-\*: jwksUrl: /);
  });
});
