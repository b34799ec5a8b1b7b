import { createSign, generateKeyPairSync } from "node:crypto";
import { createLocalJWKSet } from "@reelbridge/testing/jose";
import { S3Client } from "@aws-sdk/client-s3";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { BlobNotFoundError, createMemoryPublisher } from "@reelbridge/core";
import type { JobStore } from "@reelbridge/core";
import { createDynamoJobStore } from "@reelbridge/core/adapters/aws/dynamodb-job-store";
import { createS3UploadSigner } from "@reelbridge/core/adapters/aws/s3-upload-signer";
import { encodeCursor } from "@reelbridge/core/jobs/errors";
import { createMemoryJobStore } from "@reelbridge/core/jobs/memory";
import { createMemoryRenderIndex, signRemotionWebhook } from "@reelbridge/core/render/index";
import { createJwtVerifier, openCaller } from "@reelbridge/core/upload/auth";
import type { CallerVerifier } from "@reelbridge/core/upload/auth";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";
import { MUSIC_IDS } from "@reelbridge/remotion/music";
import completedSample from "@reelbridge/events/samples/v1/RenderCompleted.json";
import readySample from "@reelbridge/events/samples/v1/VideoBaseReady.json";
import segmentsSample from "@reelbridge/events/samples/v1/SegmentsReady.json";
import { createMemoryBlobStore } from "@reelbridge/testing/memory-blob-store";
import { createMemoryStepStateStore } from "@reelbridge/testing/memory-step-state";
import * as renderWebhook from "../../src/render-webhook";
import * as statusApi from "../../src/status-api";
import * as uploadApi from "../../src/upload-api";

/**
 * Issue #11, item 6: no input a client can send yields a 5xx. Every HTTP handler gets many
 * generated hostile requests (Function URL–shaped events: paths, query strings, headers,
 * bodies) and must answer each with a status below 500 and, unless it is a 204 or the HLS
 * playlist, a JSON body; error bodies name the error.
 *
 * The generator is seeded: a failure prints its seed and case number, and
 * `FUZZ_SEED=<seed> FUZZ_CASES=<n>` replays (or widens) the run.
 */

process.env.LOG_LEVEL = "SILENT";

const SEED = Number(process.env.FUZZ_SEED ?? 0x11_2026);
const CASES = Number(process.env.FUZZ_CASES ?? 300);

const JOB = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
const ORIGIN = "https://reelbridge.example.com";
const ISSUER = "https://auth.example.com/";
const AUDIENCE = "reelbridge-api";
const SECRET = "whsec-fuzz";
const PLAYLIST = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.000000,\nsegment-000.ts\n#EXT-X-ENDLIST\n";

// ---- a small seeded generator ---------------------------------------------------------------

