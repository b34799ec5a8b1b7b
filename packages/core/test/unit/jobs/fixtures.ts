import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pipelineEvents } from "@reelbridge/events";
import type { DetailType, PipelineEvent } from "@reelbridge/events";

const dir = fileURLToPath(new URL("../../../../events/samples/v1/", import.meta.url));
const raw = new Map<string, unknown>();

/** A v1 sample event, parsed against its contract; a fresh clone every call. */
export function sample<T extends DetailType>(type: T): PipelineEvent<T> {
  if (!raw.has(type)) raw.set(type, JSON.parse(readFileSync(`${dir}${type}.json`, "utf8")));
  return pipelineEvents[type].event.parse(structuredClone(raw.get(type))) as PipelineEvent<T>;
}

/** A sample with another eventId (and optionally time / jobId): a distinct logical event. */
export function variant<T extends DetailType>(type: T, patch: { eventId?: string; time?: string; jobId?: string; owner?: string; createdAt?: string }): PipelineEvent<T> {
  const e = sample(type);
  const m = e.detail.metadata;
  if (patch.eventId) m.eventId = patch.eventId;
  if (patch.time) m.time = patch.time;
  const job = (e.detail.data as { job?: { jobId: string; owner: string; createdAt: string } }).job;
  if (patch.jobId) {
    m.jobId = patch.jobId;
    if (job) job.jobId = patch.jobId;
  }
  if (job && patch.owner) job.owner = patch.owner;
  if (job && patch.createdAt) job.createdAt = patch.createdAt;
  return e;
}

export const successTypes = ["VideoBaseStarted", "VideoBaseReady", "RenderStarted", "RenderCompleted", "SegmentsReady", "NotificationDelivered", "NotificationFailed"] as const;
export const allTypes = [...successTypes, "VideoBaseFailed", "RenderFailed", "SegmentsFailed"] as const;

/** The events of one job, with every field (and the jobId) re-keyed for job `jobId`. */
export function jobEvents(types: readonly DetailType[], jobId?: string, owner?: string): PipelineEvent<DetailType>[] {
  return types.map((t) => {
    if (!jobId) return sample(t);
    const e = variant(t, { jobId, owner });
    const json = JSON.stringify(e).replaceAll("01JD7X8Q2RZ4V6N3K5M9P1T0AB", jobId).replaceAll("01JD7XA00000000000000000", `${jobId.slice(0, 24)}`);
    return JSON.parse(json) as PipelineEvent<DetailType>;
  });
}

export function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) yield [items[i] as T, ...p];
  }
}

/** Small seeded PRNG (mulberry32): shuffles are reproducible. */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], rand: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** The events shuffled, with `dups` of them delivered again at random places. */
export function shuffledWithDuplicates<T>(items: readonly T[], rand: () => number, dups: number): T[] {
  const out = shuffled(items, rand);
  for (let k = 0; k < dups; k++) {
    const e = items[Math.floor(rand() * items.length)] as T;
    out.splice(Math.floor(rand() * (out.length + 1)), 0, structuredClone(e));
  }
  return out;
}
