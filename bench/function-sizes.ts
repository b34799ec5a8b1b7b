// Each deployable function (SST's real build, `pnpm infra:build --stage dev`, stacks/lib/build.ts):
// its code asset's unzipped and zipped size against Lambda's limits (250 MB unzipped including
// layers; 50 MB for a zip uploaded directly, larger ones go through S3 as CDK does), and its cold
// import time (Node 24 process start → handler exported, from an empty directory like Lambda's
// /var/task), median of BENCH_RUNS (default 5). One JSON line per figure.
// BENCH_REUSE=1 measures an existing infra.out/dev instead of building it first.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { functionsOf } from "../stacks/lib/assembly";
import { buildInfra } from "../stacks/lib/build";

const LIMITS = { unzippedBytes: 250 * 1024 * 1024, zippedDirectBytes: 50 * 1024 * 1024 };
const runs = Number(process.env.BENCH_RUNS ?? 5);
const outdir = join("infra.out", "dev");
if (!(process.env.BENCH_REUSE && existsSync(join(outdir, "manifest.json")))) await buildInfra({ stage: "dev", outdir });

const size = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? size(join(dir, e.name)) : e.isFile() ? statSync(join(dir, e.name)).size : 0), 0);

const PROBE = `
const t0 = performance.now();
const m = await import(new URL("file://" + process.argv[2]).href);
if (typeof m[process.argv[3]] !== "function") process.exit(3);
process.stdout.write(JSON.stringify({ importMs: performance.now(), ownImportMs: performance.now() - t0 }));
`;

const emit = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({ name, value, unit, ...extra }));

for (const fn of functionsOf(outdir).filter((f) => f.handler.startsWith("packages/functions/"))) {
  const id = fn.logicalId.replace(/[0-9A-F]{8}$/, "");
  const work = mkdtempSync(join(tmpdir(), "fn-size-"));
  try {
    const dir = join(work, "task");
    cpSync(fn.assetDir!, dir, { recursive: true });
    const unzipped = size(dir);
    const zip = join(work, "code.zip");
    execFileSync("zip", ["-q", "-r", "-9", "-X", zip, "."], { cwd: dir });
    const zipped = statSync(zip).size;
    const probe = join(work, "probe.mjs");
    writeFileSync(probe, PROBE);
    const dot = fn.handler.lastIndexOf(".");
    const file = join(dir, `${fn.handler.slice(0, dot)}.mjs`);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = spawnSync(process.execPath, [probe, file, fn.handler.slice(dot + 1)], { cwd: dir, env: { PATH: "/usr/bin:/bin", AWS_REGION: "us-east-1", TZ: ":UTC" }, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${id}: import failed (${r.status}): ${r.stderr}`);
      times.push((JSON.parse(r.stdout) as { importMs: number }).importMs);
    }
    times.sort((a, b) => a - b);
    const common = { function: id, architecture: fn.architecture, memoryMB: fn.memoryMB };
    emit(`${id} unzipped`, +(unzipped / 1024 / 1024).toFixed(1), "MB", { ...common, limitMB: LIMITS.unzippedBytes / 1024 / 1024, withinLimit: unzipped < LIMITS.unzippedBytes });
    emit(`${id} zipped`, +(zipped / 1024 / 1024).toFixed(1), "MB", { ...common, directUploadLimitMB: LIMITS.zippedDirectBytes / 1024 / 1024, directUploadOk: zipped < LIMITS.zippedDirectBytes });
    emit(`${id} cold import`, +times[Math.floor(times.length / 2)]!.toFixed(0), "ms", { ...common, runs, minMs: +times[0]!.toFixed(0), maxMs: +times[times.length - 1]!.toFixed(0) });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