/** mulberry32: tiny, fast, and the same sequence for the same seed on every platform. */
function rngOf(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof rngOf>;

const b64url = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** Characters that break naive code: NUL, controls, quotes, slashes, RTL, emoji, lone surrogates. */
const NASTY_CHARS = ["\0", "\n", "\r", "\t", "\x7f", '"', "'", "\\", "/", "%", "?", "#", "&", "=", "+", " ", "\u202e", "\ufeff", "é", "世", "👋", "\ud800", "\udfff", "<", ">", "{", "}", "[", "]", ","];

function nastyString(r: Rng, maxLen = 40): string {
  const n = r.int(maxLen + 1);
  let s = "";
  for (let i = 0; i < n; i++) s += r.chance(0.5) ? r.pick(NASTY_CHARS) : String.fromCharCode(0x20 + r.int(0x5f));
  return s;
}

function huge(r: Rng): string {
  return r.pick(["A", "%", "/", "é", "\0", "%41", "a/"]).repeat(r.pick([1024, 8192, 65_536, 300_000]));
}

/** Percent-encoding, valid and not: truncated sequences, overlong UTF-8, encoded surrogates, NUL. */
const BAD_PERCENT = ["%", "%%", "%E0%A4%A", "%E0%A4", "%zz", "%G0", "%C0%AF", "%ED%A0%80", "%FF", "%00", "%2F", "%2e%2e", "%u0041", "%F0%9F%98", "%C3%28", "%1"];

function pathSegment(r: Rng): string {
  switch (r.int(8)) {
    case 0:
      return JOB;
    case 1:
      return encodeURIComponent(JOB).replace("J", "%4A");
    case 2:
      return r.pick(BAD_PERCENT) + (r.chance(0.5) ? JOB : "");
    case 3:
      return JOB.slice(0, r.int(26)) + r.pick(BAD_PERCENT);
    case 4:
      return nastyString(r);
    case 5:
      return huge(r);
    case 6:
      return r.pick(["..", ".", "", "%2e%2e%2f", "jobs", "hls", "index.m3u8", "01JD7X8Q2RZ4V6N3K5M9P1T0A!", "01jd7x8q2rz4v6n3k5m9p1t0ab"]);
    default:
      return pctEncode(nastyString(r));
  }
}

/** Percent-encodes every byte of the UTF-8 (lone surrogates become U+FFFD, as on the wire). */
const pctEncode = (s: string) => [...Buffer.from(s, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join("");

function path(r: Rng): string {
  const seg = () => pathSegment(r);
  switch (r.int(10)) {
    case 0:
      return `/jobs/${seg()}`;
    case 1:
      return `/jobs/${seg()}/`;
    case 2:
      return `/jobs/${seg()}/hls/index.m3u8`;
    case 3:
      return r.pick(["/jobs", "/jobs/", "/uploads", "/uploads/", "/remotion-webhook", "/", ""]);
    case 4:
      return `/uploads${r.pick(["", "/", "//", "/x", `/${seg()}`])}`;
    case 5:
      return `/${seg()}/${seg()}`;
    case 6:
      return `${"/".repeat(r.pick([2, 100, 10_000]))}${r.pick(["uploads", "jobs", "x"])}`;
    case 7:
      return huge(r);
    case 8:
      return `/jobs/${JOB}${r.pick(["/hls", "/hls/", "/hls/index.m3u8/", "/hls/%69ndex.m3u8", "/../..", "/%2e%2e/secrets"])}`;
    default:
      return `/${seg()}`;
  }
}

/** Cursors: not base64url, base64url of non-JSON, JSON of the wrong shape, empty fields, huge. */
function cursor(r: Rng): string {
  const owner = r.pick(["anonymous", "user_2f9a", "", "someone-else"]);
  const emptyField = () => r.pick(["pk", "sk", "gsi1pk", "gsi1sk"]);
  switch (r.int(12)) {
    case 0:
      return "";
    case 1:
      return nastyString(r);
    case 2:
      return b64url(nastyString(r));
    case 3:
      return b64url(r.pick([null, 1, "x", [], [1, 2], true, {}, { a: 1 }]));
    case 4:
      return b64url({ owner, after: r.pick(["", "x", 1, null, "2026-11-20T00:00:00.000Z#" + JOB]) });
    case 5: {
      const c: Record<string, unknown> = { pk: `JOB#${JOB}`, sk: "JOB", gsi1pk: `OWNER#${owner}`, gsi1sk: `2026-11-20T00:00:00.000Z#${JOB}` };
      c[emptyField()] = "";
      return b64url(c);
    }
    case 6:
      return b64url({ pk: `JOB#${JOB}`, sk: "JOB", gsi1pk: "OWNER#anonymous", gsi1sk: "x".repeat(r.pick([1025, 1500])) });
    case 7:
      return b64url({ pk: 1, sk: { S: "x" }, gsi1pk: "OWNER#anonymous", gsi1sk: ["a"] });
    case 8:
      return "A".repeat(r.pick([2048, 2049, 100_000]));
    case 9:
      return `${b64url({ owner: "anonymous", after: "z" })}=`;
    case 10:
      return b64url({ owner: "anonymous", after: "\0".repeat(r.int(5)) });
    default:
      return b64url({ pk: `JOB#${JOB}`, sk: "JOB", gsi1pk: "OWNER#anonymous", gsi1sk: `2026-11-20T00:00:00.000Z#${JOB}` });
  }
}

function query(r: Rng): Record<string, string> | undefined {
  if (r.chance(0.2)) return undefined;
  const q: Record<string, string> = {};
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    const key = r.pick(["cursor", "limit", "cursor", "limit", nastyString(r, 8), "__proto__", "constructor", ""]);
    const value =
      key === "cursor"
        ? cursor(r)
        : key === "limit"
          ? r.pick(["0", "1", "-1", "50", "100", "101", "999", "1000", "1e2", "0x10", " 5", "5 ", "", "NaN", "Infinity", "9".repeat(400), nastyString(r, 5)])
          : nastyString(r);
    // A Function URL joins a repeated parameter's values with commas.
    q[key] = key in q ? `${q[key]},${value}` : value;
  }
  return q;
}

const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
function jwt(r: Rng): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = r.pick([
    { sub: "user_2f9a" },
    { sub: "" },
    { sub: 42 },
    { sub: "x".repeat(300) },
    { sub: "user\0nul" },
    { sub: "user_2f9a", exp: now - 3600 },
    { sub: "user_2f9a", aud: "someone-else" },
    {},
  ]);
  const header = r.pick([{ alg: "ES256", typ: "JWT", kid: "k1" }, { alg: "ES256", typ: "JWT" }, { alg: "ES256", kid: "other" }, { alg: "none", typ: "JWT" }, { alg: "HS256" }, { alg: "RS256", kid: "k1" }, { alg: "ES512" }, { alg: "ES256", crit: ["x"] }]);
  const input = `${b64url(header)}.${b64url({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims })}`;
  const sig = createSign("SHA256").update(input).sign({ key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url");
  return `${input}.${r.pick([sig, "", sig.slice(1), "AAAA", nastyString(r)])}`;
}

function headers(r: Rng, body: string): Record<string, string> {
  const h: Record<string, string> = {};
  // Function URLs lower-case header names; the test also sends mixed case, as other callers do.
  const name = (n: string) => (r.chance(0.8) ? n : n.toUpperCase());
  if (r.chance(0.7)) h[name("host")] = r.pick(["abc123.lambda-url.eu-west-1.on.aws", "", "evil.example:99999", "a b", nastyString(r), huge(r)]);
  if (r.chance(0.5)) h[name("x-forwarded-proto")] = r.pick(["https", "http", "javascript", "", nastyString(r)]);
  if (r.chance(0.6)) h[name("origin")] = r.pick([ORIGIN, "https://evil.example", "null", "", nastyString(r), huge(r)]);
  if (r.chance(0.7)) {
    h[name("authorization")] = r.pick([
      `Bearer ${jwt(r)}`,
      `Bearer ${jwt(r)}`,
      "Bearer token-for:user_2f9a",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      `Bearer ${huge(r)}`,
      `Bearer ${nastyString(r)}`,
      "Bearer a.b.c",
      "Bearer ...",
      nastyString(r),
    ]);
  }
  if (r.chance(0.6)) h[name("content-type")] = r.pick(["application/json", "text/plain", "application/x-www-form-urlencoded", "", nastyString(r)]);
  if (r.chance(0.6)) {
    h[name("x-remotion-signature")] = r.pick([
      signRemotionWebhook(SECRET, body),
      signRemotionWebhook(SECRET, body),
      `sha512=${"0".repeat(128)}`,
      `sha512=${"g".repeat(128)}`,
      "sha512=",
      "NO_SECRET_PROVIDED",
      `sha512=${"ab".repeat(r.int(200))}`,
      nastyString(r),
    ]);
  }
  if (r.chance(0.3)) h[name(nastyString(r, 10) || "x-empty")] = nastyString(r);
  return h;
}

function deepJson(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

/** Bodies: none, not JSON, JSON of every wrong type, the right shape with wrong values. */
function body(r: Rng): string | undefined {
  const upload = UPLOAD;
  const field = () => r.pick(Object.keys(upload));
  const wrong = () => r.pick<unknown>([null, 0, -1, 1e308, 1.5, "", "x".repeat(r.pick([300, 70_000])), [], {}, true, nastyString(r), "\0", { $gt: "" }, ["9:16"]]);
  switch (r.int(16)) {
    case 0:
      return undefined;
    case 1:
      return "";
    case 2:
      return r.pick(["null", "[]", "1", '"str"', "true", "{", "}", '{"a":', "\0", "\ufeff{}", "{}", "[1,2", "NaN"]);
    case 3:
      return JSON.stringify({ ...upload, [field()]: wrong() });
    case 4: {
      const u: Record<string, unknown> = { ...upload };
      delete u[field()];
      return JSON.stringify(u);
    }
    case 5:
      return JSON.stringify({ ...upload, __proto__: { admin: true }, constructor: { prototype: 1 }, extra: wrong() });
    case 6:
      return deepJson(r.pick([100, 5000, 100_000]));
    case 7:
      return huge(r);
    case 8:
      return JSON.stringify({ ...upload, title: nastyString(r, 300), subtitle: nastyString(r, 300), cameraPrompt: nastyString(r, 600) });
    case 9:
      return JSON.stringify(wrong());
    case 10:
      return JSON.stringify({ type: r.pick(["success", "error", "timeout", "other", 1]), renderId: r.pick(["r1", "", 1, null]), customData: r.pick([{ jobId: JOB }, { jobId: "../x" }, null, "x", []]), errors: r.pick([[], null, [{}], "x"]) });
    case 11:
      return nastyString(r, 200);
    case 12:
      return JSON.stringify({ ...upload, durationSeconds: r.pick([0, -6, 6.5, 1e9, "6", null]) });
    case 13:
      return `${JSON.stringify(upload)}${nastyString(r, 5)}`;
    case 14:
      return JSON.stringify({ ...upload, aspect: r.pick(["1:1", "9:16\0", "", "16:9 ", 916]) });
    default:
      return JSON.stringify(upload);
  }
}

const UPLOAD = { title: "t", subtitle: "s", cameraPrompt: "slow dolly in", music: MUSIC_IDS[0], aspect: "9:16", durationSeconds: 6, contentType: "image/jpeg" };
const WEBHOOK_PAYLOAD = { type: "success", renderId: "r1", bucketName: "remotionlambda-x", expectedBucketOwner: "1", customData: { jobId: JOB }, lambdaErrors: [], timeToFinish: 1000 };

const METHODS = ["GET", "GET", "POST", "POST", "OPTIONS", "PUT", "DELETE", "HEAD", "PATCH", "get", "", "G\0ET", "CONNECT"];

/** A handler's own routes: half the cases aim there, so they get past routing into the use-case. */
interface Target {
  routes: ReadonlyArray<{ method: string; path: (r: Rng) => string }>;
  /** A body the route accepts, which the cases aimed at the route sometimes send. */
  valid: () => string;
}

function fuzzEvent(r: Rng, target: Target): APIGatewayProxyEventV2 {
  const aimed = r.chance(0.5) ? r.pick(target.routes) : undefined;
  const method = aimed && r.chance(0.8) ? aimed.method : r.pick(METHODS);
  const rawPath = aimed ? aimed.path(r) : path(r);
  const q = query(r);
  const raw = aimed && r.chance(0.3) ? target.valid() : body(r);
  // base64 flag: on a real binary body, or on something that is not base64 at all.
  const b64 = r.chance(0.2);
  const encoded =
    raw === undefined ? undefined : !b64 ? raw : r.pick([Buffer.from(raw, "utf8").toString("base64"), raw, `${Buffer.from(raw, "utf8").toString("base64")}!`, "====", "Zm9v=YmFy", Buffer.from([0xff, 0xfe, 0x00, 0xc3]).toString("base64")]);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: q ? Object.entries(q).map(([k, v]) => `${k}=${v}`).join("&") : "",
    headers: headers(r, raw ?? ""),
    ...(q ? { queryStringParameters: q } : {}),
    requestContext: {
      accountId: "anonymous",
      apiId: "abc123",
      domainName: "abc123.lambda-url.eu-west-1.on.aws",
      domainPrefix: "abc123",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "fuzz" },
      requestId: "fuzz",
      routeKey: "$default",
      stage: "$default",
      time: "20/Nov/2026:10:00:00 +0000",
      timeEpoch: 1_795_000_000_000,
    },
    ...(encoded !== undefined ? { body: encoded } : {}),
    isBase64Encoded: b64,
  };
}

// ---- the handlers, with deps built the way their unit tests build them ---------------------------

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

const memoryJobs = createMemoryJobStore();

/**
 * The real DynamoDB job store over a client that answers like DynamoDB: a start key with an
 * empty or oversized key attribute is a ValidationException (that is what made the empty-field
 * cursor a 500); otherwise an empty page.
 */
function dynamoLikeJobs(): JobStore {
  const client = {
    send: async (command: { input: { ExclusiveStartKey?: Record<string, unknown> } }) => {
      const start = command.input.ExclusiveStartKey;
      if (start && Object.values(start).some((v) => v === "" || (typeof v === "string" && Buffer.byteLength(v) > 1024))) {
        throw Object.assign(new Error("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value."), { name: "ValidationException" });
      }
      return { Items: [] };
    },
  } as unknown as DynamoDBDocumentClient;
  return createDynamoJobStore(client, { table: "jobs" });
}

// The key set as a stage's JWKS serves it (jose's own key selection by alg, kty, crv and kid):
// a resolver that hands back one key whatever the token's alg would make an HS256 or ES512
// token a TypeError inside jose, which no real JWKS produces. jose is core's dependency (@reelbridge/testing hands on its key set).
const jwks = createLocalJWKSet({ keys: [{ ...publicKey.export({ format: "jwk" }), alg: "ES256", kid: "k1", use: "sig" }] });
const jwtCaller = createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: jwks });

