import { chmod, copyFile, cp, mkdir, readFile, realpath } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { FunctionProps } from "sst/constructs";
import { SHIPPED_FFMPEG, shippedFfmpeg } from "../../packages/core/src/adapters/ffmpeg/shipped";
import type { NativeDependency } from "../../packages/functions/src/topology";

/**
 * Native code a function ships (docs/decisions/0007-native-binaries-ship-as-tested.md): the very
 * files this workspace installed from the npm registry and its tests load, copied into the
 * function's zip after SST bundles it. Nothing is downloaded or installed at build time; SST's
 * own `npm install` of sharp (a different version, and a libvips download) never runs.
 */

/** Where Lambda unpacks a zip function. */
export const LAMBDA_TASK_ROOT = "/var/task";

/**
 * The architecture of functions that ship native code: the one their binaries were installed and
 * tested for here (npm installs one platform's binaries, this machine's). Functions without
 * native code keep the app's default (arm_64, sst.config.ts).
 */
export const NATIVE_ARCHITECTURE = "x86_64" as const;
const NATIVE_PLATFORM = { platform: "linux", arch: "x64" } as const;

const ROOT = resolve(import.meta.dirname, "../..");
/** sharp is a dependency of packages/core, where the image code lives. */
const CORE = join(ROOT, "packages/core");

interface NativeSpec {
  /** Left out of the esbuild bundle (loaded from node_modules at run time). */
  external: string[];
  environment: Record<string, string>;
  /** Copies the files into the function's build output. */
  copy(out: string): Promise<void>;
}

const SPECS: Record<NativeDependency, NativeSpec> = {
  sharp: {
    external: ["sharp"],
    environment: {},
    copy: (out) => copyPackageClosure("sharp", CORE, join(out, "node_modules")),
  },
  ffmpeg: {
    external: [],
    environment: {
      FFMPEG_PATH: `${LAMBDA_TASK_ROOT}/bin/${SHIPPED_FFMPEG.ffmpeg.file}`,
      FFPROBE_PATH: `${LAMBDA_TASK_ROOT}/bin/${SHIPPED_FFMPEG.ffprobe.file}`,
    },
    copy: async (out) => {
      const bin = join(out, "bin");
      await mkdir(bin, { recursive: true });
      const paths = shippedFfmpeg();
      for (const [from, name] of [[paths.ffmpegPath, SHIPPED_FFMPEG.ffmpeg.file], [paths.ffprobePath, SHIPPED_FFMPEG.ffprobe.file]] as const) {
        await copyFile(from, join(bin, name));
        // Lambda runs the code as an unprivileged user: world-executable, whatever npm left.
        await chmod(join(bin, name), 0o755);
      }
    },
  },
};

/**
 * The function props for what a topology function ships natively: the architecture its binaries
 * run on, the packages esbuild must leave out, and an afterBuild hook that copies the files.
 * `nodejs` is the app's default nodejs props (SST merges function props shallowly).
 */
export function nativeProps(deps: readonly NativeDependency[] | undefined, nodejs: NonNullable<FunctionProps["nodejs"]>): Partial<FunctionProps> {
  if (!deps?.length) return {};
  const specs = deps.map((d) => SPECS[d]);
  return {
    architecture: NATIVE_ARCHITECTURE,
    nodejs: { ...nodejs, esbuild: { ...nodejs.esbuild, external: [...(nodejs.esbuild?.external ?? []), ...specs.flatMap((s) => s.external)] } },
    environment: Object.assign({}, ...specs.map((s) => s.environment)) as Record<string, string>,
    hooks: {
      afterBuild: async (_props, out) => {
        if (process.platform !== NATIVE_PLATFORM.platform || process.arch !== NATIVE_PLATFORM.arch) {
          throw new Error(`native dependencies (${deps.join(", ")}) are installed for ${process.platform}-${process.arch}; Lambda ${NATIVE_ARCHITECTURE} needs them built on linux-x64`);
        }
        for (const s of specs) await s.copy(out);
      },
    },
  };
}

/**
 * Node's lookup of an installed package (node_modules/<name> in `from` and each parent), by
 * directory: a package's "exports" may not expose its package.json.
 */
function findInstalled(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Copies an installed package and its installed production dependencies (optional ones only
 * where installed, which is how sharp picks its platform binaries) into `nodeModules`, as real
 * files: pnpm's node_modules are symlinks into its store, which a zip would not follow.
 */
export async function copyPackageClosure(name: string, fromDir: string, nodeModules: string, seen = new Set<string>()): Promise<void> {
  const found = findInstalled(name, fromDir);
  if (!found) return; // an optional dependency for another platform, not installed
  const dir = await realpath(found);
  if (seen.has(name)) return;
  seen.add(name);
  const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  await cp(dir, join(nodeModules, name), {
    recursive: true,
    dereference: true,
    filter: (src) => !src.slice(dir.length).split("/").includes("node_modules"),
  });
  const required = Object.keys(pkg.dependencies ?? {});
  for (const dep of required) {
    const before = seen.size;
    await copyPackageClosure(dep, dir, nodeModules, seen);
    if (seen.size === before && !seen.has(dep)) throw new Error(`${name} depends on ${dep}, which is not installed`);
  }
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) await copyPackageClosure(dep, dir, nodeModules, seen);
}
