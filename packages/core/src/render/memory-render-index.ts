import type { InFlightRender, RenderIndex } from "./ports";

/** An in-process RenderIndex (unit tests, single-process local runs). */
export function createMemoryRenderIndex(): RenderIndex & { entries(): InFlightRender[] } {
  const items = new Map<string, InFlightRender>();
  const key = (e: { jobId: string; startedAt: string; version?: number }) => `${e.startedAt}#${e.jobId}${e.version && e.version > 1 ? `#v${e.version}` : ""}`;
  return {
    entries: () => [...items.values()],
    async add(entry) {
      items.set(key(entry), { ...entry });
    },
    async remove(entry) {
      items.delete(key(entry));
    },
    async listInFlight(olderThan, opts) {
      const cutoff = olderThan.toISOString();
      return [...items.entries()]
        .filter(([, e]) => e.startedAt < cutoff)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, opts?.limit ?? Number.POSITIVE_INFINITY)
        .map(([, e]) => ({ ...e }));
    },
  };
}
