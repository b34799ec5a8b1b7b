import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Transform } from "node:stream";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { S3Client } from "@aws-sdk/client-s3";
import type { S3ObjectCreatedEvent } from "@reelbridge/events";
import type { Clock, Logger } from "@reelbridge/core";
import { assertSafeKey, createFileBlobStore } from "@reelbridge/core/adapters/local/file-blob-store";
import type { FileBlobStore } from "@reelbridge/core/adapters/local/file-blob-store";
import { createS3UploadSigner } from "@reelbridge/core/adapters/aws/s3-upload-signer";
import type { UploadSigner } from "@reelbridge/core/upload/ports";
import { S3Error, errorXml, xmlElements } from "./errors";
import { encodeEventKey, objectCreatedEvent } from "./events";
import { checkContentLength, verifyPostFields } from "./policy";
import type { PostCredentials, VerifiedPost } from "./policy";
import { MAX_PUT_OBJECT_BYTES, createRestApi, unsafeKeyError } from "./rest";
import { claimsSigV4, parseQuery } from "./sigv4";

export { parseRange } from "./rest";

/**
 * The local runtime's S3: an HTTP endpoint that accepts exactly the presigned POST `{url, fields}`
 * a browser gets from the upload API and enforces S3's POST-policy rules (signature, expiry, key,
 * content-length-range, content type, metadata, extra fields), answering violations with S3's
 * status codes and XML errors and storing nothing. A stored upload emits the "Object Created"
 * event as EventBridge delivers it. It also serves the file blob store's presigned GET URLs, with
 * Range requests (video players and Remotion need them) and HEAD.
 *
 * SigV4-signed requests (Authorization header or presigned query) get the S3 REST API the AWS
 * adapters use (rest.ts), so built Lambda bundles can run against it with
 * AWS_ENDPOINT_URL_S3=http://127.0.0.1:<port>: an IP-literal endpoint makes the SDK use
 * path-style URLs; `<bucket>.localhost` virtual-host requests are accepted too.
 */
export interface LocalS3Options {
  /** Directory the file blob store keeps objects in. */
  root: string;
  bucket: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The keys the signer signs with and the endpoint accepts. */
  credentials: PostCredentials;
  region?: string;
  /** Account id reported in events (default 000000000000). */
  account?: string;
  /**
   * Called once per stored upload with the S3 "Object Created" event (after the object is in
   * place): every browser POST, and REST PutObjects under `putEventPrefixes`.
   */
  onObjectCreated?: (event: S3ObjectCreatedEvent) => void | Promise<void>;
  /**
   * Key prefixes whose REST PutObject emits "Object Created" (default ["uploads/"], where the
   * pipeline's only S3 rule listens). S3 emits for every PutObject; the local runtime keeps the
   * pipeline's own writes under jobs/ and assets/ quiet, as it always has.
   */
  putEventPrefixes?: readonly string[];
  /** Largest PutObject body accepted (default 5 GiB, S3's single-PUT limit). */
  maxObjectBytes?: number;
  /** Origins allowed to POST and GET from a browser ("*" for any). */
  corsOrigins?: readonly string[];
  /** HMAC key of presigned GET URLs (defaults to one derived from the secret key). */
  signingKey?: string;
  /** Time as the endpoint sees it (policy expiry, GET URL expiry). */
  clock?: Clock;
  logger?: Logger;
}

export interface LocalS3 {
  /** Base URL, e.g. http://127.0.0.1:4566 (path-style: objects at /<bucket>/<key>). */
  url: string;
  bucket: string;
  region: string;
  blobStore: FileBlobStore;
  /** The AWS presigned-POST signer, pointed at this endpoint. */
  signer: UploadSigner;
  /** An S3Client configured for this endpoint (the signer's). */
  client: S3Client;
  close(): Promise<void>;
}

const ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"];
const EXPOSED_HEADERS = "ETag, Location, Content-Length, Content-Range, Accept-Ranges, x-amz-request-id";

