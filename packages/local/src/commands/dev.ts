import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { captureLambdaLogs, originalStderrWrite, originalStdoutWrite } from "../runtime/logs";
import { DataDirNotWritableError, prepareDataDir } from "../runtime/data-dir";
import { MissingBinaryError, startRuntime } from "../runtime/runtime";
import type { Runtime } from "../runtime/runtime";
import { stageConfigSchema } from "@reelbridge/functions/stage-config";
import type { StageConfig } from "@reelbridge/functions/stage-config";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const webRoot = join(repoRoot, "packages", "web");

const USAGE = `usage: reelbridge dev [options]

Runs the local stack on localhost until stopped (Ctrl-C): the web client, the upload and status
APIs, the S3 upload endpoint, the event bus, the DynamoDB emulator, the local renderer and a
webhook receiver. State lives in the data directory and survives restarts: a job in flight when
the process stops continues when it starts again.

options:
  --port N          port of the web client and APIs (default 5173)
  --s3-port N       port of the S3 endpoint (default: any free port)
  --scale N         render scale, 0.1..1 (default 1)
  --data-dir DIR    where everything is kept (default .reelbridge)
  --auth-issuer URL        JWT auth for the APIs, as a stage's \`auth\`: the OpenID issuer…
  --auth-audience AUD      …the audience the access tokens must carry…
  --auth-jwks-url URL      …the issuer's JWKS (default: from the issuer's discovery document)…
  --auth-client-id ID      …and the web client's public OIDC client there (sign-in on the page)
`;

/**
 * Where `reelbridge dev` builds the web client: a folder of its own, not SST's `dist`, which the
 * deploy build (stacks/Web.ts) fills with a stage's settings (its sign-in issuer, its API URLs)
 * baked in. Sharing it made dev serve a page of another stage whenever that build was newer.
 */
export const LOCAL_WEB_OUT_DIR = "dist-local";

/** Newest modification time of any file under a directory (skipping node_modules and build output). */
function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name === LOCAL_WEB_OUT_DIR || name.startsWith(".")) continue;
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

