import type { SecretName } from "../topology-types";

/**
 * The one place Lambda code reads its environment (STYLE.md): required, trimmed, and a named
 * error when missing. Adapters are built once per cold start from what this returns.
 */
export class MissingEnvironmentError extends Error {
  readonly code = "MissingEnvironment";
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is required but not set`);
    this.name = "MissingEnvironmentError";
  }
}

export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[name]?.trim();
  if (!v) throw new MissingEnvironmentError(name);
  return v;
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[name]?.trim() || undefined;
}

/** What every function of the pipeline is given by stacks/ (see stacks/Pipeline.ts). */
export interface FunctionEnv {
  stage: string;
  mediaBucket: string;
  busName: string;
  jobsTable: string;
}

export function functionEnv(env: NodeJS.ProcessEnv = process.env): FunctionEnv {
  return {
    stage: requiredEnv("REELBRIDGE_STAGE", env),
    mediaBucket: requiredEnv("MEDIA_BUCKET", env),
    busName: requiredEnv("BUS_NAME", env),
    jobsTable: requiredEnv("JOBS_TABLE", env),
  };
}

/** Memoises an async factory: dependencies are built once per cold start, on first use. */
export function once<T>(factory: () => Promise<T> | T): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= Promise.resolve().then(factory).catch((err) => {
    p = undefined;
    throw err;
  }));
}

/**
 * Reads an SST secret (bound with `bind: [secret]` in stacks/). Imported lazily: sst/node's
 * config module fetches from SSM at import time and throws without SST_APP, so it must never
 * load in tests or in the local runtime, which pass secrets in as dependencies.
 */
export async function sstSecret(name: SecretName): Promise<string> {
  const mod = (await import("sst/node/config")) as unknown as { Config: Record<string, string | undefined> };
  const v = mod.Config[name];
  if (!v) throw new MissingEnvironmentError(`SST secret ${name}`);
  return v;
}
