import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createPublisher } from "@reelbridge/core/publish";
import type { Clock, JobStore, Logger, VideoGenerator } from "@reelbridge/core";
import { eventJobId, uploadKeyJobId } from "@reelbridge/core/upload/keys";
import { createDynamoBudgetStore } from "@reelbridge/core/adapters/aws/dynamodb-budget-store";
import { createDynamoJobStore } from "@reelbridge/core/adapters/aws/dynamodb-job-store";
import { createDynamoStepStateStore } from "@reelbridge/core/adapters/aws/dynamodb-step-state-store";
import { createDynamoRenderIndex } from "@reelbridge/core/adapters/aws/dynamodb-render-index";
import { createFfmpegVideoGenerator } from "@reelbridge/core/adapters/ffmpeg/index";
import { shippedFfmpeg } from "@reelbridge/core/adapters/ffmpeg/shipped";
import { defaultFfmpegPath, locateBinary } from "@reelbridge/core/adapters/ffmpeg/run";
import type { ToolNotFoundError } from "@reelbridge/core/media/errors";
import { MUSIC_CATALOG } from "@reelbridge/remotion/music";
import { stageConfig } from "@reelbridge/functions/stage-config";
import type { StageConfig } from "@reelbridge/functions/stage-config";
import { endpoints, schedules, subscriptions } from "@reelbridge/functions/topology";
import { HANDLER_MODULES } from "@reelbridge/functions/registry";
import type { Subscription } from "@reelbridge/functions/topology";
import { createJobsTable, LOCAL_JOBS_TABLE, startLocalDynamo } from "../dynamo/index";
import { createLocalBus } from "../eventbridge/index";
import type { LocalBus } from "../eventbridge/index";
import { startWebhookReceiver } from "../fakes/webhook-receiver";
import type { WebhookReceiver } from "../fakes/webhook-receiver";
import { createLocalRemotion } from "../remotion-emulator/index";
import type { LocalRemotion } from "../remotion-emulator/index";
import { createLocalRenderer, DEFAULT_BROWSER_EXECUTABLE } from "../render/index";
import type { LocalRenderer, RenderTuning } from "../render/index";
import { startLocalS3 } from "../s3/index";
import type { LocalS3 } from "../s3/index";
import { cleanScratch, prepareDataDir, privateUmask } from "./data-dir";
import { startLocalGeneratedVideos } from "./generated-videos";
import type { LocalGeneratedVideos } from "./generated-videos";
import { createLocalPlatform } from "./platform";
import { compileRoutes, LOCAL_API_PREFIX, routeRequest } from "./routes";
import { createLocalVisibility, directInvoker, FunctionUrlPayloadTooLargeError, lambdaContext, measured, sqsInvoker, toFunctionUrlEvent, writeFunctionUrlResult } from "./lambda";
import { normalizeLogText } from "./logs";
import type { AnyHandler, InvocationRecord, InvokerOptions } from "./lambda";

/**
 * The embedded runtime (ARCHITECTURE.md, "The embedded default"): the same handlers, wired
 * by the same topology, on one machine.
 *
 *   local S3        presigned POST endpoint + file-backed blob store  (packages/local/src/s3)
 *   local bus       EventBridge content filtering and delivery        (packages/local/src/eventbridge)
 *   dynalite        DynamoDB wire protocol, data on disk              (packages/local/src/dynamo)
 *   generator       FFmpeg offline image-to-video                     (core/adapters/ffmpeg)
 *   Remotion        @remotion/renderer + Chromium, signed webhook     (packages/local/src/remotion-emulator)
 *   receiver        a Standard Webhooks receiver for the demo         (packages/local/src/fakes)
 *   HTTP            the topology's endpoint routes under /api (routes.ts), the web client
 *
 * Everything lives under `dataDir`, so a restart picks up where it stopped.
 */
