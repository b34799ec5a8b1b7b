import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";

/**
 * The embedded Postgres of `reelbridge run` / `reelbridge dev` (issue #16 item 4): the system's
 * PostgreSQL (Debian's `postgresql` package: /usr/lib/postgresql/<major>/bin), a cluster of its
 * own under the data dir, listening on 127.0.0.1 only, with a random password. Nothing is
 * downloaded: without PostgreSQL installed, PostgresNotFoundError says what to install.
 *
 * PostgreSQL refuses to run as root (initdb and postgres check the effective uid). As root, the
 * cluster belongs to the unprivileged `postgres` user the Debian package creates, and initdb and
 * postgres are started with `setpriv` as that user; the data dir gets o+x so that user can reach
 * its folder (it cannot list the data dir, and every other file stays 0600/0700).
 */

export const SUPERUSER = "postgres";
export const DATABASE = "postgres";
const MIN_MAJOR = 13;
const READY_TIMEOUT_MS = 30_000;

export class PostgresNotFoundError extends Error {
  readonly code = "PostgresNotFound";
  constructor(detail: string) {
    super(
      `PostgreSQL ${MIN_MAJOR} or later was not found (${detail}). The embedded runtime keeps the generated_videos table in it: install it (Debian/Ubuntu: apt-get install postgresql), or set REELBRIDGE_POSTGRES_BIN to the folder holding initdb, postgres and psql`,
    );
    this.name = "PostgresNotFoundError";
  }
}

export interface PostgresBinaries {
  binDir: string;
  major: number;
}

const hasTools = (dir: string) => ["initdb", "postgres", "pg_isready", "psql"].every((t) => existsSync(join(dir, t)));

function majorOf(binDir: string): number {
  const out = spawnSync(join(binDir, "postgres"), ["--version"], { encoding: "utf8" });
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(out.stdout ?? "");
  return m ? Number(m[1]) : 0;
}

/**
 * The PostgreSQL to use: REELBRIDGE_POSTGRES_BIN, else the newest /usr/lib/postgresql/<major>/bin,
 * else initdb/postgres on PATH. `wantMajor` (an existing cluster's PG_VERSION) must match.
 */
export function findPostgres(wantMajor?: number): PostgresBinaries {
  const candidates: string[] = [];
  const fromEnv = process.env.REELBRIDGE_POSTGRES_BIN?.trim();
  const debian = "/usr/lib/postgresql";
  // Named explicitly: that one or none, never a silent fallback to another installation.
  if (fromEnv) candidates.push(fromEnv);
  else if (existsSync(debian)) {
    for (const v of readdirSync(debian).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a))) candidates.push(join(debian, v, "bin"));
  }
  if (!fromEnv) for (const p of (process.env.PATH ?? "").split(":").filter(Boolean)) candidates.push(p);
  const found = candidates.filter(hasTools).map((binDir) => ({ binDir, major: majorOf(binDir) })).filter((b) => b.major >= MIN_MAJOR);
  const pick = wantMajor ? found.find((b) => b.major === wantMajor) : found[0];
  if (pick) return pick;
  if (wantMajor) throw new PostgresNotFoundError(`the cluster was made by PostgreSQL ${wantMajor}; found ${found.map((b) => `${b.major} in ${b.binDir}`).join(", ") || "none"}`);
  throw new PostgresNotFoundError(fromEnv ? `REELBRIDGE_POSTGRES_BIN=${fromEnv} has no initdb, postgres, pg_isready and psql` : `looked in ${debian}/*/bin and PATH`);
}

interface ConnectionInfo {
  port: number;
  password: string;
  major: number;
}

export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres — a secret: never print it. */
  readonly url: string;
  readonly port: number;
  /** The cluster's folder. */
  readonly dir: string;
  readonly binDir: string;
  readonly major: number;
  /** A .pgpass file (0600) with the password, for psql. */
  readonly pgpassFile: string;
  /** A shell command that opens psql on the database, the password read from pgpassFile. */
  readonly psqlCommand: string;
  /** Starts the server again on the same port (after stop()). */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT), waiting for the server to exit. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** The cluster's folder (created; its parent must exist). Connection info is kept beside it. */
  dir: string;
  /** Where the server's own log goes (default: `<dir>.log`). */
  logFile?: string;
  /** Port to listen on (default: the one used last time if free, else any free one). */
  port?: number;
}

async function freePort(prefer?: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolvePort) => {
      const srv = createServer();
      srv.once("error", () => resolvePort(undefined));
      srv.listen(port, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolvePort(p));
      });
    });
  if (prefer) {
    const p = await tryListen(prefer);
    if (p) return p;
  }
  const any = await tryListen(0);
  if (!any) throw new Error("no free TCP port on 127.0.0.1 for the embedded Postgres");
  return any;
}

/** As root: the uid/gid of the `postgres` user, and the setpriv prefix that runs a command as it. */
function dropPrivileges(): { uid: number; gid: number; prefix: string[] } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${SUPERUSER}:`));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (!uid || !gid) {
    throw new PostgresNotFoundError(`running as root, and there is no unprivileged "${SUPERUSER}" user to run the server as (PostgreSQL refuses root); Debian's postgresql package creates it`);
  }
  return { uid: Number(uid), gid: Number(gid), prefix: ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"] };
}

