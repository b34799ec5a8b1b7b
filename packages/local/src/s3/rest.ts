import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import type { Clock } from "@reelbridge/core";
import { assertSafeKey } from "@reelbridge/core/adapters/local/file-blob-store";
import type { FileBlobStore, StoredObject } from "@reelbridge/core/adapters/local/file-blob-store";
import { AwsChunkedDecoder } from "./aws-chunked";
import { S3Error, xmlElements } from "./errors";
import type { PostCredentials } from "./policy";
import { parseQuery, verifySigV4 } from "./sigv4";
import type { VerifiedSigV4 } from "./sigv4";

/**
 * The S3 REST API for what the pipeline's AWS adapters send (packages/core/src/adapters/aws):
 * PutObject, GetObject (Range, response-* overrides), HeadObject, DeleteObject, ListObjectsV2
 * and HeadBucket, SigV4-signed in the Authorization header or presigned in the query. Objects
 * are the file blob store's, so REST writes and blobStore writes see each other.
 */

/** S3's single-PUT limit. */
export const MAX_PUT_OBJECT_BYTES = 5 * 1024 ** 3;
const MAX_METADATA_BYTES = 2048;
const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";

export interface RestContext {
  bucket: string;
  region: string;
  credentials: readonly PostCredentials[];
  clock: Clock;
  maxObjectBytes: number;
  store(): FileBlobStore;
  ids(): Record<"x-amz-request-id" | "x-amz-id-2", string>;
  corsHeaders(req: IncomingMessage): Record<string, string>;
  sendError(req: IncomingMessage, res: ServerResponse, err: S3Error, extraHeaders?: Record<string, string>): void;
  /** Discards the rest of a request body (or leaves it unsent when the client awaits 100-continue). */
  drain(req: IncomingMessage): Promise<void>;
  /** Lets a client waiting on `Expect: 100-continue` send its body. */
  continueBody(req: IncomingMessage, res: ServerResponse): void;
  /** After a PutObject stored `key`: the server decides whether S3's event goes out. */
  objectPut(req: IncomingMessage, stored: StoredObject & { key: string }, requestId: string): void;
}

export interface RestTarget {
  /** "" for bucket-level requests. */
  key: string;
  rawPath: string;
  rawQuery: string;
}

const notImplemented = () => new S3Error(501, "NotImplemented", "A header or query you provided implies functionality that is not implemented.");

/** Sub-resources the local endpoint does not serve (S3 would); answering them as plain object requests would be wrong. */
const UNSUPPORTED_SUBRESOURCES = ["acl", "tagging", "uploads", "uploadId", "partNumber", "torrent", "retention", "legal-hold", "attributes", "restore", "select", "versioning", "policy", "cors", "lifecycle", "notification", "delete", "versions", "location"];

const RESPONSE_OVERRIDES: Record<string, string> = {
  "response-content-type": "content-type",
  "response-content-language": "content-language",
  "response-expires": "expires",
  "response-cache-control": "cache-control",
  "response-content-disposition": "content-disposition",
  "response-content-encoding": "content-encoding",
};

/** Header values S3 would never put in XML or a header (control characters) are shown as U+FFFD. */
const printable = (s: string) => [...s].map((c) => (c.charCodeAt(0) < 0x20 || c === "\u007f" ? "\uFFFD" : c)).join("");

export function unsafeKeyError(key: string, err: unknown): S3Error {
  return new S3Error(400, "InvalidArgument", `The local store cannot hold this key: ${printable((err as Error).message)}`, { ArgumentName: "key", ArgumentValue: printable(key) });
}