export interface RuntimeOptions {
  dataDir: string;
  /** Port of the HTTP server (API, webhook, web client); 0 = any free port. */
  port?: number;
  /** Port of the local S3 endpoint; 0 = any free port. */
  s3Port?: number;
  /** A built web client to serve at / (packages/web/dist). */
  webDir?: string;
  /** Render scale of the local renderer (1 = full resolution). */
  renderScale?: number;
  /** How the local renderer spends the machine; default LOCAL_RENDER_TUNING (the benchmarks compare others). */
  renderTuning?: Partial<RenderTuning>;
  /** Extra origins allowed to POST uploads (the web client's origin is always allowed). */
  webOrigins?: string[];
  /** Where JSON log lines go (default: <dataDir>/logs/runtime.jsonl). */
  logSink?: (line: string) => void;
  /** Bus test mode: redeliver and shuffle events so handlers prove idempotency. */
  testMode?: { redeliverProbability?: number; shuffle?: boolean; seed?: number };
  /** Override of the stage's concurrency limits (queued steps). */
  concurrency?: Partial<StageConfig["concurrency"]>;
  /** JWT auth for the APIs, as a stage's `auth` (issuer, audience, JWKS, the web client's OIDC client id); absent = open. */
  auth?: StageConfig["auth"];
  /** Delay scale of local retries (tests shrink it). */
  retryBaseMs?: number;
  /**
   * The generated_videos table in an embedded Postgres under the data dir, kept by the
   * supabase-sink (issue #16): true = required, "auto" = when the system has PostgreSQL (what
   * `reelbridge run` and `dev` ask for), absent = off.
   */
  generatedVideos?: boolean | "auto";
  /**
   * The image-to-video generator instead of the offline FFmpeg one (e.g. the LTX adapter against
   * the fake LTX server: bench/lambda-gb-seconds.ts).
   */
  videoGenerator?: VideoGenerator;
  /**
   * Multiplies the delays queued handlers ask before a re-check (the LTX step's looks at a
   * generation, docs/decisions/0010); default 1. Tests and benchmarks shrink time with it.
   */
  checkDelayScale?: number;
}

export interface RenderProgressEvent {
  jobId: string;
  renderId: string;
  progress: number;
}

export interface Runtime {
  /** What the runtime paid for since it started: generations submitted and renders started. */
  stats: { generations: number; renders: number; cancelledRenders: number };
  /**
   * Every function invocation, measured as it ends: duration × the topology's memoryMB (the
   * GB-s Lambda would bill), with the jobs it concerned. Returns the unsubscribe.
   */
  onInvocation(listener: (r: InvocationRecord) => void): () => void;
  /** The subscriptions the bus was built with (from the topology), as the bus sees them. */
  subscriptions: Array<{ name: string; busName: string; pattern: object; delivery: Subscription["delivery"]; concurrency?: number }>;
  dataDir: string;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:5173 */
  url: string;
  apiBase: string;
  s3: LocalS3;
  bus: LocalBus;
  busUrl: string;
  jobs: JobStore;
  receiver: WebhookReceiver;
  remotion: LocalRemotion;
  config: StageConfig;
  /**
   * What the start found and did that the user should hear about (a torn journal recovered,
   * scratch of a crashed run removed, modes tightened), also in the log. The CLI prints them.
   */
  startupNotices: Array<{ level: "INFO" | "WARN"; message: string }>;
  /** The generated_videos table and its embedded Postgres, when on (RuntimeOptions.generatedVideos). */
  generatedVideos?: LocalGeneratedVideos;
  /** Generation progress (0..1) and render progress, per job, for progress bars. */
  onProgress(listener: (p: { jobId: string; step: "generating" | "rendering"; fraction: number }) => void): () => void;
  close(): Promise<void>;
}

