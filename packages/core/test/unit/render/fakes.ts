import { readFileSync } from "node:fs";
import path from "node:path";
import type { PipelineEvent } from "@reelbridge/events";
import type { BlobHead, BlobStore, Clock, Logger, RenderRequest, Renderer, StepStateStore } from "../../../src/ports";
import { BlobNotFoundError } from "../../../src/ports";

const samples = path.resolve(import.meta.dirname, "../../../../events/samples/v1");
/** A fresh copy of a v1 sample event (clone before mutation). */
export const sample = <T extends "VideoBaseReady" | "RenderStarted">(type: T): PipelineEvent<T> =>
  JSON.parse(readFileSync(path.join(samples, `${type}.json`), "utf8")) as PipelineEvent<T>;

export const JOB_ID = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";

export function memoryState(): StepStateStore & { dump(): Map<string, Record<string, unknown>> } {
  const items = new Map<string, Record<string, unknown>>();
  const k = (jobId: string, name: string) => `${jobId}|${name}`;
  const clone = <T>(v: T): T => structuredClone(v);
  return {
    dump: () => items,
    async get(jobId, name) {
      const v = items.get(k(jobId, name));
      return v ? clone(v) : undefined;
    },
    // Synchronous between the read and the write: atomic, like a conditional write.
    async putIfAbsent(jobId, name, value) {
      const existing = items.get(k(jobId, name));
      if (existing) return { created: false, value: clone(existing) };
      items.set(k(jobId, name), clone(value));
      return { created: true, value: clone(value) };
    },
    async update(jobId, name, value) {
      items.set(k(jobId, name), { ...(items.get(k(jobId, name)) ?? {}), ...clone(value) });
    },
  };
}

export function memoryBlobs(bucket = "reelbridge-prod-media"): BlobStore & { objects: Map<string, { bytes: Uint8Array; contentType: string }> } {
  const objects = new Map<string, { bytes: Uint8Array; contentType: string }>();
  const head = (key: string): BlobHead | undefined => {
    const o = objects.get(key);
    return o ? { sizeBytes: o.bytes.byteLength, contentType: o.contentType, metadata: {} } : undefined;
  };
  return {
    bucket,
    objects,
    async head(key) {
      return head(key);
    },
    async get(key) {
      const o = objects.get(key);
      if (!o) throw new BlobNotFoundError(key);
      return { ...head(key)!, bytes: o.bytes };
    },
    async put(key, body, opts) {
      objects.set(key, { bytes: body, contentType: opts.contentType });
    },
    async putFile(key, file, opts) {
      objects.set(key, { bytes: new Uint8Array(readFileSync(file)), contentType: opts.contentType });
    },
    async getToFile() {
      throw new Error("not used");
    },
    async presignGet(key, opts) {
      return `https://${bucket}.s3.eu-west-1.amazonaws.com/${key}?X-Amz-Expires=${opts.expiresInSeconds}&X-Amz-Signature=abc`;
    },
  };
}

export function fakeRenderer(opts: { ids?: string[]; fail?: (req: RenderRequest) => Error | undefined; delayMs?: number } = {}): Renderer & {
  requests: RenderRequest[];
} {
  const ids = [...(opts.ids ?? ["8hfxlw7yoq", "r2", "r3", "r4"])];
  const requests: RenderRequest[] = [];
  return {
    name: "remotion-lambda",
    requests,
    async start(req) {
      requests.push(structuredClone(req));
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const err = opts.fail?.(req);
      if (err) throw err;
      return { renderId: ids.shift() ?? `r${requests.length}`, bucketName: "remotionlambda-euwest1-abc" } as { renderId: string };
    },
  };
}

export function manualClock(start = "2026-11-20T10:01:41.000Z"): Clock & { advance(seconds: number): void; set(iso: string): void } {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance: (s) => {
      t += s * 1000;
    },
    set: (iso) => {
      t = Date.parse(iso);
    },
  };
}

export const silentLogger = (): Logger & { lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> } => {
  const lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => void lines.push({ level, message, extra });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
};
