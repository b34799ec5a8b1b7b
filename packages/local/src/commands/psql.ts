import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DATABASE, SUPERUSER, findPostgres, livePostmaster, startEmbeddedPostgres } from "../postgres/embedded";

const USAGE = `usage: reelbridge psql [--data-dir DIR] [psql options…]

psql on the embedded Postgres that \`reelbridge run\` and \`reelbridge dev\` keep the generated_videos
table in (<data dir>/postgres). Uses the running server of \`reelbridge dev\`, or starts the
database for the session and stops it after. Everything after the options goes to psql, e.g.
  reelbridge psql -c 'select job_id, status, video_url from generated_videos'
`;

export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  let dataDir = process.env.REELBRIDGE_DATA_DIR ?? ".reelbridge";
  if (args[0] === "--help" || args[0] === "-h") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args[0] === "--data-dir") {
    if (!args[1]) {
      process.stderr.write(`--data-dir needs a directory\n\n${USAGE}`);
      return 2;
    }
    dataDir = args[1];
    args.splice(0, 2);
  }
  const dir = join(resolve(dataDir), "postgres");
  if (!existsSync(join(dir, "PG_VERSION"))) {
    process.stderr.write(`no embedded Postgres in ${dir}: \`reelbridge run\` or \`reelbridge dev\` makes it (with PostgreSQL installed)\n`);
    return 1;
  }
  const live = livePostmaster(dir);
  const started = live ? undefined : await startEmbeddedPostgres({ dir, logFile: join(resolve(dataDir), "logs", "postgres.log") });
  try {
    const port = live?.port ?? started!.port;
    const bin = started?.binDir ?? findPostgres(Number(readFileSync(join(dir, "PG_VERSION"), "utf8").trim())).binDir;
    const child = spawn(join(bin, "psql"), ["-h", "127.0.0.1", "-p", String(port), "-U", SUPERUSER, DATABASE, ...args], {
      stdio: "inherit",
      env: { ...process.env, PGPASSFILE: `${dir}.pgpass` },
    });
    return await new Promise<number>((ok) => child.on("exit", (code) => ok(code ?? 1)));
  } finally {
    await started?.stop();
  }
}
