import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobNotFoundError } from "../../ports";
import { contentDisposition } from "../../upload/content-disposition";
import type { BlobHead, BlobStore, Clock } from "../../ports";

/**
 * The local runtime's media bucket: objects are plain files under `<root>/<bucket>/<key>`, each
 * with a sidecar JSON (`<root>/.meta/<bucket>/<key>.json`: content type, metadata, ETag) so
 * head() answers what S3's HeadObject would. Writes land in `<root>/.tmp` and are renamed into
 * place, so a reader never sees half an object. presignGet() returns HMAC-signed, expiring URLs
 * on `publicBaseUrl` that the local S3 endpoint (packages/local/src/s3) serves with Range support.
 * Objects are the user's photos and videos: files are 0600 and folders 0700, whatever the umask.
 */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
export interface FileBlobStoreOptions {
  root: string;
  bucket: string;
  /** Base of presigned GET URLs (the local S3 endpoint, e.g. http://127.0.0.1:4566). */
  publicBaseUrl?: string;
  /** Key of the HMAC that signs GET URLs. */
  signingKey: string | Uint8Array;
  clock?: Clock;
}

export interface StoredObject extends BlobHead {
  contentType: string;
  /** MD5 of the bytes, hex, unquoted (S3's single-part ETag). */
  etag: string;
  lastModified: string;
  cacheControl?: string;
  /** Where the bytes are on disk. */
  path: string;
}

export type PresignedGetCheck = "ok" | "expired" | "invalid";

export interface FileBlobStore extends BlobStore {
  readonly root: string;
  /** Everything S3's HeadObject would say, plus the file path; undefined when absent. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** A fresh path on the store's filesystem to stream an incoming upload into. */
  tempPath(): Promise<string>;
  /** Moves a finished temp file in as `key` (atomic rename). */
  adoptFile(key: string, tempPath: string, opts: { contentType: string; cacheControl?: string; metadata?: Record<string, string>; etag?: string }): Promise<StoredObject>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix, sorted. */
  list(prefix?: string): Promise<string[]>;
  /** Checks a presigned GET's query (X-Expires, X-Signature, response-content-disposition). */
  checkPresignedGet(key: string, query: URLSearchParams): PresignedGetCheck;
}

interface Sidecar {
  contentType: string;
  cacheControl?: string;
  metadata: Record<string, string>;
  etag: string;
  lastModified: string;
}

export class InvalidKeyError extends Error {
  readonly code = "InvalidKey";
  constructor(readonly key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.name = "InvalidKeyError";
  }
}

/** Keys map to paths, so refuse what would escape the bucket directory or collide on disk. */
export function assertSafeKey(key: string): void {
  if (key.length === 0) throw new InvalidKeyError(key, "empty");
  if (Buffer.byteLength(key, "utf8") > 1024) throw new InvalidKeyError(key, "longer than 1024 bytes");
  if (key.includes("\0") || key.includes("\\")) throw new InvalidKeyError(key, "contains NUL or a backslash");
  if (key.startsWith("/")) throw new InvalidKeyError(key, "starts with /");
  for (const seg of key.split("/")) {
    if (seg === "" || seg === "." || seg === "..") throw new InvalidKeyError(key, "has an empty, '.' or '..' segment");
  }
}

const lowerKeys = (m: Record<string, string> = {}) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));
const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

