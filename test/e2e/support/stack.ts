import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { startFakeStack } from "./fake-api";

export const ROOT = resolve(import.meta.dirname, "../../..");
const DEV_COMMAND = join(ROOT, "packages/local/src/commands/dev.ts");

export interface RunningStack {
  /** The page's URL. */
  url: string;
  /** "real" = `reelbridge dev` (the whole pipeline); "fake" = test/e2e/support/fake-api.ts. */
  kind: "real" | "fake";
  /** Everything the process printed (real stack), for failure messages. */
  output(): string;
  close(): Promise<void>;
}

export const freePort = () =>
  new Promise<number>((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });

/**
 * The stack the browser test runs against: the real `reelbridge dev`. REELBRIDGE_E2E=fake runs
 * the page against the fake API instead (same contracts), for working on the page alone; it is
 * never a silent fallback.
 */
export async function startStack(opts: { port?: number; args?: string[] } = {}): Promise<RunningStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "reelbridge-e2e-"));
  if (process.env.REELBRIDGE_E2E !== "fake") {
    if (!existsSync(DEV_COMMAND)) throw new Error(`the browser test needs \`reelbridge dev\` (${DEV_COMMAND}); set REELBRIDGE_E2E=fake to run it against the fake API`);
    return startReal(dataDir, opts);
  }
  await promisify(execFile)("pnpm", ["--filter", "@reelbridge/web", "build"], { cwd: ROOT });
  const fake = await startFakeStack({ webDist: join(ROOT, "packages/web/dist"), workDir: dataDir });
  return {
    url: fake.url,
    kind: "fake",
    output: () => "",
    close: async () => {
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startReal(dataDir: string, opts: { port?: number; args?: string[] }): Promise<RunningStack> {
  const port = opts.port ?? (await freePort());
  // Its own process group, so closing ends the dev server and everything it started.
  const child = spawn("pnpm", ["reelbridge", "dev", "--port", String(port), "--data-dir", dataDir, ...(opts.args ?? [])], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  let out = "";
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let web: string | undefined;
    const timer = setTimeout(() => reject(new Error(`reelbridge dev was not ready after 180 s:\n${out}`)), 180_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      web ??= /web: (http:\/\/\S+)/.exec(out)?.[1];
      if (web && /^\s*(?:\[[^\]]*\]\s*)?ready\b/m.test(out)) {
        clearTimeout(timer);
        resolveUrl(web.endsWith("/") ? web : `${web}/`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`reelbridge dev exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    url,
    kind: "real",
    output: () => out,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid!, "SIGTERM");
        const killer = setTimeout(() => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } }, 10_000);
        await exited;
        clearTimeout(killer);
      }
      // Retries: a component's files (a database's WAL) may still be settling as it exits.
      await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 300 });
    },
  };
}
