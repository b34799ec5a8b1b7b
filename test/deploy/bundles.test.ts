import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "@reelbridge/core/ports";
import type { EventBridgeEnvelope } from "@reelbridge/local/eventbridge/types";
import { createLocalBus } from "@reelbridge/local/eventbridge/index";
import type { LocalBus } from "@reelbridge/local/eventbridge/index";
import { createJobsTable, startLocalDynamo } from "@reelbridge/local/dynamo/index";
import type { LocalDynamo } from "@reelbridge/local/dynamo/index";
import { startLocalS3 } from "@reelbridge/local/s3/server";
import type { LocalS3 } from "@reelbridge/local/s3/server";
import { startFakeLtxServer } from "@reelbridge/testing/ltx-server";
import type { FakeLtxServer } from "@reelbridge/testing/ltx-server";
import { createLocalRemotion } from "@reelbridge/local/remotion-emulator/index";
import type { LocalRender } from "@reelbridge/local/remotion-emulator/index";
import { startRemotionLambdaApi } from "@reelbridge/local/remotion-emulator/lambda-api";
import type { RemotionLambdaApi } from "@reelbridge/local/remotion-emulator/lambda-api";
import { endpoints, schedules, subscriptions } from "@reelbridge/functions/topology";
import { stageConfig } from "@reelbridge/functions/stage-config";
import { DEFAULT_MUSIC_ID } from "@reelbridge/remotion/music";
import { functionsOf } from "../../stacks/lib/assembly";
import type { BuiltFunction } from "../../stacks/lib/assembly";
import { buildInfra } from "../../stacks/lib/build";
import { atTaskRoot, elfMachineOf, nativeFiles, unpack } from "./support/bundles";
import type { UnpackedBundle } from "./support/bundles";

/**
 * What is deployed is what is tested: SST's real build of the dev stage (stacks/lib/build.ts),
 * then every function's code asset unpacked into an empty directory and run by Node 24 with only
 * its template's environment, pointed at the local peers the way the SDKs allow (AWS_ENDPOINT_URL_*,
 * LTX_BASE_URL): local S3 (REST + presigned POST), the local bus over PutEvents, dynalite, the
 * fake LTX server, the Remotion emulator behind Lambda's Invoke API. One job goes through every
 * bundle, each doing its real work.
 */
const STAGE = "dev";
const config = stageConfig(STAGE);
const BUCKET = "smoke-reelbridge-media";
const BUS = "smoke-reelbridge";
const TABLE = "smoke-reelbridge-jobs";
const CREDS = { accessKeyId: "AKIASMOKETEST0000000", secretAccessKey: "smoke-secret-key-0123456789abcdefghijklmn" };
const SECRETS = { LTX_API_KEY: "ltx-smoke-key", REMOTION_WEBHOOK_SECRET: "remotion-smoke-secret", NOTIFY_WEBHOOK_SECRET: `whsec_${Buffer.from("smoke-notify-secret-32-bytes-long").toString("base64")}` };
const PHOTO = new URL("../../assets/sample/photo.jpg", import.meta.url).pathname;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const specs = [...subscriptions({ mediaBucket: BUCKET }), ...endpoints, ...schedules];
let work: string;
let s3: LocalS3;
let dynamo: LocalDynamo;
let bus: LocalBus;
let busUrl: string;
let ltx: FakeLtxServer;
let remotion: RemotionLambdaApi;
let emulatorClose: () => Promise<void>;
let hooks: Server;
let hooksUrl: string;
/** SQS's stand-in: the ChangeMessageVisibility calls a queued bundle makes (the LTX step's scheduled looks). */
let sqsApi: Server;
let sqsUrl: string;
const visibilityChanges: Array<{ target: string; body: Record<string, unknown> }> = [];
const webhooks: Array<{ headers: Record<string, string>; body: string }> = [];
const accepted: EventBridgeEnvelope[] = [];
const uploads: unknown[] = [];
const bundles = new Map<string, UnpackedBundle>();
let built: BuiltFunction[];

/** Where the local peers are, as the template's references resolve in AWS. */
const references = () => ({
  MEDIA_BUCKET: BUCKET,
  BUS_NAME: BUS,
  JOBS_TABLE: TABLE,
  RENDER_WEBHOOK_URL: `${hooksUrl}/remotion-webhook`,
  STATUS_API_URL: "https://status.smoke.example/",
});

