import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The data directory: everything the runtime keeps (DynamoDB, the bus journal, blobs, logs,
 * secrets). It holds presigned URLs, webhook signatures and the local secrets, so it is private
 * to the user: directories 0700, files 0600, whatever the umask; a data dir made by an older
 * version is fixed on start.
 */
export const DATA_SUBDIRS = ["blobs", "dynamo", "bus", "tmp", "logs", "render-cache", "renders"] as const;
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
/** The umask the runtime runs under while it is up (see privateUmask). */
export const PRIVATE_UMASK = 0o077;

export class DataDirNotWritableError extends Error {
  readonly code = "DataDirNotWritable";
  constructor(readonly dir: string, readonly reason: string, options?: { cause?: unknown }) {
    super(
      `the data directory ${dir} is not writable (${reason}). reelbridge keeps its database, event journal, media and logs there: pass --data-dir with a writable directory, or make this one writable`,
      options,
    );
    this.name = "DataDirNotWritableError";
  }
}

const reasonOf = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  return e?.code === "EROFS" ? "read-only file system" : e?.code === "EACCES" || e?.code === "EPERM" ? "permission denied" : e?.code === "ENOSPC" ? "no space left on device" : (e?.message ?? String(err));
};

/**
 * Writes and removes a file in `dir`: the only check that holds for root too (root passes
 * access(W_OK) on a 0500 directory, but not on a read-only mount).
 */
export function probeWritable(dir: string): void {
  const probe = join(dir, `.reelbridge-write-probe-${process.pid}`);
  writeFileSync(probe, "", { mode: FILE_MODE });
  unlinkSync(probe);
}

export interface PrepareDataDirOptions {
  /** Throws when `dir` cannot be written (default: probeWritable). Tests inject one. */
  probe?: (dir: string) => void;
}

/**
 * Creates the data dir and its folders, refuses one that cannot be written (a clear
 * DataDirNotWritableError instead of a storage engine's stack later), and makes it private.
 * Returns how many entries had their mode tightened.
 */
export function prepareDataDir(dataDir: string, opts: PrepareDataDirOptions = {}): { tightened: number } {
  const probe = opts.probe ?? probeWritable;
  for (const dir of [dataDir, ...DATA_SUBDIRS.map((d) => join(dataDir, d))]) {
    try {
      mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      probe(dir);
    } catch (err) {
      throw new DataDirNotWritableError(dir === dataDir ? dataDir : `${dataDir} (its folder ${dir})`, reasonOf(err), { cause: err });
    }
  }
  return { tightened: makePrivate(dataDir) };
}

/** chmod the tree: directories 0700, files without group and other bits (0600, or 0700 if executable). */
export function makePrivate(root: string): number {
  let changed = 0;
  const visit = (path: string) => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return; // gone meanwhile
    }
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== DIR_MODE) {
        chmodSync(path, DIR_MODE);
        changed++;
      }
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (mode & 0o077) {
      chmodSync(path, mode & 0o700 || FILE_MODE);
      changed++;
    }
  };
  visit(root);
  return changed;
}

/**
 * Removes what a previous run left in `<dataDir>/tmp/` (scratch directories of generations,
 * renders and segmentations that a crash interrupted: their work is redone from the journal).
 * Call it only while holding the data dir (after the database opened), never under a running
 * runtime. Returns the entries removed, relative to tmp/.
 */
export function cleanScratch(dataDir: string): string[] {
  const tmp = join(dataDir, "tmp");
  const removed: string[] = [];
  let areas: string[];
  try {
    areas = readdirSync(tmp);
  } catch {
    return removed;
  }
  for (const area of areas) {
    const dir = join(tmp, area);
    if (!lstatSync(dir).isDirectory()) {
      rmSync(dir, { force: true });
      removed.push(area);
      continue;
    }
    for (const name of readdirSync(dir)) {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(`${area}/${name}`);
    }
  }
  return removed;
}

/**
 * Runs the process under a private umask (new files 0600, directories 0700, whoever creates
 * them: the storage engine, the renderer, the S3 endpoint) until the returned function restores
 * the previous one. Worker threads cannot change the umask: there the explicit modes and the
 * fix-up on start still apply.
 */
export function privateUmask(): () => void {
  try {
    const previous = process.umask(PRIVATE_UMASK);
    return () => void process.umask(previous);
  } catch {
    return () => undefined;
  }
}