export function createFileBlobStore(opts: FileBlobStoreOptions): FileBlobStore {
  const { root, bucket } = opts;
  const clock = opts.clock ?? { now: () => new Date() };
  const dataDir = join(root, bucket);
  const metaDir = join(root, ".meta", bucket);
  const tmpDir = join(root, ".tmp");
  const dataPath = (key: string) => (assertSafeKey(key), join(dataDir, ...key.split("/")));
  const metaPath = (key: string) => (assertSafeKey(key), join(metaDir, ...key.split("/")) + ".json");

  const sign = (key: string, expires: string, disposition: string) =>
    createHmac("sha256", opts.signingKey).update(`GET\n${bucket}\n${key}\n${expires}\n${disposition}`).digest("hex");

  const tempPath = async () => {
    await mkdir(tmpDir, { recursive: true, mode: DIR_MODE });
    return join(tmpDir, randomUUID());
  };

  const readSidecar = async (key: string): Promise<Sidecar | undefined> => {
    try {
      return JSON.parse(await readFile(metaPath(key), "utf8")) as Sidecar;
    } catch {
      return undefined;
    }
  };

  const statObject = async (key: string): Promise<StoredObject | undefined> => {
    const path = dataPath(key);
    let size: number;
    let mtime: Date;
    try {
      const s = await stat(path);
      if (!s.isFile()) return undefined;
      size = s.size;
      mtime = s.mtime;
    } catch {
      return undefined;
    }
    const side = await readSidecar(key);
    return {
      sizeBytes: size,
      contentType: side?.contentType ?? "application/octet-stream",
      metadata: side?.metadata ?? {},
      etag: side?.etag ?? "",
      lastModified: side?.lastModified ?? mtime.toISOString(),
      ...(side?.cacheControl ? { cacheControl: side.cacheControl } : {}),
      path,
    };
  };

  /** Sidecar first, then the bytes: an object exists once its data file does. */
  const commit = async (key: string, tmp: string, side: Sidecar): Promise<StoredObject> => {
    const path = dataPath(key);
    const mp = metaPath(key);
    await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
    await mkdir(dirname(mp), { recursive: true, mode: DIR_MODE });
    const sideTmp = await tempPath();
    await writeFile(sideTmp, JSON.stringify(side), { mode: FILE_MODE });
    await rename(sideTmp, mp);
    // Whoever wrote the temp file (a streamed upload too), the object is private.
    await chmod(tmp, FILE_MODE);
    await rename(tmp, path);
    const s = await statObject(key);
    if (!s) throw new Error(`object ${key} vanished after write`);
    return s;
  };

  const md5File = async (path: string) => {
    const h = createHash("md5");
    await pipeline(createReadStream(path), h);
    return h.digest("hex");
  };

  /** Copies a file to a temp path, hashing on the way. */
  const copyHashing = async (from: string): Promise<{ tmp: string; etag: string }> => {
    const tmp = await tempPath();
    const h = createHash("md5");
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        h.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(from), tap, createWriteStream(tmp, { mode: FILE_MODE }));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { tmp, etag: h.digest("hex") };
  };

  const walk = async (dir: string): Promise<string[]> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true, recursive: true });
    } catch {
      return [];
    }
    return entries.filter((e) => e.isFile()).map((e) => relative(dataDir, join(e.parentPath, e.name)).split(sep).join("/"));
  };

  return {
    bucket,
    root,
    stat: statObject,
    tempPath,
    async head(key) {
      const s = await statObject(key);
      return s && { sizeBytes: s.sizeBytes, contentType: s.contentType, metadata: s.metadata };
    },
    async get(key) {
      const s = await statObject(key);
      if (!s) throw new BlobNotFoundError(key);
      const bytes = new Uint8Array(await readFile(s.path));
      return { sizeBytes: bytes.byteLength, contentType: s.contentType, metadata: s.metadata, bytes };
    },
    async put(key, body, o) {
      const tmp = await tempPath();
      await writeFile(tmp, body, { mode: FILE_MODE });
      const etag = createHash("md5").update(body).digest("hex");
      await commit(key, tmp, { contentType: o.contentType, cacheControl: o.cacheControl, metadata: lowerKeys(o.metadata), etag, lastModified: clock.now().toISOString() });
    },
    async putFile(key, path, o) {
      const { tmp, etag } = await copyHashing(path);
      await commit(key, tmp, { contentType: o.contentType, cacheControl: o.cacheControl, metadata: {}, etag, lastModified: clock.now().toISOString() });
    },
    async adoptFile(key, tmp, o) {
      const etag = o.etag ?? (await md5File(tmp));
      return commit(key, tmp, { contentType: o.contentType, cacheControl: o.cacheControl, metadata: lowerKeys(o.metadata), etag, lastModified: clock.now().toISOString() });
    },
    async getToFile(key, path) {
      const s = await statObject(key);
      if (!s) throw new BlobNotFoundError(key);
      await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
      await copyFile(s.path, path);
      return { sizeBytes: s.sizeBytes, contentType: s.contentType, metadata: s.metadata };
    },
    async delete(key) {
      await rm(dataPath(key), { force: true });
      await rm(metaPath(key), { force: true });
    },
    async list(prefix = "") {
      return (await walk(dataDir)).filter((k) => k.startsWith(prefix)).sort();
    },
    async presignGet(key, o) {
      assertSafeKey(key);
      if (!opts.publicBaseUrl) throw new Error("this file blob store has no publicBaseUrl: start it through the local S3 endpoint to presign URLs");
      const expires = String(Math.floor(clock.now().getTime() / 1000) + Math.max(1, Math.floor(o.expiresInSeconds)));
      const q = new URLSearchParams({ "X-Expires": expires });
      const disposition = o.downloadFileName ? contentDisposition(o.downloadFileName) : "";
      if (disposition) q.set("response-content-disposition", disposition);
      q.set("X-Signature", sign(key, expires, disposition));
      return `${opts.publicBaseUrl.replace(/\/+$/, "")}/${encodeURIComponent(bucket)}/${encodeKey(key)}?${q.toString()}`;
    },
    checkPresignedGet(key, query) {
      const expires = query.get("X-Expires") ?? "";
      const sig = query.get("X-Signature") ?? "";
      if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(sig)) return "invalid";
      const expected = Buffer.from(sign(key, expires, query.get("response-content-disposition") ?? ""), "hex");
      if (!timingSafeEqual(expected, Buffer.from(sig, "hex"))) return "invalid";
      if (clock.now().getTime() / 1000 > Number(expires)) return "expired";
      return "ok";
    },
  };
}