function lambdaEnv(fn: BuiltFunction, dir: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LAMBDA_TASK_ROOT: dir,
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMB),
    AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: busUrl,
    AWS_ENDPOINT_URL_LAMBDA: remotion.url,
    AWS_ENDPOINT_URL_SQS: sqsUrl,
    LTX_BASE_URL: ltx.url,
    TMPDIR: mkdtempSync(join(work, "tmp-")),
    TZ: ":UTC",
  };
  const refs = references() as Record<string, string>;
  for (const [k, v] of Object.entries(fn.environment)) {
    if (typeof v === "string" && v === "__FETCH_FROM_SSM__") {
      // SST binds a secret as this placeholder and fetches it from SSM at cold start; its client
      // takes a literal value from the same variable (what `sst bind` does locally).
      const name = k.replace(/^SST_Secret_value_/, "") as keyof typeof SECRETS;
      if (!(name in SECRETS)) throw new Error(`function ${fn.logicalId}: unknown secret ${k}`);
      env[k] = SECRETS[name];
    } else if (typeof v === "string") env[k] = atTaskRoot(v, dir);
    else if (k in refs) env[k] = refs[k]!;
    else throw new Error(`function ${fn.logicalId}: environment ${k} is a CloudFormation reference the smoke test does not resolve: ${JSON.stringify(v)}`);
  }
  return env;
}

function bundle(name: string): UnpackedBundle {
  const b = bundles.get(name);
  if (!b) throw new Error(`no bundle for ${name}`);
  return b;
}

const sqs = (body: unknown, queue: string, receiveCount = 1) => ({
  Records: [{ messageId: `m-${queue}`, receiptHandle: "r", body: JSON.stringify(body), attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: "0", SenderId: "x", ApproximateFirstReceiveTimestamp: "0" }, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: `arn:aws:sqs:us-east-1:111122223333:${queue}`, awsRegion: "us-east-1" }],
});

const functionUrl = (method: string, path: string, opts: { body?: string; headers?: Record<string, string>; query?: string } = {}) => ({
  version: "2.0",
  routeKey: "$default",
  rawPath: path,
  rawQueryString: opts.query ?? "",
  headers: { "content-type": "application/json", ...opts.headers },
  requestContext: { accountId: "anonymous", apiId: "smoke", domainName: "smoke.lambda-url.us-east-1.on.aws", http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "smoke" }, requestId: "r", routeKey: "$default", stage: "$default", time: "", timeEpoch: Date.now() },
  ...(opts.body === undefined ? {} : { body: opts.body, isBase64Encoded: false }),
  isBase64Encoded: false,
});

const eventsOf = (detailType: string) => accepted.filter((e) => e["detail-type"] === detailType);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "smoke-peers-"));
  const outdir = join("infra.out", STAGE);
  await buildInfra({ stage: STAGE, outdir });
  built = functionsOf(outdir).filter((f) => f.handler.startsWith("packages/functions/"));

  s3 = await startLocalS3({ root: join(work, "blobs"), bucket: BUCKET, credentials: CREDS, onObjectCreated: (e) => void uploads.push(e), logger: quiet });
  dynamo = await startLocalDynamo({ dataDir: work });
  await createJobsTable(dynamo.client, TABLE);
  bus = createLocalBus({ dataDir: join(work, "bus"), buses: ["default", BUS], subscriptions: [], log: () => {} });
  bus.on("accepted", ({ event }) => void accepted.push(event));
  busUrl = (await bus.listen(0)).url;
  ltx = await startFakeLtxServer({ apiKey: SECRETS.LTX_API_KEY, allowIpHosts: true, allowHttp: true, pendingMs: 200, processingMs: 500, workDir: join(work, "ltx") });
  // Remotion Lambda's stand-in: renders a short real MP4 with FFmpeg instead of Chromium (the
  // render step's job is to start it; the renderer has its own tests).
  const render: LocalRender = async (o) => {
    execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=360x640:r=30:d=4", "-f", "lavfi", "-i", "sine=f=440:d=4", "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart", o.outputPath]);
    const sizeBytes = readFileSync(o.outputPath).byteLength;
    return { outputPath: o.outputPath, sizeBytes, durationSeconds: 4, width: 360, height: 640, fps: 30, timeToFinishMs: 10 };
  };
  const emulator = createLocalRemotion({ render, blobs: s3.blobStore, webhookSecret: "emulator-default", tmpDir: join(work, "renders"), webhookRetryDelayMs: () => 10 });
  emulatorClose = () => emulator.close();
  remotion = await startRemotionLambdaApi({ emulator, blobs: s3.blobStore, functionName: config.remotion.functionName, region: config.remotion.region, logger: quiet });
  // Remotion's webhook lands here; the test hands it to the render-webhook bundle as its Function URL would.
  hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      webhooks.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", r));
  hooksUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  // SQS (AWS JSON 1.0): records each call and answers it as SQS does an accepted one.
  sqsApi = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      visibilityChanges.push({ target: String(req.headers["x-amz-target"] ?? ""), body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown> });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
    });
  });
  await new Promise<void>((r) => sqsApi.listen(0, "127.0.0.1", r));
  sqsUrl = `http://127.0.0.1:${(sqsApi.address() as AddressInfo).port}`;

  for (const spec of specs) {
    const fn = built.find((f) => f.handler === spec.handler);
    if (fn) bundles.set(spec.name, unpack(spec.name, fn, lambdaEnv));
  }
}, 600_000);