const LOCAL_ACCOUNT = "000000000000";
const LOCAL_REGION = "us-east-1";
const BUS_NAME = "local-reelbridge";
const TABLE = LOCAL_JOBS_TABLE;
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/** Random local secrets, made once per data dir and kept there (like SST secrets in SSM). */
function localSecrets(dataDir: string): { remotionWebhook: string; notify: string; s3SecretKey: string; s3AccessKey: string } {
  const file = join(dataDir, "secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
  const secrets = {
    remotionWebhook: randomBytes(32).toString("hex"),
    notify: `whsec_${randomBytes(32).toString("base64")}`,
    s3AccessKey: `LOCAL${randomBytes(8).toString("hex").toUpperCase()}`,
    s3SecretKey: randomBytes(30).toString("base64"),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** A binary the runtime needs is missing: it refuses to start rather than fail jobs with it. */
export class MissingBinaryError extends Error {
  readonly code = "MissingBinary";
  constructor(readonly missing: Array<{ neededBy: string; error: ToolNotFoundError }>) {
    super(`the local runtime cannot start: ${missing.map((m) => `${m.neededBy} needs ${m.error.message}`).join("; ")}. No job was started`, { cause: missing[0]?.error });
    this.name = "MissingBinaryError";
  }
}

/** The external binaries the handlers will spawn, checked before any job can need them. */
export function checkBinaries(env: NodeJS.ProcessEnv = process.env): void {
  const missing: Array<{ neededBy: string; error: ToolNotFoundError }> = [];
  const check = (neededBy: string, binary: string) => {
    const r = locateBinary(binary, env);
    if ("error" in r) missing.push({ neededBy, error: r.error });
  };
  check("the offline generator (FFmpeg image-to-video)", env.FFMPEG_PATH?.trim() || defaultFfmpegPath());
  let shipped: { ffmpegPath: string; ffprobePath: string } | undefined;
  try {
    shipped = shippedFfmpeg();
  } catch {
    // Resolution failed: the packages are not installed; named by the check below.
  }
  check("the segmenter (the shipped FFmpeg, @ffmpeg-installer/linux-x64; run pnpm install)", shipped?.ffmpegPath ?? "@ffmpeg-installer/linux-x64/ffmpeg");
  check("the segmenter (the shipped ffprobe, @ffprobe-installer/linux-x64; run pnpm install)", shipped?.ffprobePath ?? "@ffprobe-installer/linux-x64/ffprobe");
  const chromium = env.CHROMIUM_PATH?.trim();
  check(`the renderer (Chromium${chromium ? ", from CHROMIUM_PATH" : ""})`, chromium || DEFAULT_BROWSER_EXECUTABLE);
  if (missing.length) throw new MissingBinaryError(missing);
}

function jsonLogger(sink: (line: string) => void, base: Record<string, unknown>): Logger {
  const log = (level: string) => (message: string, extra?: Record<string, unknown>) =>
    sink(JSON.stringify({ level, timestamp: new Date().toISOString(), service: "reelbridge-local", message, ...base, ...extra }));
  return { debug: log("DEBUG"), info: log("INFO"), warn: log("WARN"), error: log("ERROR") };
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const dataDir = resolve(opts.dataDir);
  // Refuse early and clearly: a data dir that cannot be written, a binary that is missing.
  checkBinaries();
  const { tightened } = prepareDataDir(dataDir);
  const restoreUmask = privateUmask();
  const startupNotices: Runtime["startupNotices"] = [];
  let starting = true;
  const secrets = localSecrets(dataDir);
  const logFile = join(dataDir, "logs", "runtime.jsonl");
  const write = opts.logSink ?? ((line: string) => appendFileSync(logFile, line, { mode: 0o600 }));
  // Every line in one shape, jobId on each that concerns a job (logs.ts).
  const sink = (line: string) => write(normalizeLogText(line) ?? (line.endsWith("\n") ? line : `${line}\n`));
  const logger = jsonLogger(sink, {});
  const notice = (level: "INFO" | "WARN", message: string, extra: Record<string, unknown> = {}) => {
    startupNotices.push({ level, message });
    (level === "WARN" ? logger.warn : logger.info)(message, extra);
  };
  if (tightened) notice("INFO", `made the data directory private: ${tightened} file(s) and folder(s) were readable by others, now 0700/0600`, { dataDir });
  const clock: Clock = { now: () => new Date() };
  const progressListeners = new Set<(p: { jobId: string; step: "generating" | "rendering"; fraction: number }) => void>();
  const emitProgress = (p: { jobId: string; step: "generating" | "rendering"; fraction: number }) => progressListeners.forEach((l) => l(p));

  const closers: Array<() => Promise<unknown>> = [];
  const stats = { generations: 0, renders: 0, cancelledRenders: 0 };
  try {
    // ---- HTTP server first: its URL is the webhook target and the web origin ------------------
    // Ports are kept from the previous run of this data dir when none is asked for: URLs handed
    // out before a stop (presigned media, the render webhook) must still work after a restart.
    const previous = previousPorts(dataDir);
    const server: Server = createServer();
    await listenPreferring(server, opts.port, previous.http);
    closers.push(() => new Promise((ok) => { server.close(() => ok(undefined)); server.closeAllConnections(); }));
    const port = (server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    const webOrigins = [url, `http://localhost:${port}`, ...(opts.webOrigins ?? [])];
    const base = stageConfig("local");
    const config: StageConfig = { ...base, webOrigins, concurrency: { ...base.concurrency, ...opts.concurrency }, ...(opts.auth ? { auth: opts.auth } : {}) };

    // ---- storage ------------------------------------------------------------------------------
    // Each component keeps its files in its own folder of the data dir (dynamo/, bus/, blobs/…).
    const dynamo = await startLocalDynamo({ dataDir });
    closers.push(() => dynamo.close());
    // The database is open (it locks the data dir): what tmp/ holds is a crashed run's scratch.
    const scratch = cleanScratch(dataDir);
    if (scratch.length) notice("INFO", `removed ${scratch.length} scratch folder(s) a previous run left in ${join(dataDir, "tmp")}: ${scratch.slice(0, 5).join(", ")}${scratch.length > 5 ? ", …" : ""}`, { removed: scratch });
    await createJobsTable(dynamo.client, TABLE);
    const doc = dynamo.doc;
    const state = createDynamoStepStateStore(doc, { table: TABLE });
    const jobs = createDynamoJobStore(doc, { table: TABLE });
    const renderIndex = createDynamoRenderIndex(doc, { table: TABLE });
    const budget = createDynamoBudgetStore(doc, { table: TABLE });

    // The bus is created below (its subscriptions need every handler), but S3 publishes into it.
    // eslint-disable-next-line prefer-const -- assigned once, after the handlers exist
    let bus: LocalBus | undefined;
    const s3 = await startLocalS3({
      root: join(dataDir, "blobs"),
      bucket: "reelbridge-local-media",
      port: opts.s3Port || (previous.s3 && (await portIsFree(previous.s3)) ? previous.s3 : 0),
      credentials: { accessKeyId: secrets.s3AccessKey, secretAccessKey: secrets.s3SecretKey },
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT,
      corsOrigins: webOrigins,
      logger,
      onObjectCreated: async (event) => {
        // S3 sends "Object Created" to the account's default bus, which assigns id and time.
        // S3 retries its own delivery; so does this, or a stored upload would start no job.
        for (let attempt = 1; ; attempt++) {
          const res = await bus!
            .putEvents({ Entries: [{ Source: event.source, DetailType: event["detail-type"], Detail: JSON.stringify(event.detail), Resources: event.resources, EventBusName: "default" }] }, { asAwsService: true })
            .catch((err: unknown) => ({ FailedEntryCount: 1, Entries: [{ ErrorCode: "Error", ErrorMessage: String(err) }] }));
          if (!res.FailedEntryCount) return;
          if (attempt >= 5) throw new Error(`could not publish Object Created for ${event.detail.object.key}: ${JSON.stringify(res.Entries)}`);
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        }
      },
    });
    closers.push(() => s3.close());
    const blobs = s3.blobStore;

    // Music the render step hands to Remotion, where the stacks deploy it in AWS (assets/music/).
    const musicDir = join(repoRoot, "remotion", "public", "music");
    for (const track of Object.values(MUSIC_CATALOG)) {
      const key = `assets/${track.file}`;
      if (!(await blobs.head(key))) await blobs.putFile(key, join(musicDir, track.file.replace(/^music\//, "")), { contentType: track.file.endsWith(".m4a") ? "audio/mp4" : "audio/mpeg" });
    }

    // ---- outside services ----------------------------------------------------------------------
    // Kept from the previous run like the other ports: callback URLs handed out before a stop still work.
    const receiver = await startWebhookReceiver({
      secret: secrets.notify,
      logPath: join(dataDir, "logs", "webhook-deliveries.jsonl"),
      port: previous.receiver && (await portIsFree(previous.receiver)) ? previous.receiver : 0,
    });
    closers.push(() => receiver.close());

    // CHROMIUM_PATH points at another Chromium than Debian's /usr/bin/chromium.
    const renderer: LocalRenderer = createLocalRenderer({
      cacheDir: join(dataDir, "render-cache"),
      ...(process.env.CHROMIUM_PATH ? { browserExecutable: process.env.CHROMIUM_PATH } : {}),
      ...(opts.renderTuning ? { tuning: opts.renderTuning } : {}),
    });
    closers.push(() => renderer.close());
    const remotion = createLocalRemotion({
      render: (o) => renderer.render(o),
      blobs,
      webhookSecret: secrets.remotionWebhook,
      tmpDir: join(dataDir, "tmp", "render"),
      concurrency: config.concurrency.render,
      onProgress: (p) => emitProgress({ jobId: p.jobId, step: "rendering", fraction: p.progress }),
      logger,
      stateDir: join(dataDir, "renders"),
    });
    closers.push(() => remotion.close());

    /** Generation id → job, for the progress bar's last tick. */
    const generationJobs = new Map<string, string>();
    const generator: VideoGenerator =
      opts.videoGenerator ?? createFfmpegVideoGenerator({ workDir: join(dataDir, "tmp", "generator"), onProgress: (p) => emitProgress({ jobId: p.jobId, step: "generating", fraction: p.fraction }) });
    const publisher = (producer: string) =>
      createPublisher((entries) => bus!.putEvents({ Entries: entries }), { busName: BUS_NAME, producer, clock });

    // ---- the generated_videos table: the embedded Postgres the supabase-sink writes to --------------
    const videosTable = await startLocalGeneratedVideos(dataDir, opts.generatedVideos);
    if (videosTable.notice) notice("WARN", videosTable.notice);
    if (videosTable.table) closers.push(() => videosTable.table!.close());
    // The topology's optional subscriptions this runtime has what they need for.
    const features = { supabase: videosTable.table !== undefined };

    // ---- handlers: each module's own buildDeps over the local platform (registry.ts) ------------------
    const apiBase = `${url}${LOCAL_API_PREFIX}`;
    const routeTable = compileRoutes(endpoints);
    const platform = createLocalPlatform({
      config,
      clock,
      blobs,
      state,
      jobs,
      renderIndex,
      budget,
      publisher,
      secrets: { LTX_API_KEY: "local-offline-generator", REMOTION_WEBHOOK_SECRET: secrets.remotionWebhook, NOTIFY_WEBHOOK_SECRET: secrets.notify, SUPABASE_DB_URL: videosTable.table?.url ?? "" },
      apiBase,
      dataDir,
      uploadSigner: s3.signer,
      generator: {
        name: generator.name,
        checkIntervalSeconds: generator.checkIntervalSeconds,
        submit: async (req, o) => {
          const r = await generator.submit(req, o);
          stats.generations++;
          generationJobs.set(r.generationId, req.jobId);
          return r;
        },
        check: async (id, o) => {
          const r = await generator.check(id, o);
          if (r.status === "completed") emitProgress({ jobId: generationJobs.get(id) ?? "", step: "generating", fraction: 1 });
          return r;
        },
      },
      renderer: {
        name: remotion.name,
        start: (req) => {
          stats.renders++;
          return remotion.start(req);
        },
        // The emulator's counterpart of cancelRenderOnLambda (docs/decisions/0009).
        cancel: async (q) => {
          const before = remotion.cancelledRenderIds.length;
          await remotion.cancel(q);
          stats.cancelledRenders += remotion.cancelledRenderIds.length - before;
        },
      },
      renderProgress: remotion.getProgress,
      stageWebhookEndpoints: [receiver.url],
      ...(opts.renderScale ? { renderScale: opts.renderScale } : {}),
    });
    // Built once, like a cold start, from the topology: a function the registry lacks stops the start.
    const functions = [...subscriptions({ mediaBucket: s3.bucket, features }), ...endpoints, ...schedules];
    const unknown = functions.filter((f) => !HANDLER_MODULES[f.name]).map((f) => f.name);
    if (unknown.length) throw new Error(`the local runtime has no handler module for: ${unknown.join(", ")} (packages/functions/src/registry.ts)`);
    const handlerOf: Record<string, AnyHandler> = {};
    // Queued handlers set a record's visibility as in AWS; the local bus obeys a re-check's delay.
    const visibility = createLocalVisibility(opts.checkDelayScale ?? 1);
    for (const f of functions) {
      const mod = HANDLER_MODULES[f.name]!;
      const deps = await mod.buildDeps(platform);
      handlerOf[f.name] = mod.createHandler((async () => deps) as () => Promise<never>, { changeVisibility: visibility.change }) as AnyHandler;
    }
    // Every invocation is measured: duration × the topology's memoryMB.
    const invocationListeners = new Set<(r: InvocationRecord) => void>();
    const invokerOptions = (f: { memoryMB: number }): InvokerOptions => ({
      memoryMB: f.memoryMB,
      jobIdOf: invocationJobId,
      onInvocation: (r) => invocationListeners.forEach((l) => l(r)),
    });
    const handlers = handlerOf;
    const http = handlerOf;

    // ---- the bus, built from the topology ---------------------------------------------------------
    const subs: Subscription[] = subscriptions({ mediaBucket: s3.bucket, features });
    const missing = subs.filter((s) => !handlers[s.name]).map((s) => s.name);
    if (missing.length) throw new Error(`the local runtime has no handler for subscriptions: ${missing.join(", ")}`);
    const busSubscriptions = subs.map((s) => ({
        name: s.name,
        busName: s.bus === "default" ? "default" : BUS_NAME,
        pattern: s.pattern,
        delivery: s.delivery,
        ...(s.delivery.kind === "queue" ? { concurrency: config.concurrency[s.delivery.concurrencyKey] } : {}),
        invoke:
          s.delivery.kind === "queue"
            ? sqsInvoker(s.name, handlers[s.name]!, s.timeoutSeconds, { ...invokerOptions(s), visibility })
            : directInvoker(s.name, handlers[s.name]!, s.timeoutSeconds, invokerOptions(s)),
      }));
    bus = createLocalBus({
      dataDir,
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      buses: ["default", BUS_NAME],
      subscriptions: busSubscriptions,
      ...(opts.testMode ? { testMode: opts.testMode } : {}),
      timing: { retryBaseMs: opts.retryBaseMs ?? 500, retryMaxMs: 15_000 },
      log: (r) => {
        sink(JSON.stringify({ timestamp: new Date().toISOString(), service: "reelbridge-local-bus", ...r }));
        if (starting && r.level === "WARN" && typeof r.message === "string") startupNotices.push({ level: "WARN", message: r.message });
      },
    });
    const busHttp = await bus.listen(0);
    // Renders a previous run was in the middle of start again under their renderId.
    const resumed = await remotion.resume();
    if (resumed) logger.info("resumed renders", { count: resumed });
    closers.push(() => bus!.close());

    // ---- schedules ---------------------------------------------------------------------------------
    for (const s of schedules) {
      const timer = setInterval(() => {
        measured(s.name, "schedule", invokerOptions(s), [], () => handlerOf[s.name]!({} as never, lambdaContext(s.name, s.timeoutSeconds, s.memoryMB) as never)).catch((err: unknown) => logger.error("scheduled function failed", { function: s.name, error: String(err) }));
      }, Math.min(s.everyMinutes * 60_000, 60_000));
      timer.unref();
      closers.push(async () => clearInterval(timer));
    }

    // ---- HTTP routes (the topology's, routes.ts) ----------------------------------------------------
    const unserved = endpoints.filter((e) => !http[e.name]).map((e) => e.name);
    if (unserved.length) throw new Error(`the local runtime has no handler for endpoints: ${unserved.join(", ")}`);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      handleRequest(req, res).catch((err: unknown) => {
        if (err instanceof FunctionUrlPayloadTooLargeError) {
          // The client's doing, already answered 413 (lambda.ts): worth a WARN, not an ERROR.
          logger.warn("request refused: body over the Function URL limit", { path: req.url, method: req.method, status: 413, maxBytes: err.maxBytes, receivedBytes: err.receivedBytes });
          return;
        }
        logger.error("request failed", { path: req.url, error: String(err) });
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "Internal", message: "internal error" }));
      });
    });
    async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const path = new URL(req.url ?? "/", url).pathname;
      const route = routeRequest(routeTable, path);
      if (route) {
        const event = await toFunctionUrlEvent(req, route.fnPath);
        const fn = endpoints.find((e) => e.name === route.endpoint)!;
        const result = await measured(route.endpoint, "http", invokerOptions(fn), [], () => http[route.endpoint]!(event as never, lambdaContext(fn.name, fn.timeoutSeconds, fn.memoryMB) as never));
        writeFunctionUrlResult(res, result as never);
        return;
      }
      if (path === "/config.json") {
        // The web client's sign-in settings (packages/web/src/config.ts) on a stage with auth.
        const signIn = config.auth?.webClientId ? { auth: { issuer: config.auth.issuer, clientId: config.auth.webClientId, audience: config.auth.audience } } : {};
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ apiBase: "/api", ...signIn }));
        return;
      }
      if (opts.webDir && req.method === "GET") {
        const file = resolve(opts.webDir, `.${path === "/" ? "/index.html" : path}`);
        if (file.startsWith(resolve(opts.webDir)) && existsSync(file) && !file.endsWith("/")) {
          serveStatic(req, res, await readFile(file), MIME[extname(file)] ?? "application/octet-stream");
          return;
        }
        if (!extname(path)) {
          res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(await readFile(join(opts.webDir, "index.html")));
          return;
        }
      }
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "NotFound", message: `no route for ${path}` }));
    }

    // runtime.json is how the CLI (`events put`, `dlq`) finds this runtime: `url` is the bus's
    // PutEvents endpoint (as bus.listen() wrote it), the rest is for people and restarts.
    writeFileSync(join(dataDir, "runtime.json"), JSON.stringify({ url: busHttp.url, web: url, apiBase, s3: s3.url, bus: busHttp.url, receiver: receiver.url, pid: process.pid }, null, 2), { mode: 0o600 });
    // Kept after a stop (runtime.json is removed then): the next start reuses these ports.
    writeFileSync(join(dataDir, "ports.json"), JSON.stringify({ web: url, s3: s3.url, receiver: receiver.url }), { mode: 0o600 });
    logger.info("runtime started", { url, s3: s3.url, bus: busHttp.url, receiver: receiver.url, dataDir });
    starting = false;

    return {
      stats,
      onInvocation(listener) {
        invocationListeners.add(listener);
        return () => invocationListeners.delete(listener);
      },
      subscriptions: busSubscriptions.map(({ invoke: _invoke, ...rest }) => rest),
      dataDir,
      url,
      apiBase,
      s3,
      bus,
      busUrl: busHttp.url,
      jobs,
      receiver,
      remotion,
      config,
      startupNotices,
      ...(videosTable.table ? { generatedVideos: videosTable.table } : {}),
      onProgress(listener) {
        progressListeners.add(listener);
        return () => progressListeners.delete(listener);
      },
      async close() {
        // Last started, first stopped: the schedules and the bus stop delivering before the
        // renderer, storage and the HTTP server go away.
        for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
        restoreUmask();
      },
    };
  } catch (err) {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
    restoreUmask();
    throw err;
  }
}

