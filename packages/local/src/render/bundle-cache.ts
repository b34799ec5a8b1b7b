// One webpack bundle of remotion/ per content: the cache key hashes every file of remotion/src
// and remotion/public plus remotion/package.json (the pinned Remotion version), so renders and processes share a bundle until
// the project changes. A bundle is built in a temporary folder and renamed into place, so two
// processes racing for the same key never see a half-written bundle.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "@remotion/bundler";

export const DEFAULT_REMOTION_ROOT = fileURLToPath(new URL("../../../../remotion", import.meta.url));

const COMPLETE = ".reelbridge-bundle-complete";

const listFiles = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
};

/** Hash of the project's sources and public assets (what the bundle is made of). */
export const hashRemotionProject = async (remotionRoot: string): Promise<string> => {
  const h = createHash("sha256");
  // package.json pins the Remotion version: upgrading Remotion changes the key.
  h.update(await readFile(path.join(remotionRoot, "package.json")));
  for (const sub of ["src", "public"]) {
    for (const file of await listFiles(path.join(remotionRoot, sub))) {
      h.update(path.relative(remotionRoot, file) + "\0");
      h.update(await readFile(file));
      h.update("\0");
    }
  }
  return h.digest("hex").slice(0, 20);
};

export type EnsureBundleOptions = { cacheDir: string; remotionRoot?: string; onProgress?: (percent: number) => void };

/** Returns the path of a ready bundle (the serveUrl), building it only when the key is new. */
export const ensureBundle = async ({ cacheDir, remotionRoot = DEFAULT_REMOTION_ROOT, onProgress }: EnsureBundleOptions): Promise<string> => {
  const key = await hashRemotionProject(remotionRoot);
  const dir = path.join(cacheDir, `remotion-bundle-${key}`);
  if (existsSync(path.join(dir, COMPLETE))) return dir;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await bundle({
      entryPoint: path.join(remotionRoot, "src/index.ts"),
      rootDir: remotionRoot,
      publicDir: path.join(remotionRoot, "public"),
      outDir: tmp,
      // webpack's own cache lives in node_modules/.cache; ours is the finished bundle.
      enableCaching: true,
      onProgress: onProgress ?? (() => undefined),
    });
    await writeFile(path.join(tmp, COMPLETE), key);
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another process finished first: use its bundle.
      if (!existsSync(path.join(dir, COMPLETE))) throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
};