export async function startLocalS3(opts: LocalS3Options): Promise<LocalS3> {
  const region = opts.region ?? "us-east-1";
  const account = opts.account ?? "000000000000";
  const host = opts.host ?? "127.0.0.1";
  const clock = opts.clock ?? { now: () => new Date() };
  const cors = opts.corsOrigins ?? [];
  const signingKey = opts.signingKey ?? createHash("sha256").update(`reelbridge-local-get:${opts.credentials.secretAccessKey}`).digest("hex");
  // Known once the server listens (the port may be picked by the OS).
  const state: { store?: FileBlobStore; baseUrl: string } = { baseUrl: "" };
  const putEventPrefixes = opts.putEventPrefixes ?? ["uploads/"];
  /** Requests that sent `Expect: 100-continue` and have not been told to send their body yet. */
  const awaitingContinue = new WeakSet<IncomingMessage>();

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      opts.logger?.error("local S3 request failed", { error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) sendError(req, res, new S3Error(500, "InternalError", "We encountered an internal error. Please try again."), {});
      else res.destroy();
    });
  };
  const server = createServer(serve);
  // A PUT that awaits 100-continue is refused (bad signature, too large) before its body is sent.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    awaitingContinue.add(req);
    serve(req, res);
  });
  const continueBody = (req: IncomingMessage, res: ServerResponse) => {
    if (awaitingContinue.delete(req)) res.writeContinue();
  };

  const corsHeaders = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (!origin || !(cors.includes("*") || cors.includes(origin))) return {};
    return { "access-control-allow-origin": origin, "access-control-expose-headers": EXPOSED_HEADERS, vary: "Origin" };
  };

  const ids = () => ({ "x-amz-request-id": randomBytes(8).toString("hex").toUpperCase(), "x-amz-id-2": randomBytes(24).toString("base64") });

  function sendError(req: IncomingMessage, res: ServerResponse, err: S3Error, extraHeaders: Record<string, string>) {
    const id = ids();
    const body = req.method === "HEAD" ? "" : errorXml(err, id["x-amz-request-id"], id["x-amz-id-2"]);
    // A body never asked for may still come; the connection cannot be reused after it.
    const close = awaitingContinue.has(req) ? { connection: "close" } : {};
    // The endpoint's time, which SDKs read to correct their clock after RequestTimeTooSkewed.
    const date = { date: clock.now().toUTCString() };
    res.writeHead(err.status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body), ...date, ...id, ...corsHeaders(req), ...close, ...extraHeaders });
    res.end(body);
  }

  /** Reads and discards what is left of a request, so the client sees the response, not a reset. */
  const drain = (req: IncomingMessage) =>
    new Promise<void>((resolve) => {
      if (req.readableEnded || awaitingContinue.has(req)) return resolve();
      req.on("end", resolve);
      req.on("error", () => resolve());
      req.resume();
    });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? "GET";
    if (method === "OPTIONS") return preflight(req, res);
    // The raw path, not a WHATWG URL's: SigV4 signs the path as sent, and "../" must reach
    // assertSafeKey rather than be resolved away.
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const rawPath = q < 0 ? raw : raw.slice(0, q);
    const rawQuery = q < 0 ? "" : raw.slice(q + 1);
    let bucket: string;
    let key: string;
    let query: Array<[string, string]>;
    try {
      ({ bucket, key } = resolveTarget(String(req.headers.host ?? ""), rawPath, opts.bucket));
      query = parseQuery(rawQuery);
    } catch {
      await drain(req);
      return sendError(req, res, new S3Error(400, "InvalidURI", "Couldn't parse the specified URI."), {});
    }
    if (bucket !== opts.bucket) {
      await drain(req);
      return sendError(req, res, new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: bucket }), {});
    }
    if (claimsSigV4(req.headers, query)) return rest.handle(req, res, { key, rawPath, rawQuery });
    // Browser uploads and the file blob store's own presigned GETs.
    continueBody(req, res);
    if (method === "POST" && key === "") return post(req, res);
    if ((method === "GET" || method === "HEAD") && key !== "") {
      try {
        assertSafeKey(key);
      } catch (err) {
        await drain(req);
        return sendError(req, res, unsafeKeyError(key, err), {});
      }
      return get(req, res, key, new URLSearchParams(rawQuery));
    }
    await drain(req);
    return sendError(req, res, new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", { Method: method, ResourceType: key ? "OBJECT" : "BUCKET" }), { allow: key ? "GET, HEAD" : "POST" });
  }

  function preflight(req: IncomingMessage, res: ServerResponse) {
    const origin = req.headers.origin;
    const wanted = String(req.headers["access-control-request-method"] ?? "").toUpperCase();
    if (!origin || !(cors.includes("*") || cors.includes(origin)) || !ALLOWED_METHODS.includes(wanted)) {
      return sendError(req, res, new S3Error(403, "AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.", { Method: wanted || "OPTIONS", ResourceType: "OBJECT" }), {});
    }
    res.writeHead(200, {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": ALLOWED_METHODS.join(", "),
      "access-control-allow-headers": String(req.headers["access-control-request-headers"] ?? "*"),
      "access-control-expose-headers": EXPOSED_HEADERS,
      "access-control-max-age": "3000",
      vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
      "content-length": "0",
      ...ids(),
    });
    res.end();
  }

  async function post(req: IncomingMessage, res: ServerResponse) {
    const blobs = state.store!;
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, preservePath: true, limits: { files: 1, fields: 1000, fieldSize: 1024 * 1024, parts: 1001 } });
    } catch {
      await drain(req);
      return sendError(req, res, new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "Bucket POST must be of the enclosure-type multipart/form-data" }), {});
    }
    const fields: Array<[string, string]> = [];
    let fileSeen = false;
    let verified: VerifiedPost | undefined;
    let rejected: S3Error | undefined;
    let received: Promise<{ tmp: string; size: number; etag: string }> | undefined;

    bb.on("field", (name, value) => {
      // S3 ignores fields after the file.
      if (!fileSeen) fields.push([name, value]);
    });
    bb.on("file", (name, stream, info) => {
      if (fileSeen || name.toLowerCase() !== "file") {
        stream.resume();
        return;
      }
      fileSeen = true;
      try {
        verified = verifyPostFields({ fields, bucket: opts.bucket, region, credentials: [opts.credentials], now: clock.now(), filename: info.filename });
        try {
          assertSafeKey(verified.key);
        } catch (err) {
          throw new S3Error(400, "InvalidArgument", `The local store cannot hold this key: ${(err as Error).message}`, { ArgumentName: "key", ArgumentValue: verified.key });
        }
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        rejected = err;
        stream.resume();
        return;
      }
      received = receive(blobs, stream, verified.contentLength?.[1]);
      // Failures surface when awaited below; never as an unhandled rejection meanwhile.
      received.catch(() => undefined);
    });

    try {
      await new Promise<void>((resolve, reject) => {
        bb.on("close", resolve);
        bb.on("error", reject);
        req.on("error", reject);
        req.pipe(bb);
      });
    } catch {
      req.unpipe(bb);
      await drain(req);
      const r = await received?.catch(() => undefined);
      if (r) await rm(r.tmp, { force: true });
      return sendError(req, res, new S3Error(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."), {});
    }

    const cors = corsHeaders(req);
    if (rejected) return sendError(req, res, rejected, {});
    if (!fileSeen || !verified || !received) {
      try {
        // Authentication problems come first, as S3 reports them.
        verifyPostFields({ fields, bucket: opts.bucket, region, credentials: [opts.credentials], now: clock.now() });
      } catch (err) {
        if (err instanceof S3Error) return sendError(req, res, err, {});
        throw err;
      }
      return sendError(req, res, new S3Error(400, "InvalidArgument", "POST requires exactly one file upload per request.", { ArgumentName: "file", ArgumentValue: "0" }), {});
    }
    const file = await received;
    try {
      checkContentLength(file.size, verified.contentLength);
    } catch (err) {
      await rm(file.tmp, { force: true });
      if (err instanceof S3Error) return sendError(req, res, err, {});
      throw err;
    }
    const stored = await blobs.adoptFile(verified.key, file.tmp, {
      contentType: verified.contentType ?? "binary/octet-stream",
      ...(verified.cacheControl ? { cacheControl: verified.cacheControl } : {}),
      metadata: verified.metadata,
      etag: file.etag,
    });
    const id = ids();
    emitObjectCreated(req, { key: verified.key, size: stored.sizeBytes, etag: stored.etag }, id["x-amz-request-id"], "POST Object");
    const location = `${state.baseUrl}/${encodeURIComponent(opts.bucket)}/${encodeEventKey(verified.key).replace(/\+/g, "%20")}`;
    const headers = { etag: `"${stored.etag}"`, location, ...id, ...cors };
    if (verified.successActionStatus === 201) {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>${xmlElements({ Location: location, Bucket: opts.bucket, Key: verified.key, ETag: `"${stored.etag}"` })}</PostResponse>`;
      res.writeHead(201, { ...headers, "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
      return res.end(body);
    }
    res.writeHead(verified.successActionStatus, { ...headers, "content-length": "0" });
    res.end();
  }

  function emitObjectCreated(req: IncomingMessage, o: { key: string; size: number; etag: string }, requestId: string, reason: "POST Object" | "PutObject") {
    const event = objectCreatedEvent({
      bucket: opts.bucket,
      ...o,
      region,
      account,
      requestId,
      sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
      time: clock.now(),
      reason,
    });
    // S3 delivers events asynchronously: a failing subscriber never fails the upload.
    try {
      Promise.resolve(opts.onObjectCreated?.(event)).catch((err: unknown) => opts.logger?.error("onObjectCreated failed", { error: String(err) }));
    } catch (err) {
      opts.logger?.error("onObjectCreated failed", { error: String(err) });
    }
  }

  const rest = createRestApi({
    bucket: opts.bucket,
    region,
    credentials: [opts.credentials],
    clock,
    maxObjectBytes: opts.maxObjectBytes ?? MAX_PUT_OBJECT_BYTES,
    store: () => state.store!,
    ids,
    corsHeaders,
    sendError: (req, res, err, extra = {}) => sendError(req, res, err, extra),
    drain,
    continueBody,
    objectPut(req, stored, requestId) {
      if (putEventPrefixes.some((p) => stored.key.startsWith(p))) emitObjectCreated(req, { key: stored.key, size: stored.sizeBytes, etag: stored.etag }, requestId, "PutObject");
    },
  });

  /** Streams the file part to a temp file, counting and hashing; stops writing past `max` but keeps counting. */
  async function receive(blobs: FileBlobStore, stream: Readable, max: number | undefined) {
    const tmp = await blobs.tempPath();
    let size = 0;
    const md5 = createHash("md5");
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (max !== undefined && size > max) return cb();
        md5.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(stream, counter, createWriteStream(tmp));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { tmp, size, etag: md5.digest("hex") };
  }

  async function get(req: IncomingMessage, res: ServerResponse, key: string, query: URLSearchParams) {
    const blobs = state.store!;
    await drain(req);
    if (!query.has("X-Signature")) return sendError(req, res, new S3Error(403, "AccessDenied", "Access Denied"), {});
    let check;
    try {
      check = blobs.checkPresignedGet(key, query);
    } catch {
      check = "invalid" as const;
    }
    if (check === "invalid") {
      return sendError(req, res, new S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."), {});
    }
    if (check === "expired") {
      const expires = new Date(Number(query.get("X-Expires")) * 1000).toISOString();
      return sendError(req, res, new S3Error(403, "AccessDenied", "Request has expired", { Expires: expires, ServerTime: clock.now().toISOString() }), {});
    }
    const obj = await blobs.stat(key).catch(() => undefined);
    if (!obj) return sendError(req, res, new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key }), {});
    const disposition = query.get("response-content-disposition");
    return rest.sendObject(req, res, obj, disposition ? { "content-disposition": disposition } : {});
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const store = createFileBlobStore({ root: opts.root, bucket: opts.bucket, publicBaseUrl: baseUrl, signingKey, clock });
  state.baseUrl = baseUrl;
  state.store = store;
  const client = new S3Client({ region, endpoint: baseUrl, forcePathStyle: true, credentials: { accessKeyId: opts.credentials.accessKeyId, secretAccessKey: opts.credentials.secretAccessKey } });
  return {
    url: baseUrl,
    bucket: opts.bucket,
    region,
    blobStore: store,
    signer: createS3UploadSigner(client, { bucket: opts.bucket }),
    client,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Bucket and key of a request: virtual-host style when the Host names the bucket
 * (`<bucket>.localhost:<port>`, or `<bucket>.` followed by anything), else path style
 * (`/<bucket>/<key>`). Throws URIError on bad percent-encoding.
 */
export function resolveTarget(host: string, rawPath: string, ourBucket: string): { bucket: string; key: string } {
  const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  const path = rawPath.startsWith("/") ? rawPath.slice(1) : rawPath;
  const lower = hostname.toLowerCase();
  let vhostBucket: string | undefined;
  if (lower.startsWith(`${ourBucket}.`)) vhostBucket = ourBucket;
  else if (lower.endsWith(".localhost") && lower !== "localhost") vhostBucket = lower.slice(0, -".localhost".length);
  if (vhostBucket !== undefined) return { bucket: vhostBucket, key: decodeURIComponent(path) };
  const slash = path.indexOf("/");
  if (slash < 0) return { bucket: decodeURIComponent(path), key: "" };
  return { bucket: decodeURIComponent(path.slice(0, slash)), key: decodeURIComponent(path.slice(slash + 1)) };
}
