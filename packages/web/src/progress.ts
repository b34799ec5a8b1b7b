import type { StepProgress } from "@reelbridge/events/http";

/** "about 40 s left", "about 2 min left", "almost done". */
export function timeLeft(seconds: number): string {
  if (seconds < 3) return "almost done";
  if (seconds < 90) return `about ${Math.round(seconds / 5) * 5 || Math.round(seconds)} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

/**
 * A running step's progress as people read it (the status API's `progress`, events/http.ts):
 * the percentage and the time left when the provider reports a fraction, else how long it has
 * been running. `now` is the page's clock.
 */
export function progressText(p: StepProgress, now: Date = new Date()): string {
  const parts: string[] = [];
  if (p.fraction !== undefined) parts.push(`${Math.round(p.fraction * 100)}%`);
  if (p.secondsLeft !== undefined) {
    // The estimate was made when the answer was given: count down from there.
    const since = p.measuredAt ? Math.max(0, (now.getTime() - Date.parse(p.measuredAt)) / 1000) : 0;
    parts.push(timeLeft(Math.max(0, p.secondsLeft - since)));
  } else if (p.startedAt) {
    const s = Math.max(0, Math.round((now.getTime() - Date.parse(p.startedAt)) / 1000));
    parts.push(`running for ${s < 90 ? `${s} s` : `${Math.round(s / 60)} min`}`);
  }
  return parts.join(", ");
}
