import type { JobRecord, JobStore, StepStateStore } from "../ports";
import { createJobLedger } from "./ledger";
import { applyEvent, applyInvocations, toJobRecord } from "./reducer";
import type { OwnInvocation } from "./cost-ledger";
import type { AnyPipelineEvent, JobState } from "./reducer";
import { InvalidCursorError, assertStateName, decodeCursor, encodeCursor } from "./errors";

/**
 * In-memory JobStore over the same reducer as the DynamoDB adapter: for use-case tests and
 * anything that needs a job store without the emulator.
 */
export function createMemoryJobStore(opts: { state?: StepStateStore } = {}): JobStore & { states: Map<string, JobState> } {
  const states = new Map<string, JobState>();
  const sortKey = (s: JobState) => `${s.createdAt}#${s.jobId}`;
  return {
    states,
    ...(opts.state ? { ledger: createJobLedger(opts.state) } : {}),
    async apply(event: AnyPipelineEvent, opts?: { invocations?: Record<string, OwnInvocation> }) {
      const { applied, state } = applyEvent(states.get(event.detail.metadata.jobId), event, opts?.invocations);
      if (applied) states.set(state.jobId, state);
      return { applied, record: toJobRecord(state) };
    },
    async recordInvocations(jobId: string, invocations: Record<string, OwnInvocation>) {
      const current = states.get(jobId);
      if (!current) return { known: false, applied: false };
      const { applied, state } = applyInvocations(current, invocations);
      if (applied) states.set(jobId, state);
      return { known: true, applied };
    },
    async get(jobId: string) {
      const s = states.get(jobId);
      return s ? toJobRecord(s) : undefined;
    },
    async listByOwner(owner: string, opts: { limit: number; cursor?: string }) {
      let after: string | undefined;
      if (opts.cursor !== undefined) {
        const c = decodeCursor(opts.cursor) as { owner?: unknown; after?: unknown } | null;
        if (!c || c.owner !== owner || typeof c.after !== "string") throw new InvalidCursorError();
        after = c.after;
      }
      const mine = [...states.values()]
        .filter((s) => s.owner === owner && (after === undefined || sortKey(s) < after))
        .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : -1));
      const page = mine.slice(0, opts.limit);
      const items: JobRecord[] = page.map(toJobRecord);
      const last = page.at(-1);
      return mine.length > opts.limit && last ? { items, cursor: encodeCursor({ owner, after: sortKey(last) }) } : { items };
    },
  };
}

/** In-memory StepStateStore with the DynamoDB adapter's semantics. */
export function createMemoryStepStateStore(): StepStateStore & { items: Map<string, Record<string, unknown>> } {
  const items = new Map<string, Record<string, unknown>>();
  const key = (jobId: string, name: string) => {
    assertStateName(name);
    return `${jobId}\u0000${name}`;
  };
  return {
    items,
    async get(jobId, name) {
      const v = items.get(key(jobId, name));
      return v ? structuredClone(v) : undefined;
    },
    async putIfAbsent(jobId, name, value) {
      const k = key(jobId, name);
      const existing = items.get(k);
      if (existing) return { created: false, value: structuredClone(existing) };
      items.set(k, structuredClone(value));
      return { created: true, value: structuredClone(value) };
    },
    async update(jobId, name, value) {
      const k = key(jobId, name);
      items.set(k, { ...(items.get(k) ?? {}), ...structuredClone(value) });
    },
  };
}
