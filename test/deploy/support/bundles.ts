import { spawn } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import type { BuiltFunction } from "../../../stacks/lib/assembly";
import { LAMBDA_TASK_ROOT } from "../../../stacks/lib/native";

/**
 * Runs a built function's deployable code the way Lambda does, without Lambda: the asset
 * directory copied into an empty directory (nothing of the workspace around it), loaded by this
 * Node 24 in a process of its own with only the function's environment, the handler called with
 * one event and a Lambda context.
 */

const RUNNER = `
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [file, name, eventFile, timeoutMs] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutMs);
let mod;
try {
  mod = await import(pathToFileURL(file).href);
} catch (err) {
  process.stdout.write("\\n@@LOAD-ERROR@@" + JSON.stringify(String(err && err.stack || err)) + "\\n");
  process.exit(3);
}
if (typeof mod[name] !== "function") {
  process.stdout.write("\\n@@LOAD-ERROR@@" + JSON.stringify(file + " exports no function " + name) + "\\n");
  process.exit(3);
}
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:" + process.env.AWS_REGION + ":111122223333:function:" + process.env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, awsRequestId: crypto.randomUUID(),
  logGroupName: "/aws/lambda/" + process.env.AWS_LAMBDA_FUNCTION_NAME, logStreamName: "smoke",
  callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done() {}, fail() {}, succeed() {},
};
try {
  const result = await mod[name](JSON.parse(readFileSync(eventFile, "utf8")), context);
  process.stdout.write("\\n@@RESULT@@" + JSON.stringify(result ?? null) + "\\n");
  process.exit(0);
} catch (err) {
  process.stdout.write("\\n@@INVOKE-ERROR@@" + JSON.stringify(String(err && err.stack || err)) + "\\n");
  process.exit(4);
}
`;

export interface Invocation {
  result: unknown;
  stdout: string;
  stderr: string;
  ms: number;
}

export class BundleError extends Error {
  constructor(fn: string, what: string, detail: string) {
    super(`function ${fn}: ${what}\n${detail}`);
    this.name = "BundleError";
  }
}

export interface UnpackedBundle {
  name: string;
  fn: BuiltFunction;
  dir: string;
  invoke(event: unknown, env?: Record<string, string>): Promise<Invocation>;
}

/** Copies the asset into an empty directory under the OS temp dir (no node_modules above it). */
export function unpack(name: string, fn: BuiltFunction, baseEnv: (fn: BuiltFunction, dir: string) => Record<string, string>): UnpackedBundle {
  if (!fn.assetDir) throw new BundleError(name, "has no code asset", fn.path);
  const root = mkdtempSync(join(tmpdir(), `bundle-${name}-`));
  for (let d = root; dirname(d) !== d; d = dirname(d)) {
    if (existsSync(join(d, "node_modules")) || existsSync(join(dirname(d), "node_modules"))) throw new Error(`${root} has a node_modules above it`);
  }
  const dir = join(root, "task");
  cpSync(fn.assetDir, dir, { recursive: true });
  const runner = join(root, "runner.mjs");
  writeFileSync(runner, RUNNER);
  const dot = fn.handler.lastIndexOf(".");
  const file = join(dir, `${fn.handler.slice(0, dot)}.mjs`);
  const exportName = fn.handler.slice(dot + 1);
  let n = 0;
  return {
    name,
    fn,
    dir,
    invoke: (event, env = {}) =>
      new Promise((resolve, reject) => {
        const eventFile = join(root, `event-${++n}.json`);
        writeFileSync(eventFile, JSON.stringify(event));
        const started = Date.now();
        const child = spawn(process.execPath, ["--enable-source-maps", runner, file, exportName, eventFile, String(fn.timeoutSeconds * 1000)], {
          cwd: dir,
          env: { ...baseEnv(fn, dir), ...env },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), fn.timeoutSeconds * 1000 + 5_000);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          const pick = (marker: string) => {
            const line = stdout.split("\n").find((l) => l.startsWith(marker));
            return line === undefined ? undefined : (JSON.parse(line.slice(marker.length)) as unknown);
          };
          const loadError = pick("@@LOAD-ERROR@@");
          if (loadError !== undefined) return reject(new BundleError(name, "failed to load its handler", String(loadError)));
          const invokeError = pick("@@INVOKE-ERROR@@");
          if (invokeError !== undefined) return reject(new BundleError(name, "threw", `${String(invokeError)}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
          if (code !== 0) return reject(new BundleError(name, `exited with ${code}`, `${stdout}\n${stderr}`));
          resolve({ result: pick("@@RESULT@@"), stdout, stderr, ms: Date.now() - started });
        });
      }),
  };
}

/** ELF e_machine values Lambda's architectures run. */
const ELF_MACHINE = { x86_64: 0x3e, arm64: 0xb7 } as const;

/**
 * Every native file in a bundle (ELF executables and shared objects, Node addons), with the
 * architecture it was built for: a binary for another architecture than the function's never runs.
 */
export function nativeFiles(dir: string): Array<{ file: string; machine: number }> {
  const out: Array<{ file: string; machine: number }> = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size >= 20) {
        const fd = openSync(p, "r");
        const head = Buffer.alloc(20);
        readSync(fd, head, 0, 20, 0);
        closeSync(fd);
        if (head.readUInt32BE(0) === 0x7f454c46) out.push({ file: relative(dir, p), machine: head.readUInt16LE(18) });
      }
    }
  };
  walk(dir);
  return out;
}

export const elfMachineOf = (arch: BuiltFunction["architecture"]) => ELF_MACHINE[arch];

/** The template's environment value with Lambda's task root replaced by where the bundle was unpacked. */
export const atTaskRoot = (value: string, dir: string) => value.split(LAMBDA_TASK_ROOT).join(dir);