function statusHandler(auth: CallerVerifier, jobs: JobStore = memoryJobs): Handler {
  const deps: statusApi.Deps = {
    jobs,
    blobs: {
      presignGet: async (key, o) => `https://media.example/${key}?X-Amz-Expires=${o.expiresInSeconds}`,
      get: async (key) => {
        if (key !== `jobs/${JOB}/hls/index.m3u8`) throw new BlobNotFoundError(key);
        return { bytes: new TextEncoder().encode(PLAYLIST), sizeBytes: PLAYLIST.length, metadata: {} };
      },
    },
    clock: { now: () => new Date("2026-11-20T12:00:00.000Z") },
    auth,
    webOrigins: [ORIGIN],
  };
  return statusApi.createHandler(async () => deps) as unknown as Handler;
}

function uploadHandler(caller: CallerVerifier): Handler {
  const deps: uploadApi.Deps = {
    signer: createS3UploadSigner(new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "secret" } }), { bucket: "media" }),
    caller,
    clock: { now: () => new Date("2026-11-20T10:00:00.000Z") },
    newJobId: () => JOB,
    musicIds: MUSIC_IDS,
    maxBytes: 15 * 1024 * 1024,
    expiresInSeconds: 600,
    webOrigins: [ORIGIN],
    quote: { ltx: { provider: "ltx", model: "ltx-2-fast" } },
  };
  return uploadApi.createHandler(async () => deps) as unknown as Handler;
}

