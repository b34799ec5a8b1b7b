// Runs the benchmarks one after another (all bench/*.ts, or the ones named: `pnpm bench
// pipeline-run media-segmenter`) and prints their JSON lines on stdout, each tagged with its
// script; their other output goes to stderr. `*.lib.ts` files are shared code, not benchmarks.
// Exits 1 when a benchmark fails (and still runs the rest).
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(here, "..", "node_modules", ".bin", "tsx");
const all = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".lib.ts") && f !== basename(fileURLToPath(import.meta.url)))
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();

const wanted = process.argv.slice(2).map((a) => basename(a).replace(/\.ts$/, ""));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  process.stderr.write(`no such benchmark: ${unknown.join(", ")}\navailable: ${all.join(", ")}\n`);
  process.exit(2);
}

function runOne(name: string): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    process.stderr.write(`== ${name}\n`);
    const child = spawn(tsx, [join(here, `${name}.ts`)], { stdio: ["ignore", "pipe", "inherit"] });
    createInterface({ input: child.stdout }).on("line", (line) => {
      let figure: unknown;
      try {
        figure = JSON.parse(line);
      } catch {
        figure = undefined;
      }
      if (figure && typeof figure === "object" && "name" in figure && "value" in figure) process.stdout.write(`${JSON.stringify({ bench: name, ...figure })}\n`);
      else process.stderr.write(`${line}\n`);
    });
    child.on("close", (code) => {
      process.stderr.write(`== ${name}: ${code === 0 ? "ok" : `exit ${code}`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      resolve(code ?? 1);
    });
  });
}

let failures = 0;
for (const name of wanted.length ? wanted : all) if ((await runOne(name)) !== 0) failures++;
process.exit(failures ? 1 : 0);
