import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { BlobNotFoundError } from "../../ports";
import { contentDisposition } from "../../upload/content-disposition";
import type { BlobHead, BlobStore } from "../../ports";

const isNotFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
};

/** The media bucket as a BlobStore. Errors other than "not found" propagate (transient by default). */
export function createS3BlobStore(client: S3Client, opts: { bucket: string }): BlobStore {
  const Bucket = opts.bucket;
  const head = async (key: string): Promise<BlobHead | undefined> => {
    try {
      const r = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
      return { sizeBytes: r.ContentLength ?? 0, contentType: r.ContentType, metadata: r.Metadata ?? {} };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const getObject = async (key: string) => {
    try {
      return await client.send(new GetObjectCommand({ Bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      throw err;
    }
  };
  return {
    bucket: Bucket,
    head,
    async get(key) {
      const r = await getObject(key);
      if (!r.Body) throw new BlobNotFoundError(key);
      const bytes = await r.Body.transformToByteArray();
      return { sizeBytes: r.ContentLength ?? bytes.byteLength, contentType: r.ContentType, metadata: r.Metadata ?? {}, bytes };
    },
    async put(key, body, o) {
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: o.contentType, CacheControl: o.cacheControl, Metadata: o.metadata }));
    },
    async putFile(key, path, o) {
      const { size } = await stat(path);
      // A stream body needs its length up front (single PutObject, up to 5 GB).
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: createReadStream(path), ContentLength: size, ContentType: o.contentType, CacheControl: o.cacheControl }));
    },
    async getToFile(key, path) {
      const r = await getObject(key);
      if (!r.Body) throw new BlobNotFoundError(key);
      await mkdir(dirname(path), { recursive: true });
      try {
        await pipeline(r.Body as Readable, createWriteStream(path));
      } catch (err) {
        await rm(path, { force: true });
        throw err;
      }
      const { size } = await stat(path);
      return { sizeBytes: size, contentType: r.ContentType, metadata: r.Metadata ?? {} };
    },
    async presignGet(key, o) {
      const cmd = new GetObjectCommand({ Bucket, Key: key, ...(o.downloadFileName ? { ResponseContentDisposition: contentDisposition(o.downloadFileName) } : {}) });
      return getSignedUrl(client, cmd, { expiresIn: o.expiresInSeconds });
    },
  };
}
