import type { QuoteConfig } from "@reelbridge/core/jobs/cost";
import type { Platform } from "./platform";

/**
 * What a stage's quote prices (core jobs/cost.ts quoteJob): its generator (stage config
 * `ltx.provider` and `model`) and its renderer — Remotion Lambda in AWS, this machine's Chromium
 * in the embedded runtime (stage "local"), which pays nothing for it. One definition for the
 * upload API and the re-render route.
 */
export function quoteConfigFor(p: Pick<Platform, "stage" | "config">, opts: { generation?: boolean } = {}): QuoteConfig {
  return {
    ltx: { provider: p.config.ltx.provider, model: p.config.ltx.model },
    renderer: p.stage === "local" ? "remotion-local" : "remotion-lambda",
    ...(opts.generation === false ? { generation: false } : {}),
  };
}