afterAll(async () => {
  await emulatorClose?.();
  await remotion?.close();
  await ltx?.close();
  await new Promise<void>((r) => (sqsApi ? sqsApi.close(() => r()) : r()));
  await bus?.close();
  await dynamo?.close();
  await s3?.close();
  await new Promise<void>((r) => (hooks ? hooks.close(() => r()) : r()));
  for (const b of bundles.values()) rmSync(join(b.dir, ".."), { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the deployable bundles", () => {
  it("exist for every function of the topology, on nodejs24.x with the handler it names", () => {
    expect([...bundles.keys()].sort()).toEqual(specs.map((s) => s.name).sort());
    for (const b of bundles.values()) {
      expect(b.fn.runtime, b.name).toBe("nodejs24.x");
      expect(b.fn.inlineCode, `${b.name} still has SST's placeholder code`).toBeUndefined();
    }
    expect(process.version).toMatch(/^v24\./);
  });

  it("carry native code only where the topology says, built for the function's architecture", () => {
    for (const b of bundles.values()) {
      const spec = specs.find((s) => s.name === b.name)!;
      const natives = nativeFiles(b.dir);
      if (!spec.native?.length) {
        expect(natives, `${b.name} ships native files but declares none`).toEqual([]);
        continue;
      }
      expect(natives.length, b.name).toBeGreaterThan(0);
      for (const n of natives) expect(n.machine, `${b.name}: ${n.file} is for ELF machine ${n.machine}, not ${b.fn.architecture}`).toBe(elfMachineOf(b.fn.architecture));
    }
  });
});

describe("one job through every bundle, against the local peers", () => {
  let jobId: string;

  it("upload API: answers a presigned POST that the local S3 accepts", async () => {
    const body = JSON.stringify({ title: "Smoke test", subtitle: "from the bundles", cameraPrompt: "slow dolly in", music: DEFAULT_MUSIC_ID, aspect: "9:16", durationSeconds: 6, contentType: "image/jpeg", callbackUrl: "http://127.0.0.1:9/hook" });
    const { result } = await bundle("upload-api").invoke(functionUrl("POST", "/uploads", { body, headers: { origin: config.webOrigins[0]! } }));
    const res = result as { statusCode: number; body: string };
    expect(res.statusCode, res.body).toBe(201);
    const answer = JSON.parse(res.body) as { jobId: string; upload: { url: string; fields: Record<string, string> } };
    jobId = answer.jobId;
    expect(answer.upload.url.startsWith(s3.url)).toBe(true);
    const form = new FormData();
    for (const [k, v] of Object.entries(answer.upload.fields)) form.append(k, v);
    form.append("file", new Blob([readFileSync(PHOTO)], { type: "image/jpeg" }), "photo.jpg");
    const posted = await fetch(answer.upload.url, { method: "POST", body: form });
    expect(posted.status, await posted.text()).toBeLessThan(300);
    expect(uploads).toHaveLength(1);
  });

  it("LTX step: validates and normalises the photo with the shipped sharp, submits to LTX, hands the message back for each look, then stores base.mp4", async () => {
    const { result } = await bundle("ltx-step").invoke(sqs(uploads[0], "ltx-step"));
    // Submitted: the record goes back to the queue, visible again when the first look is due (30 s).
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "m-ltx-step" }] });
    expect(visibilityChanges[0]).toMatchObject({ target: "AmazonSQS.ChangeMessageVisibility", body: { VisibilityTimeout: 30, ReceiptHandle: "r", QueueUrl: "https://sqs.us-east-1.amazonaws.com/111122223333/ltx-step" } });
    expect(eventsOf("VideoBaseStarted")).toHaveLength(1);
    // SQS brings it back (sooner here than the 30 s asked): each receive is one look, until the clip is stored.
    let receives = 1;
    for (let last = result; JSON.stringify(last) !== JSON.stringify({ batchItemFailures: [] }); ) {
      if (++receives > 60) throw new Error(`the LTX step still had not finished after ${receives - 1} receives`);
      await new Promise((r) => setTimeout(r, 250));
      last = (await bundle("ltx-step").invoke(sqs(uploads[0], "ltx-step", receives))).result;
    }
    expect(ltx.counts()).toMatchObject({ accepted: 1, statusPolls: receives - 1 });
    const [ready] = eventsOf("VideoBaseReady");
    expect(ready, JSON.stringify(accepted.map((e) => [e["detail-type"], (e.detail as { data?: unknown }).data]))).toBeDefined();
    expect(ltx.requests.some((r) => r.route === "submit")).toBe(true);
    const head = await s3.blobStore.head(`jobs/${jobId}/base.mp4`);
    expect(head?.sizeBytes).toBeGreaterThan(1000);
  }, 240_000);

  it("render step: starts the render on Remotion Lambda's API with a signed webhook", async () => {
    const { result } = await bundle("render-step").invoke(sqs(eventsOf("VideoBaseReady")[0], "render-step"));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(eventsOf("RenderStarted")).toHaveLength(1);
    await waitFor(() => webhooks.length > 0, 60_000);
    expect(webhooks[0]!.headers["x-remotion-signature"]).toMatch(/^sha512=/);
  }, 120_000);

  it("render webhook: verifies Remotion's signature and announces RenderCompleted", async () => {
    const hook = webhooks[0]!;
    const ok = await bundle("render-webhook").invoke(functionUrl("POST", "/remotion-webhook", { body: hook.body, headers: hook.headers }));
    expect((ok.result as { statusCode: number }).statusCode).toBe(200);
    expect(eventsOf("RenderCompleted")).toHaveLength(1);
    const forged = await bundle("render-webhook").invoke(functionUrl("POST", "/remotion-webhook", { body: hook.body.replace(/"type":"success"/, '"type":"error"'), headers: hook.headers }));
    expect((forged.result as { statusCode: number }).statusCode).toBe(401);
  }, 60_000);

  it("segmenter: writes a playable HLS rendition, clips and poster with the shipped FFmpeg", async () => {
    const { result } = await bundle("segmenter").invoke(sqs(eventsOf("RenderCompleted")[0], "segmenter"));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(eventsOf("SegmentsReady")).toHaveLength(1);
    const playlist = join(work, "blobs", BUCKET, "jobs", jobId, "hls", "index.m3u8");
    const probe = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "json", playlist], { encoding: "utf8" })) as { format: { duration: string }; streams: Array<{ codec_name: string }> };
    expect(Number(probe.format.duration)).toBeGreaterThan(3);
    expect(probe.streams.map((s) => s.codec_name)).toContain("h264");
  }, 300_000);

  it("DB writer: records every event of the job", async () => {
    const db = bundle("db-writer");
    for (const e of accepted.filter((x) => x.source !== "aws.s3")) await db.invoke(e);
    const status = await bundle("status-api").invoke(functionUrl("GET", `/jobs/${jobId}`));
    const res = status.result as { statusCode: number; body: string };
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ jobId, status: "completed" });
  }, 120_000);

  it("status API: lists the job and answers 404 for another", async () => {
    const list = (await bundle("status-api").invoke(functionUrl("GET", "/jobs"))).result as { statusCode: number; body: string };
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(jobId);
    const missing = (await bundle("status-api").invoke(functionUrl("GET", "/jobs/01JZZZZZZZZZZZZZZZZZZZZZZZ"))).result as { statusCode: number };
    expect(missing.statusCode).toBe(404);
  }, 60_000);

  it("notifier: signs and refuses to call a loopback callback from AWS (SSRF guard), and says so", async () => {
    const { result } = await bundle("notifier").invoke(sqs(eventsOf("RenderCompleted")[0], "notifier"));
    expect(result).toEqual({ batchItemFailures: [] });
    const failed = eventsOf("NotificationFailed");
    expect(failed.length, JSON.stringify(accepted.map((e) => e["detail-type"]))).toBeGreaterThan(0);
    expect(JSON.stringify(failed[0]!.detail)).toMatch(/loopback|private|blocked|https/i);
  }, 60_000);

  it("render watchdog: runs its schedule against the job table and Remotion's progress API", async () => {
    const { result } = await bundle("render-watchdog").invoke({ version: "0", id: "w", "detail-type": "Scheduled Event", source: "aws.events", account: "111122223333", time: new Date().toISOString(), region: "us-east-1", resources: [], detail: {} });
    expect(result).toMatchObject({ checked: expect.any(Number) });
  }, 60_000);
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}