function webhookHandler(): Handler {
  const deps: renderWebhook.Deps = {
    secret: SECRET,
    state: createMemoryStepStateStore(),
    publisher: createMemoryPublisher(),
    blobs: createMemoryBlobStore({ bucket: "reelbridge-prod-media" }),
    clock: { now: () => new Date("2026-11-20T10:02:20Z") },
    index: createMemoryRenderIndex(),
  };
  return renderWebhook.createHandler(async () => deps) as unknown as Handler;
}

beforeAll(async () => {
  // A job with a base clip, a final video and HLS segments, so the job and playlist routes run.
  for (const s of [readySample, completedSample, segmentsSample]) {
    const e = pipelineEvents[s["detail-type"] as DetailType].event.parse(structuredClone(s)) as PipelineEvent<DetailType>;
    await memoryJobs.apply(e);
  }
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function send(handler: Handler, event: APIGatewayProxyEventV2): Promise<Answer> {
  const res = (await handler(event, {} as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode ?? 200, headers: (res.headers ?? {}) as Record<string, string>, body: String(res.body ?? "") };
}

/** Why this answer breaks the contract, or undefined when it keeps it. */
function violation(a: Answer): string | undefined {
  if (!(a.status >= 200 && a.status < 500)) return `status ${a.status}: ${a.body.slice(0, 200)}`;
  if (a.status === 204) return a.body === "" ? undefined : "204 with a body";
  const type = a.headers["content-type"] ?? "";
  if (a.status === 200 && type.startsWith("application/vnd.apple.mpegurl")) return a.body.startsWith("#EXTM3U") ? undefined : "playlist that is not one";
  if (!type.startsWith("application/json")) return `content-type ${type || "(none)"}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(a.body);
  } catch {
    return `body is not JSON: ${a.body.slice(0, 100)}`;
  }
  if (a.status >= 400 && typeof (parsed as { error?: unknown } | null)?.error !== "string") return `error body without an error name: ${a.body.slice(0, 200)}`;
  return undefined;
}

const describeEvent = (e: APIGatewayProxyEventV2) =>
  JSON.stringify({ method: e.requestContext.http.method, rawPath: e.rawPath, query: e.queryStringParameters, headers: e.headers, body: e.body, isBase64Encoded: e.isBase64Encoded }, (_k, v: unknown) =>
    typeof v === "string" && v.length > 120 ? `${v.slice(0, 120)}…(${v.length} chars)` : v,
  );

const STATUS_ROUTES: Target = {
  routes: [
    { method: "GET", path: () => "/jobs" },
    { method: "GET", path: () => `/jobs/${JOB}` },
    { method: "GET", path: () => `/jobs/${JOB}/hls/index.m3u8` },
    { method: "GET", path: (r) => `/jobs/${pathSegment(r)}` },
    { method: "GET", path: (r) => `/jobs/${pathSegment(r)}/hls/index.m3u8` },
  ],
  valid: () => "",
};
const UPLOAD_ROUTES: Target = { routes: [{ method: "POST", path: () => "/uploads" }], valid: () => JSON.stringify(UPLOAD) };
const WEBHOOK_ROUTES: Target = { routes: [{ method: "POST", path: () => "/remotion-webhook" }], valid: () => JSON.stringify(WEBHOOK_PAYLOAD) };

async function fuzz(name: string, handler: Handler, target: Target, salt: number) {
  const seed = (SEED ^ salt) >>> 0;
  const r = rngOf(seed);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  for (let i = 0; i < CASES; i++) {
    const event = fuzzEvent(r, target);
    let problem: string | undefined;
    try {
      const a = await send(handler, event);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      problem = violation(a);
    } catch (err) {
      problem = `handler threw: ${(err as Error).message}`;
    }
    if (problem) failures.push(`${name} seed=${seed} case=${i}: ${problem}\n  ${describeEvent(event)}`);
  }
  expect(failures.slice(0, 10)).toEqual([]);
  // The generator reaches the handler's happy paths and its refusals, not only 404s.
  return statuses;
}

describe("HTTP fuzz: no input a client can send yields a 5xx", () => {
  it("status API, open stage", async () => {
    const statuses = await fuzz("status-api/open", statusHandler(openCaller), STATUS_ROUTES, 1);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 400, 404]));
  });

  it("status API, JWT stage", async () => {
    const statuses = await fuzz("status-api/jwt", statusHandler(jwtCaller), STATUS_ROUTES, 2);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([401, 404]));
  });

  it("status API over the DynamoDB job store", async () => {
    const statuses = await fuzz("status-api/dynamo", statusHandler(openCaller, dynamoLikeJobs()), STATUS_ROUTES, 3);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 400]));
  });

  it("upload API, open stage", async () => {
    const statuses = await fuzz("upload-api/open", uploadHandler(openCaller), UPLOAD_ROUTES, 4);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([201, 400, 404, 405]));
  });

  it("upload API, JWT stage", async () => {
    const statuses = await fuzz("upload-api/jwt", uploadHandler(jwtCaller), UPLOAD_ROUTES, 5);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([401]));
  });

  it("render webhook", async () => {
    const statuses = await fuzz("render-webhook", webhookHandler(), WEBHOOK_ROUTES, 6);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 400, 401]));
  });
});

describe("HTTP boundary errors are 4xx with a JSON reason", () => {
  const event = (method: string, rawPath: string, opts: { query?: Record<string, string>; body?: string; base64?: boolean; origin?: string } = {}): APIGatewayProxyEventV2 =>
    ({
      version: "2.0",
      routeKey: "$default",
      rawPath,
      rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
      headers: { host: "abc123.lambda-url.eu-west-1.on.aws", ...(opts.origin ? { origin: opts.origin } : {}) },
      ...(opts.query ? { queryStringParameters: opts.query } : {}),
      requestContext: { http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "test" } },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      isBase64Encoded: !!opts.base64,
    }) as unknown as APIGatewayProxyEventV2;
  const json = (a: Answer) => JSON.parse(a.body) as { error: string; message: string };

  it.each(["/jobs/%E0%A4%A", "/jobs/%", "/jobs/%E0%A4%A/hls/index.m3u8", "/jobs/abc%zz"])("GET %s (malformed percent-encoding) is 400 InvalidPath", async (p) => {
    const a = await send(statusHandler(openCaller), event("GET", p, { origin: ORIGIN }));
    expect(a.status).toBe(400);
    expect(json(a)).toMatchObject({ error: "InvalidPath", message: expect.stringContaining("percent-encoding") });
    // Still readable by the browser that asked.
    expect(a.headers["access-control-allow-origin"]).toBe(ORIGIN);
  });

  it.each(["pk", "sk", "gsi1pk", "gsi1sk"])("a list cursor with an empty %s is 400 InvalidCursor, whichever store answers", async (field) => {
    const c: Record<string, string> = { pk: `JOB#${JOB}`, sk: "JOB", gsi1pk: "OWNER#anonymous", gsi1sk: `2026-11-20T00:00:00.000Z#${JOB}` };
    c[field] = "";
    for (const jobs of [dynamoLikeJobs(), memoryJobs]) {
      const a = await send(statusHandler(openCaller, jobs), event("GET", "/jobs", { query: { cursor: encodeCursor(c) } }));
      expect(a.status).toBe(400);
      expect(json(a).error).toBe("InvalidCursor");
    }
  });

  it("a cursor the store refuses for a reason the shape check cannot see is still 400 InvalidCursor", async () => {
    const c = { pk: `JOB#${JOB}`, sk: "JOB", gsi1pk: "OWNER#anonymous", gsi1sk: "x".repeat(1000) + "é".repeat(20) };
    const a = await send(statusHandler(openCaller, dynamoLikeJobs()), event("GET", "/jobs", { query: { cursor: encodeCursor(c) } }));
    expect(a.status).toBe(400);
    expect(json(a).error).toBe("InvalidCursor");
  });

  it("a body flagged base64 that is not base64 is 400 InvalidBody, CORS headers included", async () => {
    const a = await send(uploadHandler(openCaller), event("POST", "/uploads", { body: "{not base64!}", base64: true, origin: ORIGIN }));
    expect(a.status).toBe(400);
    expect(json(a).error).toBe("InvalidBody");
    expect(a.headers["access-control-allow-origin"]).toBe(ORIGIN);
    const w = await send(webhookHandler(), event("POST", "/remotion-webhook", { body: "@@@@", base64: true }));
    expect(w.status).toBe(400);
    expect(json(w).error).toBe("InvalidBody");
  });

  it("an error message echoes at most a bounded part of the path", async () => {
    const a = await send(statusHandler(openCaller), event("GET", `/${"x".repeat(100_000)}`));
    expect(a.status).toBe(404);
    expect(a.body.length).toBeLessThan(1000);
  });
});