/** The job an invoked event concerns: a pipeline event's metadata, or an upload's key. */
function invocationJobId(e: unknown): string | undefined {
  const key = (e as { detail?: { object?: { key?: unknown } } } | null)?.detail?.object?.key;
  return eventJobId(e) ?? (typeof key === "string" ? uploadKeyJobId(key) : undefined);
}

function previousPorts(dataDir: string): { http?: number; s3?: number; receiver?: number } {
  try {
    const prev = JSON.parse(readFileSync(join(dataDir, "ports.json"), "utf8")) as { web?: string; s3?: string; receiver?: string };
    const port = (u: string | undefined) => (u ? Number(new URL(u).port) || undefined : undefined);
    return { http: port(prev.web), s3: port(prev.s3), receiver: port(prev.receiver) };
  } catch {
    return {};
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const probe = createServer();
    probe.once("error", () => ok(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => ok(true)));
  });
}

/** Listens on the asked port (an error if taken), else the previous run's, else any free port. */
async function listenPreferring(server: Server, asked: number | undefined, previous: number | undefined): Promise<void> {
  const attempt = (port: number) =>
    new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", fail);
        ok();
      });
    });
  if (asked) return attempt(asked);
  if (previous) {
    try {
      return await attempt(previous);
    } catch {
      // Taken by something else now: any free port (renders in flight get fresh URLs on retry).
    }
  }
  return attempt(0);
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".m4a": "audio/mp4",
  ".mp4": "video/mp4",
  ".jpg": "image/jpeg",
};

/**
 * A static file of the web client, with single byte ranges as S3 and CloudFront answer them:
 * the live preview's music (remotion/public/music) is played by a media element, which can
 * only seek (and Remotion's Player only loop it) when the server honours Range.
 */
function serveStatic(req: IncomingMessage, res: ServerResponse, body: Buffer, type: string): void {
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  if (m && (m[1] || m[2])) {
    const size = body.length;
    // "a-b", "a-" (to the end) or "-n" (the last n bytes).
    const start = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]));
    const end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (start >= size || start > end) {
      res.writeHead(416, { "content-range": `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { "content-type": type, "accept-ranges": "bytes", "content-range": `bytes ${start}-${end}/${size}`, "content-length": end - start + 1 }).end(body.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { "content-type": type, "accept-ranges": "bytes", "content-length": body.length }).end(body);
}

