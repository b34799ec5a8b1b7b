import type { App } from "sst/constructs";
import { stageConfig } from "../../packages/functions/src/stage-config";
import type { StageConfig } from "../../packages/functions/src/stage-config";

/** The stage's typed configuration (packages/functions/src/stage-config.ts), read once per app. */
const cache = new WeakMap<App, StageConfig>();
export function useStageConfig(app: App): StageConfig {
  let c = cache.get(app);
  if (!c) {
    c = stageConfig(app.stage);
    cache.set(app, c);
  }
  return c;
}
