import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// ESLint has no import-cycle rule here without a new dependency (eslint-plugin-import / import-x
// are not installed), so the workspace is checked here: the import graph of every source and
// test file, and the packages' dependency graph. Type-only imports are left out: they are
// erased, and a cycle of types alone costs nothing at run time.

const ROOT = resolve(import.meta.dirname, "../../../..");
const SKIP = new Set(["node_modules", "dist", ".sst", ".reelbridge", "infra.out", "cdk.out", ".tools"]);
const SOURCE = /\.(ts|tsx|mts)$/;

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (SOURCE.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

interface Pkg { name: string; dir: string; exports: Record<string, string>; deps: string[] }

function workspacePackages(): Pkg[] {
  const dirs = [...readdirSync(join(ROOT, "packages")).map((d) => join(ROOT, "packages", d)), join(ROOT, "remotion")];
  return dirs
    .filter((d) => existsSync(join(d, "package.json")))
    .map((dir) => {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name: string;
        exports?: string | Record<string, string>;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
      };
      const deps = [json.dependencies, json.devDependencies, json.peerDependencies, json.optionalDependencies].flatMap((d) => Object.keys(d ?? {}));
      const exports = typeof json.exports === "string" ? { ".": json.exports } : (json.exports ?? {});
      return { name: json.name, dir, exports, deps };
    });
}

const PACKAGES = workspacePackages();
const BY_NAME = new Map(PACKAGES.map((p) => [p.name, p]));

function asFile(p: string): string | undefined {
  for (const c of [p, `${p}.ts`, `${p}.tsx`, join(p, "index.ts"), join(p, "index.tsx")]) {
    if (existsSync(c) && statSync(c).isFile() && SOURCE.test(c)) return c;
  }
  return undefined;
}

/** Resolves a specifier to a workspace source file; undefined for outside packages, node:, JSON. */
function resolveSpecifier(from: string, spec: string): string | undefined {
  if (spec.startsWith(".")) return asFile(resolve(dirname(from), spec));
  const m = /^(@reelbridge\/[^/]+)(\/.*)?$/.exec(spec);
  const pkg = m?.[1] ? BY_NAME.get(m[1]) : undefined;
  if (!m || !pkg) return undefined;
  const sub = `.${m[2] ?? ""}`;
  // Node's rule: an exact key, else the pattern with the longest prefix before its `*`.
  let target = pkg.exports[sub];
  if (target === undefined) {
    const hit = Object.keys(pkg.exports)
      .filter((k) => k.includes("*") && sub.startsWith(k.slice(0, k.indexOf("*"))) && sub.endsWith(k.slice(k.indexOf("*") + 1)))
      .sort((a, b) => b.indexOf("*") - a.indexOf("*"))[0];
    if (hit) {
      const star = sub.slice(hit.indexOf("*"), sub.length - (hit.length - hit.indexOf("*") - 1));
      target = pkg.exports[hit]?.replace("*", star);
    }
  }
  return target === undefined ? undefined : asFile(join(pkg.dir, target));
}

// import x from "m" · import { a } from "m" · import "m" · export * from "m" · export { a } from "m" · import("m").
// Statements written `import type` / `export type` are skipped (erased at compile time).
const STATIC = /^\s*(import|export)\s+(type\s+)?([^"';]*?\sfrom\s*)?["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string): string[] {
  const src = readFileSync(file, "utf8");
  const specs: string[] = [];
  for (const m of src.matchAll(STATIC)) {
    if (m[2]) continue;
    if (m[1] === "export" && !m[3]) continue;
    specs.push(m[4]!);
  }
  for (const m of src.matchAll(DYNAMIC)) specs.push(m[1]!);
  return specs;
}

/** Every cycle's members (strongly connected components with more than one node, or a self-import), each as one path round it. */
function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const sccs: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) sccs.push(scc);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  // Name one concrete cycle in each component: a shortest path from its first node back to it.
  return sccs.map((scc) => {
    const members = new Set(scc);
    const start = [...scc].sort()[0]!;
    const prev = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
          return [...path, start];
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    return [...scc, scc[0]!];
  });
}

describe("the workspace has no import cycle", () => {
  it("between modules (source, tests, stacks, scripts)", () => {
    const files = [
      ...PACKAGES.flatMap((p) => walk(p.dir)),
      ...["stacks", "test", "bench", "scripts"].flatMap((d) => walk(join(ROOT, d))),
      join(ROOT, "sst.config.ts"),
    ].filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThan(100);
    const graph = new Map<string, string[]>();
    for (const f of files) {
      const to = importsOf(f).map((s) => resolveSpecifier(f, s)).filter((t): t is string => t !== undefined);
      graph.set(relative(ROOT, f), [...new Set(to.map((t) => relative(ROOT, t)))]);
    }
    // The graph really is built: a module of functions reaches core by name.
    expect([...graph.values()].flat()).toContain("packages/core/src/errors.ts");
    expect(findCycles(graph).map((c) => c.join(" -> "))).toEqual([]);
  });

  it("between workspace packages (dependencies and devDependencies)", () => {
    const graph = new Map(PACKAGES.map((p) => [p.name, p.deps.filter((d) => BY_NAME.has(d))]));
    expect(graph.get("@reelbridge/testing")).toContain("@reelbridge/core");
    expect(findCycles(graph).map((c) => c.join(" -> "))).toEqual([]);
  });

  it("names the cycle it finds", () => {
    const graph = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["d.ts", ["a.ts"]]]);
    expect(findCycles(graph).map((c) => c.join(" -> "))).toEqual(["a.ts -> b.ts -> c.ts -> a.ts"]);
  });
});
