import type { StepStateStore } from "../../src/ports";

export type MemoryStepStateStore = StepStateStore & {
  /** Records by `${jobId}#${name}`, as stored (cloned: what a serialising store would keep). */
  readonly records: Map<string, Record<string, unknown>>;
  /** Every write, in order. */
  readonly writes: Array<{ op: "putIfAbsent" | "update"; jobId: string; name: string; created?: boolean }>;
};

const id = (jobId: string, name: string) => `${jobId}#${name}`;

/**
 * A StepStateStore in memory with DynamoDB's semantics: putIfAbsent is a conditional put
 * (attribute_not_exists) that reports the value already stored; update merges attributes and
 * creates the record when absent (UpdateItem). Values are cloned in and out, as a store that
 * serialises them would.
 */
export function createMemoryStepStateStore(): MemoryStepStateStore {
  const records = new Map<string, Record<string, unknown>>();
  const writes: MemoryStepStateStore["writes"] = [];
  return {
    records,
    writes,
    async get(jobId, name) {
      const v = records.get(id(jobId, name));
      return v === undefined ? undefined : structuredClone(v);
    },
    async putIfAbsent(jobId, name, value) {
      const existing = records.get(id(jobId, name));
      if (existing !== undefined) {
        writes.push({ op: "putIfAbsent", jobId, name, created: false });
        return { created: false, value: structuredClone(existing) };
      }
      records.set(id(jobId, name), structuredClone(value));
      writes.push({ op: "putIfAbsent", jobId, name, created: true });
      return { created: true, value: structuredClone(value) };
    },
    async update(jobId, name, value) {
      const existing = records.get(id(jobId, name)) ?? {};
      records.set(id(jobId, name), { ...existing, ...structuredClone(value) });
      writes.push({ op: "update", jobId, name });
    },
  };
}
