/**
 * Finds a running local runtime through `<dataDir>/runtime.json` (written by `bus.listen()`) and
 * calls its AWS JSON 1.1 endpoint. Used by the `reelbridge events put|replay` and `dlq` commands.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { RuntimeNotRunningError } from "./errors";
import { files } from "./store";

/** --data-dir, else $REELBRIDGE_DATA_DIR, else .reelbridge/ in the current directory. */
export function resolveDataDir(flag?: string): string {
  return resolve(flag ?? process.env.REELBRIDGE_DATA_DIR ?? ".reelbridge");
}

export function runtimeUrl(dataDir: string): string | undefined {
  const file = files(dataDir).runtime;
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, "utf8")) as { url?: unknown };
    return typeof info.url === "string" ? info.url : undefined;
  } catch {
    return undefined;
  }
}

export class RuntimeCallError extends Error {
  override readonly name = "RuntimeCallError";
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
  }
}

export async function callRuntime<T>(dataDir: string, target: string, body: unknown): Promise<T> {
  const url = runtimeUrl(dataDir);
  if (!url) throw new RuntimeNotRunningError(`no running reelbridge runtime found (no ${files(dataDir).runtime}); start one with \`reelbridge dev\` or pass --data-dir`);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
      body: JSON.stringify(body),
    });
  } catch (cause) {
    throw new RuntimeNotRunningError(`the runtime in ${dataDir} does not answer at ${url} (stale runtime.json?)`, { cause });
  }
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) throw new RuntimeCallError(String(parsed.__type ?? "Error"), String(parsed.message ?? text), res.status);
  return parsed as T;
}

export async function runtimeIsUp(dataDir: string): Promise<boolean> {
  try {
    await callRuntime(dataDir, "ReelbridgeLocal.Ping", {});
    return true;
  } catch {
    return false;
  }
}
