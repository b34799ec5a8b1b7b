import { readFile, writeFile } from "node:fs/promises";
import { BlobNotFoundError } from "../../src/ports";
import type { BlobHead, BlobStore } from "../../src/ports";

export interface MemoryBlob {
  bytes: Uint8Array;
  contentType?: string;
  cacheControl?: string;
  /** User metadata, keys lower-cased as S3 returns them (x-amz-meta-* without the prefix). */
  metadata: Record<string, string>;
}

export interface MemoryBlobStoreOptions {
  bucket?: string;
  /**
   * Builds the URL presignGet returns. Default: an https URL on a virtual-hosted style domain
   * that nothing serves (`https://{bucket}.s3.memory.invalid/{key}?X-Amz-Expires=…`). Tests that
   * need the URL fetchable serve the store over HTTP and pass their own.
   */
  presign?: (key: string, opts: { expiresInSeconds: number; downloadFileName?: string }) => string;
}

export type MemoryBlobStore = BlobStore & {
  readonly objects: Map<string, MemoryBlob>;
  /** Keys currently stored, sorted. */
  keys(prefix?: string): string[];
  /** Every call, in order, for assertions ("nothing was written under jobs/"). */
  readonly calls: Array<{ op: "head" | "get" | "put" | "putFile" | "getToFile" | "presignGet"; key: string }>;
  /** Stores an object as a browser upload would (with user metadata), without recording a call. */
  seed(key: string, bytes: Uint8Array, opts?: { contentType?: string; metadata?: Record<string, string> }): void;
};

const copy = (b: Uint8Array) => new Uint8Array(b);
const lowerKeys = (m: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** A BlobStore in memory with S3's semantics where they matter: copies in and out, metadata keys lower-cased, BlobNotFoundError on a missing get. */
export function createMemoryBlobStore(opts: MemoryBlobStoreOptions = {}): MemoryBlobStore {
  const bucket = opts.bucket ?? "memory-media";
  const objects = new Map<string, MemoryBlob>();
  const calls: MemoryBlobStore["calls"] = [];

  const headOf = (o: MemoryBlob): BlobHead => ({
    sizeBytes: o.bytes.byteLength,
    ...(o.contentType !== undefined ? { contentType: o.contentType } : {}),
    metadata: { ...o.metadata },
  });
  const store = (key: string, bytes: Uint8Array, o: { contentType?: string; cacheControl?: string; metadata?: Record<string, string> }) => {
    objects.set(key, {
      bytes: copy(bytes),
      ...(o.contentType !== undefined ? { contentType: o.contentType } : {}),
      ...(o.cacheControl !== undefined ? { cacheControl: o.cacheControl } : {}),
      metadata: lowerKeys(o.metadata),
    });
  };
  const presign =
    opts.presign ??
    ((key: string, o: { expiresInSeconds: number }) =>
      `https://${bucket}.s3.memory.invalid/${key.split("/").map(encodeURIComponent).join("/")}?X-Amz-Expires=${o.expiresInSeconds}&X-Amz-Signature=memory`);

  return {
    bucket,
    objects,
    calls,
    keys: (prefix = "") => [...objects.keys()].filter((k) => k.startsWith(prefix)).sort(),
    seed: (key, bytes, o = {}) => store(key, bytes, o),
    async head(key) {
      calls.push({ op: "head", key });
      const o = objects.get(key);
      return o ? headOf(o) : undefined;
    },
    async get(key) {
      calls.push({ op: "get", key });
      const o = objects.get(key);
      if (!o) throw new BlobNotFoundError(key);
      return { ...headOf(o), bytes: copy(o.bytes) };
    },
    async put(key, body, o) {
      calls.push({ op: "put", key });
      store(key, body, o);
    },
    async putFile(key, path, o) {
      calls.push({ op: "putFile", key });
      store(key, await readFile(path), o);
    },
    async getToFile(key, path) {
      calls.push({ op: "getToFile", key });
      const o = objects.get(key);
      if (!o) throw new BlobNotFoundError(key);
      await writeFile(path, o.bytes);
      return headOf(o);
    },
    async presignGet(key, o) {
      calls.push({ op: "presignGet", key });
      if (!Number.isInteger(o.expiresInSeconds) || o.expiresInSeconds <= 0 || o.expiresInSeconds > 604_800) {
        // S3's SigV4 limit: 1 s to 7 days.
        throw new RangeError(`expiresInSeconds must be an integer in 1..604800, got ${o.expiresInSeconds}`);
      }
      return presign(key, o);
    },
  };
}