export function createRestApi(ctx: RestContext) {
  async function handle(req: IncomingMessage, res: ServerResponse, target: RestTarget): Promise<void> {
    const method = req.method ?? "GET";
    let auth: VerifiedSigV4;
    try {
      auth = verifySigV4({ method, rawPath: target.rawPath, rawQuery: target.rawQuery, headers: req.headers }, { region: ctx.region, credentials: ctx.credentials, now: ctx.clock.now() });
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      await ctx.drain(req);
      return ctx.sendError(req, res, err);
    }
    const query = new Map(parseQuery(target.rawQuery));
    const { key } = target;
    if (UNSUPPORTED_SUBRESOURCES.some((s) => query.has(s)) || (method === "PUT" && req.headers["x-amz-copy-source"] !== undefined)) {
      await ctx.drain(req);
      return ctx.sendError(req, res, notImplemented());
    }
    if (key !== "") {
      try {
        assertSafeKey(key);
      } catch (err) {
        await ctx.drain(req);
        return ctx.sendError(req, res, unsafeKeyError(key, err));
      }
      if (method === "PUT") return putObject(req, res, key, auth);
      await ctx.drain(req);
      if (method === "GET" || method === "HEAD") return getObject(req, res, key, query);
      if (method === "DELETE") {
        await ctx.store().delete(key);
        res.writeHead(204, { ...ctx.ids(), ...ctx.corsHeaders(req) });
        return void res.end();
      }
    } else {
      await ctx.drain(req);
      if (method === "HEAD") {
        res.writeHead(200, { "x-amz-bucket-region": ctx.region, "content-length": "0", ...ctx.ids(), ...ctx.corsHeaders(req) });
        return void res.end();
      }
      if (method === "GET" && query.get("list-type") === "2") return listObjectsV2(req, res, query);
      if (method === "GET") return ctx.sendError(req, res, notImplemented());
    }
    await ctx.drain(req);
    return ctx.sendError(req, res, new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", { Method: method, ResourceType: key ? "OBJECT" : "BUCKET" }), {
      allow: key ? "GET, HEAD, PUT, DELETE" : "GET, HEAD, POST",
    });
  }

  async function putObject(req: IncomingMessage, res: ServerResponse, key: string, auth: VerifiedSigV4): Promise<void> {
    const h = req.headers;
    const refuse = async (err: S3Error) => {
      await ctx.drain(req);
      ctx.sendError(req, res, err);
    };
    const encodings = String(h["content-encoding"] ?? "")
      .split(",")
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e !== "");
    const awsChunked = encodings.includes("aws-chunked");
    const hash = auth.payloadHash;
    let expectedSha256: string | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(hash)) expectedSha256 = hash.toLowerCase();
    else if (hash === "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
      if (!awsChunked) return refuse(new S3Error(400, "InvalidRequest", "STREAMING-UNSIGNED-PAYLOAD-TRAILER requires Content-Encoding: aws-chunked."));
    } else if (hash.startsWith("STREAMING-")) {
      // Signed chunks (chunk-signature per chunk) are what old SDKs and some tools send; the SDK
      // versions the bundles ship send unsigned chunks with a checksum trailer instead.
      return refuse(new S3Error(501, "NotImplemented", `The local S3 endpoint does not implement x-amz-content-sha256: ${hash}; use STREAMING-UNSIGNED-PAYLOAD-TRAILER, UNSIGNED-PAYLOAD or a SHA-256 of the body.`));
    } else if (hash !== "UNSIGNED-PAYLOAD") {
      return refuse(
        new S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.", { ArgumentName: "x-amz-content-sha256", ArgumentValue: hash }),
      );
    }
    if (awsChunked && !hash.startsWith("STREAMING-")) return refuse(new S3Error(400, "InvalidRequest", "Content-Encoding: aws-chunked requires a STREAMING-* x-amz-content-sha256."));

    const declaredHeader = awsChunked ? h["x-amz-decoded-content-length"] : h["content-length"];
    if (declaredHeader === undefined) {
      return refuse(new S3Error(411, "MissingContentLength", awsChunked ? "You must provide the x-amz-decoded-content-length HTTP header." : "You must provide the Content-Length HTTP header."));
    }
    if (!/^\d{1,16}$/.test(String(declaredHeader))) return refuse(new S3Error(400, "InvalidArgument", "The Content-Length you provided is not valid.", { ArgumentName: "Content-Length", ArgumentValue: String(declaredHeader) }));
    const declared = Number(declaredHeader);
    if (declared > ctx.maxObjectBytes) {
      return refuse(new S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", { ProposedSize: declared, MaxSizeAllowed: ctx.maxObjectBytes }));
    }

    const metadata: Record<string, string> = {};
    let metaBytes = 0;
    for (const [name, value] of Object.entries(h)) {
      if (!name.startsWith("x-amz-meta-") || value === undefined) continue;
      const v = Array.isArray(value) ? value.join(",") : value;
      metadata[name.slice("x-amz-meta-".length)] = v;
      metaBytes += Buffer.byteLength(name.slice("x-amz-meta-".length)) + Buffer.byteLength(v);
    }
    if (metaBytes > MAX_METADATA_BYTES) return refuse(new S3Error(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", { Size: metaBytes, MaxSizeAllowed: MAX_METADATA_BYTES }));

    const trailerName = typeof h["x-amz-trailer"] === "string" ? h["x-amz-trailer"].trim().toLowerCase() : undefined;
    if (trailerName !== undefined && !awsChunked) return refuse(new S3Error(400, "InvalidRequest", "x-amz-trailer requires Content-Encoding: aws-chunked."));
    const checksumName = trailerName ?? Object.keys(h).find((n) => /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.test(n));
    const checksum = checksumName ? checksumHasher(checksumName.slice("x-amz-checksum-".length)) : undefined;
    const md5 = createHash("md5");
    const sha256 = expectedSha256 ? createHash("sha256") : undefined;
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > ctx.maxObjectBytes) return cb(new S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", { ProposedSize: size, MaxSizeAllowed: ctx.maxObjectBytes }));
        if (size > declared) return cb(new S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header"));
        md5.update(chunk);
        sha256?.update(chunk);
        checksum?.update(chunk);
        cb(null, chunk);
      },
    });
    const decoder = awsChunked ? new AwsChunkedDecoder() : undefined;
    const store = ctx.store();
    const tmp = await store.tempPath();
    ctx.continueBody(req, res);
    try {
      await receive(req, decoder ? [decoder, tap] : [tap], tmp);
      if (size !== declared) throw new S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header");
      if (sha256 && expectedSha256) {
        const actual = sha256.digest("hex");
        if (actual !== expectedSha256) {
          throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", { ClientComputedContentSHA256: expectedSha256, S3ComputedContentSHA256: actual });
        }
      }
      if (checksumName) {
        const claimed = trailerName ? decoder?.trailers.get(trailerName) : String(h[checksumName]);
        if (claimed === undefined) throw new S3Error(400, "InvalidRequest", `The trailer ${trailerName} was declared in x-amz-trailer but not sent.`);
        const computed = checksum?.digest();
        if (computed !== undefined && computed !== claimed) {
          throw new S3Error(400, "BadDigest", `The ${checksumName.slice("x-amz-checksum-".length).toUpperCase()} you specified did not match the calculated checksum.`);
        }
      }
      const etag = md5.digest();
      const contentMd5 = h["content-md5"];
      if (typeof contentMd5 === "string" && contentMd5 !== etag.toString("base64")) throw new S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
      const contentType = typeof h["content-type"] === "string" && h["content-type"] !== "" ? h["content-type"] : "binary/octet-stream";
      const cacheControl = typeof h["cache-control"] === "string" ? h["cache-control"] : undefined;
      const stored = await store.adoptFile(key, tmp, { contentType, ...(cacheControl ? { cacheControl } : {}), metadata, etag: etag.toString("hex") });
      const id = ctx.ids();
      ctx.objectPut(req, { ...stored, key }, id["x-amz-request-id"]);
      res.writeHead(200, {
        etag: `"${stored.etag}"`,
        ...(checksumName && checksum ? { [checksumName]: trailerName ? decoder!.trailers.get(trailerName)! : String(h[checksumName]) } : {}),
        "content-length": "0",
        ...id,
        ...ctx.corsHeaders(req),
      });
      res.end();
    } catch (err) {
      await rm(tmp, { force: true });
      if (!(err instanceof S3Error)) throw err;
      // The body may be half read: answer, then let the connection go (S3 closes it too).
      ctx.sendError(req, res, err, req.readableEnded ? {} : { connection: "close" });
      if (!req.readableEnded) req.resume();
    }
  }

  async function getObject(req: IncomingMessage, res: ServerResponse, key: string, query: Map<string, string>): Promise<void> {
    const obj = await ctx.store().stat(key);
    if (!obj) return ctx.sendError(req, res, new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: printable(key) }));
    const overrides: Record<string, string> = {};
    for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
      const v = query.get(param);
      if (v !== undefined) overrides[header] = v;
    }
    return sendObject(req, res, obj, overrides);
  }

  /** Streams an object (or the Range asked for) as GetObject/HeadObject answer it. */
  async function sendObject(req: IncomingMessage, res: ServerResponse, obj: StoredObject, overrides: Record<string, string>): Promise<void> {
    const size = obj.sizeBytes;
    const etag = `"${obj.etag}"`;
    const lastModified = new Date(obj.lastModified).toUTCString();
    const base: Record<string, string> = { etag, "last-modified": lastModified, ...ctx.ids(), ...ctx.corsHeaders(req) };
    const ifMatch = req.headers["if-match"];
    if (ifMatch !== undefined && !etagListMatches(ifMatch, etag)) {
      return ctx.sendError(req, res, new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "If-Match" }));
    }
    const ifNoneMatch = req.headers["if-none-match"];
    if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, etag)) {
      res.writeHead(304, base);
      return void res.end();
    }
    const headers: Record<string, string> = {
      "content-type": obj.contentType,
      "accept-ranges": "bytes",
      ...(obj.cacheControl ? { "cache-control": obj.cacheControl } : {}),
      ...Object.fromEntries(Object.entries(obj.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v])),
      ...overrides,
      ...base,
    };
    const range = parseRange(req.headers.range, size);
    if (range === "unsatisfiable") {
      return ctx.sendError(req, res, new S3Error(416, "InvalidRange", "The requested range is not satisfiable", { RangeRequested: String(req.headers.range), ActualObjectSize: size }), { "content-range": `bytes */${size}` });
    }
    const [start, end] = range ?? [0, size - 1];
    const length = size === 0 ? 0 : end - start + 1;
    res.writeHead(range ? 206 : 200, { ...headers, "content-length": String(length), ...(range ? { "content-range": `bytes ${start}-${end}/${size}` } : {}) });
    if (req.method === "HEAD" || length === 0) return void res.end();
    await pipeline(createReadStream(obj.path, { start, end }), res);
  }

  async function listObjectsV2(req: IncomingMessage, res: ServerResponse, query: Map<string, string>): Promise<void> {
    const prefix = query.get("prefix") ?? "";
    const delimiter = query.get("delimiter") ?? "";
    const maxKeysRaw = query.get("max-keys") ?? "1000";
    if (!/^\d+$/.test(maxKeysRaw)) return ctx.sendError(req, res, new S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range", { ArgumentName: "max-keys", ArgumentValue: maxKeysRaw }));
    const maxKeys = Math.min(1000, Number(maxKeysRaw));
    const token = query.get("continuation-token");
    let after = query.get("start-after") ?? "";
    if (token !== undefined) {
      const decoded = Buffer.from(token, "base64url").toString("utf8");
      if (!decoded.startsWith("k:")) return ctx.sendError(req, res, new S3Error(400, "InvalidArgument", "The continuation token provided is incorrect", { ArgumentName: "continuation-token" }));
      after = decoded.slice(2);
    }
    const urlEncode = query.get("encoding-type") === "url";
    const enc = (s: string) => (urlEncode ? encodeURIComponent(s).replace(/%2F/g, "/") : s);

    const store = ctx.store();
    const keys = (await store.list(prefix)).filter((k) => k > after);
    const contents: string[] = [];
    const prefixes: string[] = [];
    let last = "";
    let truncated = false;
    for (const k of keys) {
      let entry: { kind: "key" } | { kind: "prefix"; value: string } = { kind: "key" };
      if (delimiter !== "") {
        const i = k.indexOf(delimiter, prefix.length);
        if (i >= 0) entry = { kind: "prefix", value: k.slice(0, i + delimiter.length) };
      }
      if (entry.kind === "prefix" && prefixes.at(-1) === entry.value) {
        last = k;
        continue;
      }
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (entry.kind === "prefix") {
        prefixes.push(entry.value);
      } else {
        const s = await store.stat(k);
        if (s) contents.push(`<Contents>${xmlElements({ Key: enc(k), LastModified: new Date(s.lastModified).toISOString(), ETag: `"${s.etag}"`, Size: s.sizeBytes, StorageClass: "STANDARD" })}</Contents>`);
      }
      last = k;
    }
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${XMLNS}">` +
      xmlElements({ Name: ctx.bucket, Prefix: enc(prefix), KeyCount: contents.length + prefixes.length, MaxKeys: maxKeys, ...(delimiter ? { Delimiter: enc(delimiter) } : {}), IsTruncated: String(truncated) }) +
      (token !== undefined ? xmlElements({ ContinuationToken: token }) : "") +
      (truncated ? xmlElements({ NextContinuationToken: Buffer.from(`k:${last}`, "utf8").toString("base64url") }) : "") +
      (query.has("start-after") ? xmlElements({ StartAfter: enc(query.get("start-after")!) }) : "") +
      (urlEncode ? xmlElements({ EncodingType: "url" }) : "") +
      contents.join("") +
      prefixes.map((p) => `<CommonPrefixes>${xmlElements({ Prefix: enc(p) })}</CommonPrefixes>`).join("") +
      "</ListBucketResult>";
    res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(body), ...ctx.ids(), ...ctx.corsHeaders(req) });
    res.end(body);
  }

  return { handle, sendObject };
}

