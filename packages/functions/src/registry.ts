import type { QueueHandlerOptions } from "./lib/handlers";
import type { Platform } from "./lib/platform";
import * as dbWriter from "./db-writer";
import * as ltxStep from "./ltx";
import * as notifier from "./notifier";
import * as renderStep from "./render";
import * as renderWatchdog from "./render-watchdog";
import * as renderWebhook from "./render-webhook";
import * as renderCanceller from "./render-canceller";
import * as jobsApi from "./jobs-api";
import * as segmenter from "./segmenter";
import * as statusApi from "./status-api";
import * as supabaseSink from "./supabase-sink";
import * as uploadApi from "./upload-api";

/**
 * Every handler module of the topology, by its topology name: how to build its dependencies from
 * a platform and how to make its handler from them. The local runtime iterates the topology
 * through this (packages/local/src/runtime/runtime.ts); stacks/ needs only the handler paths.
 * A new function is added here and in the topology, and nowhere in packages/local; a unit test
 * proves this covers the topology.
 */
export interface HandlerModule {
  NAME: string;
  buildDeps(p: Platform): Promise<unknown>;
  /** Queued steps take `{ changeVisibility }` as their second argument; the others ignore it. */
  createHandler(deps: () => Promise<never>, opts?: QueueHandlerOptions): (event: never, context: never) => Promise<unknown>;
}

const modules = [ltxStep, renderStep, renderCanceller, dbWriter, segmenter, notifier, uploadApi, statusApi, jobsApi, renderWebhook, renderWatchdog] as unknown as HandlerModule[];

/** Subscriptions only some stages turn on (topology `requires`): their modules are here too, so every function that may exist is. */
const optionalModules = [supabaseSink] as unknown as HandlerModule[];

export const HANDLER_MODULES: Readonly<Record<string, HandlerModule>> = Object.fromEntries([...modules, ...optionalModules].map((m) => [m.NAME, m]));