/** Every folder above the cluster must let the `postgres` user through (x for others). */
function grantTraverse(dir: string): void {
  const parent = dirname(resolve(dir));
  const st = statSync(parent);
  if ((st.mode & 0o001) === 0 && st.uid === 0) chmodSync(parent, (st.mode & 0o777) | 0o001);
  for (let d = dirname(parent); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new PostgresNotFoundError(`running as root, the server runs as "${SUPERUSER}", which cannot enter ${d} (mode ${(statSync(d).mode & 0o777).toString(8)}); use a data dir outside it, e.g. --data-dir /var/tmp/reelbridge`);
    }
    if (d === dirname(d)) break;
  }
}

function run(cmd: string[]): void {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", cwd: "/", env: { ...process.env, LC_ALL: "C" } });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error ?? "")).trim().slice(-1500)}`);
}

/** A postmaster running on this cluster (a runtime's, or one a killed runtime left): its pid and port. */
export function livePostmaster(dir: string): { pid: number; port: number } | undefined {
  const file = join(dir, "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const [pidLine, , , portLine] = readFileSync(file, "utf8").split("\n");
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!pid || !port) return undefined;
  try {
    process.kill(pid, 0);
    return { pid, port };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dir = resolve(opts.dir);
  const infoFile = `${dir}.json`;
  const pgpassFile = `${dir}.pgpass`;
  const logFile = opts.logFile ?? `${dir}.log`;
  const asUser = dropPrivileges();
  const prefix = asUser?.prefix ?? [];
  const initialized = existsSync(join(dir, "PG_VERSION"));
  const saved: ConnectionInfo | undefined = initialized && existsSync(infoFile) ? (JSON.parse(readFileSync(infoFile, "utf8")) as ConnectionInfo) : undefined;
  if (initialized && !saved) throw new Error(`${dir} holds a PostgreSQL cluster without its connection info (${infoFile}); remove the folder to start afresh`);
  const bins = findPostgres(initialized ? Number(readFileSync(join(dir, "PG_VERSION"), "utf8").trim()) : undefined);
  if (asUser) grantTraverse(dir);

  let info: ConnectionInfo;
  if (!initialized) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (asUser) chownSync(dir, asUser.uid, asUser.gid);
    const password = randomBytes(18).toString("base64url");
    // The password reaches initdb in a 0600 file of the user it runs as, removed right after,
    // never on a command line.
    const pwfile = `${dir}.initdb-pw`;
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    try {
      if (asUser) chownSync(pwfile, asUser.uid, asUser.gid);
      run([...prefix, join(bins.binDir, "initdb"), "-D", dir, "-U", SUPERUSER, "--auth=scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8", "--locale=C", "--no-instructions"]);
    } finally {
      rmSync(pwfile, { force: true });
    }
    info = { port: 0, password, major: bins.major };
  } else {
    info = saved!;
  }

  let child: ChildProcess | undefined;
  let orphan: number | undefined;
  let port = opts.port ?? 0;

  const persist = () => {
    writeFileSync(infoFile, JSON.stringify({ ...info, port }), { mode: 0o600 });
    writeFileSync(pgpassFile, `127.0.0.1:${port}:*:${SUPERUSER}:${info.password}\n`, { mode: 0o600 });
  };

  const waitReady = async () => {
    const end = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const r = spawnSync(join(bins.binDir, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port), "-d", DATABASE, "-U", SUPERUSER]);
      if (r.status === 0) return;
      if (child && child.exitCode !== null) throw new Error(`the embedded Postgres exited (${child.exitCode}) while starting; its log: ${logFile}\n${tail(logFile)}`);
      if (Date.now() > end) throw new Error(`the embedded Postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s; its log: ${logFile}\n${tail(logFile)}`);
      await sleep(100);
    }
  };

  const start = async () => {
    const live = livePostmaster(dir);
    if (live) {
      // A server a killed runtime left behind: use it, and stop it with ours.
      orphan = live.pid;
      port = live.port;
      persist();
      await waitReady();
      return;
    }
    port = await freePort(opts.port ?? (port || info.port || undefined));
    persist();
    const fd = openSync(logFile, "a", 0o600);
    try {
      const cmd = [...prefix, join(bins.binDir, "postgres"), "-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=50"];
      child = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", fd, fd], cwd: "/", env: { ...process.env, LC_ALL: "C" } });
    } finally {
      closeSync(fd);
    }
    child.on("error", () => undefined);
    await waitReady();
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once("exit", () => r()));
      c.kill("SIGINT");
      const timer = setTimeout(() => c.kill("SIGQUIT"), 20_000);
      await exited;
      clearTimeout(timer);
    }
    if (orphan) {
      const pid = orphan;
      orphan = undefined;
      try {
        process.kill(pid, "SIGINT");
        for (let i = 0; i < 200; i++) {
          process.kill(pid, 0);
          await sleep(100);
        }
      } catch {
        // gone
      }
    }
  };

  await start();
  const psql = join(bins.binDir, "psql");
  return {
    get url() {
      return `postgres://${SUPERUSER}:${encodeURIComponent(info.password)}@127.0.0.1:${port}/${DATABASE}`;
    },
    get port() {
      return port;
    },
    dir,
    binDir: bins.binDir,
    major: bins.major,
    pgpassFile,
    get psqlCommand() {
      return `PGPASSFILE=${pgpassFile} ${psql} -h 127.0.0.1 -p ${port} -U ${SUPERUSER} ${DATABASE}`;
    },
    start,
    stop,
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "";
  }
}