/** Builds the web client when its dist is missing or older than its sources. */
export function ensureWebBuild(log: (line: string) => void): string {
  const dist = join(webRoot, LOCAL_WEB_OUT_DIR);
  const index = join(dist, "index.html");
  // The page bundles the Remotion composition and serves remotion/public (the live preview).
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(newest(webRoot), newest(join(repoRoot, "remotion")))) return dist;
  log("building the web client (vite build)…");
  // No stage's VITE_* settings: the local page learns its APIs and sign-in from /config.json.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITE_")));
  const r = spawnSync("pnpm", ["--filter", "@reelbridge/web", "exec", "vite", "build", "--outDir", LOCAL_WEB_OUT_DIR, "--emptyOutDir"], { cwd: repoRoot, env, stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error("the web client failed to build (pnpm --filter @reelbridge/web build)");
  return dist;
}

/**
 * --auth-*: the stage's `auth` (stage-config.ts), validated with its schema. The JWKS URL, when
 * not given, is the one the issuer's discovery document names.
 */
async function authOption(values: Record<string, string | boolean | undefined>): Promise<StageConfig["auth"]> {
  const issuer = values["auth-issuer"] as string | undefined;
  const audience = values["auth-audience"] as string | undefined;
  const given = ["auth-audience", "auth-jwks-url", "auth-client-id"].filter((k) => values[k] !== undefined);
  if (!issuer) {
    if (given.length) throw new Error(`--${given.join(", --")} need --auth-issuer`);
    return undefined;
  }
  if (!audience) throw new Error("--auth-issuer needs --auth-audience");
  let jwksUrl = values["auth-jwks-url"] as string | undefined;
  if (!jwksUrl) {
    const discovery = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    const res = await fetch(discovery, { signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => {
      throw new Error(`--auth-issuer: ${discovery} could not be read (${(err as Error).message}); give --auth-jwks-url`);
    });
    const doc = (await res.json().catch(() => undefined)) as { jwks_uri?: unknown } | undefined;
    if (!res.ok || typeof doc?.jwks_uri !== "string") throw new Error(`--auth-issuer: ${discovery} answered ${res.status} without a jwks_uri; give --auth-jwks-url`);
    jwksUrl = doc.jwks_uri;
  }
  const clientId = values["auth-client-id"] as string | undefined;
  const parsed = stageConfigSchema.shape.auth.safeParse({ issuer, audience, jwksUrl, ...(clientId ? { webClientId: clientId } : {}) });
  if (!parsed.success) throw new Error(`--auth-*: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        "s3-port": { type: "string" },
        scale: { type: "string" },
        "data-dir": { type: "string" },
        "auth-issuer": { type: "string" },
        "auth-audience": { type: "string" },
        "auth-jwks-url": { type: "string" },
        "auth-client-id": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = values.port === undefined ? 5173 : Number(values.port);
  const s3Port = values["s3-port"] === undefined ? 0 : Number(values["s3-port"]);
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(s3Port) || s3Port < 0 || s3Port > 65535) {
    process.stderr.write("--port and --s3-port must be port numbers\n");
    return 2;
  }
  if (scale !== undefined && !(scale >= 0.1 && scale <= 1)) {
    process.stderr.write("--scale must be between 0.1 and 1\n");
    return 2;
  }
  let auth: StageConfig["auth"];
  try {
    auth = await authOption(values);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const dataDir = resolve((values["data-dir"] as string | undefined) ?? process.env.REELBRIDGE_DATA_DIR ?? ".reelbridge");
  const say = (line: string) => originalStdoutWrite(`${line}\n`);
  const logFile = join(dataDir, "logs", "runtime.jsonl");
  let restoreLogs = () => {};
  let runtime: Runtime;
  try {
    // Before the log capture and the web build: a data dir that cannot be written is refused by name.
    prepareDataDir(dataDir);
    const webDir = ensureWebBuild(say);
    restoreLogs = captureLambdaLogs(logFile);
    runtime = await startRuntime({ dataDir, port, s3Port, webDir, generatedVideos: "auto", ...(scale ? { renderScale: scale } : {}), ...(auth ? { auth } : {}) });
  } catch (err) {
    restoreLogs();
    if (err instanceof DataDirNotWritableError || err instanceof MissingBinaryError) {
      originalStderrWrite(`reelbridge dev: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  for (const n of runtime.startupNotices) say(`${n.level === "WARN" ? "warning" : "note"}: ${n.message}`);
  say(`web: ${runtime.url}/`);
  if (auth) say(`auth: JWT from ${auth.issuer} (audience ${auth.audience})${auth.webClientId ? `, sign-in as client ${auth.webClientId}` : ""}`);
  say(`upload API: POST ${runtime.apiBase}/uploads`);
  say(`status API: GET ${runtime.apiBase}/jobs/{jobId}, GET ${runtime.apiBase}/jobs`);
  say(`jobs API: POST ${runtime.apiBase}/jobs/{jobId}/renders (re-render; try: pnpm reelbridge rerender <jobId> --title … --data-dir ${dataDir}), POST ${runtime.apiBase}/jobs/{jobId}/cancel`);
  say(`S3 endpoint: ${runtime.s3.url} (bucket ${runtime.s3.bucket})`);
  say(`event bus: ${runtime.busUrl} (AWSEvents.PutEvents; try: pnpm reelbridge events put --data-dir ${dataDir} --entries …)`);
  say(`webhook receiver: ${runtime.receiver.url} (deliveries in ${join(dataDir, "logs", "webhook-deliveries.jsonl")})`);
  if (runtime.generatedVideos) say(`generated_videos: ${runtime.generatedVideos.describe}, in ${runtime.generatedVideos.dir} (query: ${runtime.generatedVideos.psqlCommand} -c "select * from generated_videos")`);
  say(`data: ${dataDir}`);
  say(`logs: ${logFile}`);
  say("ready");

  await new Promise<void>((done) => {
    const stop = () => done();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  say("stopping…");
  await runtime.close();
  restoreLogs();
  return 0;
}