/** Pipes a request through `stages` into `path` without letting a failing stage destroy the request (so S3's error can still be sent). */
async function receive(req: IncomingMessage, stages: Transform[], path: string): Promise<void> {
  const [head] = stages as [Transform];
  const onError = (err: Error) => head.destroy(err);
  const onClose = () => {
    if (!req.complete) head.destroy(new Error("client closed the connection before the body ended"));
  };
  req.on("error", onError);
  req.on("close", onClose);
  try {
    const done = pipeline([...stages, createWriteStream(path)] as unknown as [Transform, ...Transform[]]);
    req.pipe(head);
    await done;
  } finally {
    req.unpipe(head);
    req.off("error", onError);
    req.off("close", onClose);
  }
}

const etagListMatches = (header: string, etag: string) =>
  header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag || `"${t}"` === etag);

type Checksum = { update(b: Buffer): void; digest(): string };

/** Base64 of the checksum S3 would compute; undefined for algorithms Node has no built-in for (crc32c, crc64nvme: accepted unverified). */
function checksumHasher(algorithm: string): Checksum | undefined {
  if (algorithm === "crc32") {
    let c = 0;
    return {
      update: (b) => void (c = crc32(b, c)),
      digest: () => {
        const out = Buffer.alloc(4);
        out.writeUInt32BE(c >>> 0);
        return out.toString("base64");
      },
    };
  }
  if (algorithm === "sha1" || algorithm === "sha256") {
    const h = createHash(algorithm);
    return { update: (b) => void h.update(b), digest: () => h.digest("base64") };
  }
  return undefined;
}

/**
 * One `bytes=` range (S3 serves only the first of several). Undefined = serve the whole object;
 * a syntactically invalid header is ignored, as HTTP allows.
 */
export function parseRange(header: string | undefined, size: number): [number, number] | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*(?:,.*)?$/i.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return [start, end];
}
