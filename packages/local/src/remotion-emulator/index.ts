import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BlobStore, Logger, RenderRequest, Renderer } from "@reelbridge/core";
import type { GetRenderProgress, RenderProgressSnapshot, RenderStartResult } from "@reelbridge/core/render/ports";
import { signRemotionWebhook } from "@reelbridge/core/render/signature";
import type { LocalRenderOptions, LocalRenderResult, RenderProgress } from "../render";

/**
 * A local stand-in for Remotion Lambda: the Renderer port over the local renderer
 * (packages/local/src/render), with Remotion Lambda's observable behaviour, so the same render
 * step, webhook and watchdog run offline unchanged:
 *
 *   - start() returns a renderId at once; the render runs in the background (at most
 *     `concurrency` at a time, the rest wait in order);
 *   - the output is stored at the request's outputKey (blobs.putFile), like outName, rendered at
 *     the request's scale;
 *   - completion is POSTed to webhook.url exactly as @remotion/serverless's invokeWebhook does:
 *     the same headers (X-Remotion-Mode, X-Remotion-Signature sha512=…, X-Remotion-Status),
 *     the same success/error/timeout bodies, signed over the exact JSON sent, retried twice
 *     with 1 s then 2 s backoff, and a timeout payload when the render outlives `timeoutMs`
 *     (Remotion's function timeout);
 *   - getProgress() answers like getRenderProgress() for the watchdog and the CLI.
 */

export type LocalRender = (opts: LocalRenderOptions) => Promise<LocalRenderResult>;

export interface LocalRemotionOptions {
  /** createLocalRenderer(...).render, or a fake in tests. */
  render: LocalRender;
  blobs: BlobStore;
  webhookSecret: string;
  /** Renders are written here before being stored. */
  tmpDir: string;
  /** Renders at once (each already uses several browser tabs); default 1. */
  concurrency?: number;
  /** Like the Remotion function's timeout: past it the render is aborted and "timeout" sent. Default 900 s. */
  timeoutMs?: number;
  /**
   * @deprecated The render scale is the request's (`RenderRequest.scale`, decided by the render
   * step, which records the size it gives). This is used only for a request that carries none
   * (e.g. one saved before requests had a scale), until the local runtime passes its
   * `renderScale` to the render step instead; then it goes.
   */
  scale?: number;
  onProgress?: (p: { renderId: string; jobId: string } & RenderProgress) => void;
  /** Webhook transport; default global fetch. */
  fetch?: typeof fetch;
  /** Wait before webhook retry n (1-based); default Remotion's 1000 * 2^(n-1) ms. */
  webhookRetryDelayMs?: (retry: number) => number;
  logger?: Logger;
  /**
   * Where renders in flight are recorded. A render cut short by a stop or crash is started again,
   * under the same renderId, by `resume()` when the runtime comes back: nothing is lost.
   */
  stateDir?: string;
}

export const LOCAL_REMOTION_RENDERER = "remotion-local";

/** A render in flight as recorded in stateDir (the secret too: a resumed render signs like the original). */
interface SavedRender {
  renderId: string;
  request: RenderRequest;
  startedAt: number;
  webhookSecret?: string | null;
}

const COSTS = { estimatedCost: 0, estimatedDisplayCost: "$0.00", currency: "USD", disclaimer: "Rendered locally: no cloud cost." };
const WEBHOOK_RETRIES = 2;
const WEBHOOK_TIMEOUT_MS = 10_000;

/** What a caller that speaks Remotion's own API (lambda-api.ts) decides per render. */
export interface LocalStartOptions {
  /** Use this renderId (Remotion-shaped; the caller may need it before start, e.g. for outName). */
  renderId?: string;
  /** Sign this render's webhook with this secret instead of the emulator's; null: NO_SECRET_PROVIDED, as Remotion does. */
  webhookSecret?: string | null;
}

interface RenderState {
  renderId: string;
  jobId: string;
  request: RenderRequest;
  /** Per-render secret (LocalStartOptions.webhookSecret); undefined: the emulator's. */
  webhookSecret: string | null | undefined;
  startedAt: number;
  progress: number;
  done: boolean;
  fatal: boolean;
  errors: Array<{ name?: string; message: string; stack?: string }>;
  outputSizeInBytes: number | null;
  timeToFinishMs: number | null;
  abort: AbortController;
  finished: Promise<void>;
  /** cancel() was called (cancelRenderOnLambda's counterpart): aborted, reported as cancelled. */
  cancelled: boolean;
}

export type LocalRemotion = Omit<Renderer, "start"> & {
  /** An empty webhook.url means no webhook (Remotion's `webhook: null`). */
  start(req: RenderRequest, opts?: LocalStartOptions): Promise<RenderStartResult>;
  getProgress: GetRenderProgress;
  /** The request a render was started with (its outputKey, customData), if the emulator knows it. */
  request(renderId: string): RenderRequest | undefined;
  /** Resolves when every render started so far has finished and sent its webhook. */
  idle(): Promise<void>;
  /** Starts again the renders a stop or crash cut short (see `stateDir`); returns how many. */
  resume(): Promise<number>;
  /**
   * Stops one render, like cancelRenderOnLambda for a render started with enableCancellation:
   * the local renderer is aborted through Remotion's cancel signal (makeCancelSignal), a queued
   * render never starts, nothing is stored at the output key, and an error webhook says it was
   * cancelled. Resolves once the render has stopped; a render that already ended is left as it is.
   */
  cancel(q: { renderId: string; bucketName?: string }): Promise<void>;
  /** The renderIds cancel() stopped, in order. */
  readonly cancelledRenderIds: readonly string[];
  /** Aborts running and queued renders (they send no webhook) and waits for them. */
  close(): Promise<void>;
};

export class RenderCancelledError extends Error {
  override name = "RenderCancelledError";
}

/** Remotion's renderIds: 10 lowercase letters and digits. */
export const newRenderId = () => {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join("");
};

const newRenderState = (renderId: string, request: RenderRequest, startedAt: number, webhookSecret?: string | null): RenderState => ({
  renderId,
  jobId: request.jobId,
  request,
  webhookSecret,
  startedAt,
  progress: 0,
  done: false,
  fatal: false,
  errors: [],
  outputSizeInBytes: null,
  timeToFinishMs: null,
  abort: new AbortController(),
  finished: Promise.resolve(),
  cancelled: false,
});

/** Errors Remotion treats as flaky (retried): timeouts and a browser or target that went away. */
const isFlaky = (err: unknown): boolean =>
  err instanceof Error && !/InvalidRenderInput/.test(err.name) && /timeout|timed out|delayRender|Target closed|Session closed|browser has disconnected|ECONNRESET/i.test(err.message);

export function createLocalRemotion(opts: LocalRemotionOptions): LocalRemotion {
  const renders = new Map<string, RenderState>();
  const cancelledRenderIds: string[] = [];
  const limit = Math.max(1, opts.concurrency ?? 1);
  const send = opts.fetch ?? fetch;
  const retryDelay = opts.webhookRetryDelayMs ?? ((n: number) => 1000 * 2 ** (n - 1));
  const timeoutMs = opts.timeoutMs ?? 900_000;
  const log = opts.logger;
  let running = 0;
  const waiting: Array<() => void> = [];
  let closed = false;

  const slot = async () => {
    if (running < limit) {
      running++;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  /** One webhook POST exactly as Remotion's invokeWebhook sends it, with its retries. */
  const postWebhook = async (st: RenderState, payload: Record<string, unknown>) => {
    if (!st.request.webhook.url) return;
    const body = JSON.stringify(payload);
    const secret = st.webhookSecret === undefined ? opts.webhookSecret : st.webhookSecret;
    const headers = {
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(body)),
      "X-Remotion-Mode": "production",
      "X-Remotion-Signature": secret ? signRemotionWebhook(secret, body) : "NO_SECRET_PROVIDED",
      "X-Remotion-Status": String(payload.type),
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await send(st.request.webhook.url, { method: "POST", headers, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS), redirect: "follow" });
        if (!res.ok) throw new Error(`Failed to send webhook to ${st.request.webhook.url}, got status code ${res.status}`);
        return;
      } catch (err) {
        if (attempt >= WEBHOOK_RETRIES) {
          // Like Remotion: recorded as a non-fatal error on the render; the watchdog reconciles.
          st.errors.push({ name: "WebhookError", message: (err as Error).message });
          log?.warn("could not deliver the render webhook", { renderId: st.renderId, jobId: st.jobId, error: (err as Error).message });
          return;
        }
        await new Promise((r) => setTimeout(r, retryDelay(attempt + 1)));
      }
    }
  };

  const staticPayload = (st: RenderState) => ({
    renderId: st.renderId,
    expectedBucketOwner: null,
    bucketName: opts.blobs.bucket,
    customData: st.request.webhook.customData ?? null,
  });

  const stateFile = (renderId: string) => (opts.stateDir ? path.join(opts.stateDir, `${renderId}.json`) : undefined);
  const remember = async (st: RenderState) => {
    const file = stateFile(st.renderId);
    if (!file) return;
    await mkdir(opts.stateDir!, { recursive: true });
    const saved: SavedRender = { renderId: st.renderId, request: st.request, startedAt: st.startedAt, ...(st.webhookSecret !== undefined ? { webhookSecret: st.webhookSecret } : {}) };
    await writeFile(`${file}.tmp`, JSON.stringify(saved));
    await rename(`${file}.tmp`, file);
  };
  const forget = async (renderId: string) => {
    const file = stateFile(renderId);
    if (file) await rm(file, { force: true });
  };

  const launch = (st: RenderState) => {
    renders.set(st.renderId, st);
    st.finished = run(st).then(async () => {
      // Settled (webhook sent) unless the emulator was closed mid-render: then it resumes later.
      if (!closed) await forget(st.renderId);
    });
  };

  const run = async (st: RenderState) => {
    await slot();
    const dir = path.join(opts.tmpDir, st.renderId);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      st.abort.abort(new Error(`the render did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      // Cancelled or closed while waiting for a slot: never started.
      st.abort.signal.throwIfAborted();
      await mkdir(dir, { recursive: true });
      st.abort.signal.throwIfAborted();
      const outputPath = path.join(dir, "out.mp4");
      // Like Remotion Lambda's maxRetries (default 1): a flaky failure (a frame that timed out
      // waiting for its media on a busy machine, a browser that went away) is tried once more.
      // At the request's scale, as Remotion Lambda renders at renderMediaOnLambda's `scale`.
      const scale = st.request.scale ?? opts.scale;
      const renderOnce = () => opts.render({
        compositionId: st.request.compositionId,
        inputProps: st.request.inputProps as LocalRenderOptions["inputProps"],
        outputPath,
        ...(scale !== undefined ? { scale } : {}),
        signal: st.abort.signal,
        onProgress: (p) => {
          // Rendering is most of the work; storing the file is the rest (as Remotion weighs it).
          st.progress = Math.min(0.99, p.progress);
          opts.onProgress?.({ renderId: st.renderId, jobId: st.jobId, ...p });
        },
      });
      const result = await renderOnce().catch((err: unknown) => {
        if (st.abort.signal.aborted || !isFlaky(err)) throw err;
        log?.warn("local render failed with a flaky error; retrying once", { renderId: st.renderId, jobId: st.jobId, error: (err as Error).message });
        return renderOnce();
      });
      await opts.blobs.putFile(st.request.outputKey, result.outputPath, { contentType: "video/mp4" });
      st.done = true;
      st.progress = 1;
      st.outputSizeInBytes = result.sizeBytes;
      st.timeToFinishMs = Date.now() - st.startedAt;
      const outputFile = await opts.blobs.presignGet(st.request.outputKey, { expiresInSeconds: 3_600 });
      await postWebhook(st, {
        type: "success",
        ...staticPayload(st),
        outputUrl: outputFile,
        lambdaErrors: [],
        outputFile,
        timeToFinish: st.timeToFinishMs,
        costs: COSTS,
      });
    } catch (err) {
      if (closed && !st.cancelled) return;
      st.fatal = true;
      if (st.cancelled) {
        st.errors.push({ name: "RenderCancelledError", message: "The render was cancelled." });
        log?.info("local render cancelled", { renderId: st.renderId, jobId: st.jobId });
        await postWebhook(st, { type: "error", ...staticPayload(st), errors: [{ message: "The render was cancelled.", name: "RenderCancelledError", stack: "" }] });
        return;
      }
      const e = err instanceof Error ? err : new Error(String(err));
      st.errors.push({ name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
      log?.error("local render failed", { renderId: st.renderId, jobId: st.jobId, timedOut, error: e.message });
      await postWebhook(st, timedOut ? { type: "timeout", ...staticPayload(st) } : { type: "error", ...staticPayload(st), errors: [{ message: e.message, name: e.name, stack: e.stack ?? "" }] });
    } finally {
      clearTimeout(timer);
      release();
      await rm(dir, { recursive: true, force: true });
    }
  };

  return {
    name: LOCAL_REMOTION_RENDERER,
    async start(req, startOpts = {}) {
      if (closed) throw new Error("the local Remotion emulator is closed");
      const renderId = startOpts.renderId ?? newRenderId();
      if (renders.has(renderId)) throw new Error(`a local render ${renderId} already exists`);
      const st = newRenderState(renderId, structuredClone(req), Date.now(), startOpts.webhookSecret);
      await remember(st);
      launch(st);
      return { renderId, bucketName: opts.blobs.bucket };
    },
    async resume() {
      if (!opts.stateDir) return 0;
      const files = (await readdir(opts.stateDir).catch(() => [] as string[])).filter((f) => f.endsWith(".json"));
      for (const f of files) {
        const saved = JSON.parse(await readFile(path.join(opts.stateDir, f), "utf8")) as SavedRender;
        if (renders.has(saved.renderId)) continue;
        log?.info("resuming a render cut short by a restart", { renderId: saved.renderId, jobId: saved.request.jobId });
        launch(newRenderState(saved.renderId, saved.request, saved.startedAt, saved.webhookSecret));
      }
      return files.length;
    },
    async getProgress({ renderId }): Promise<RenderProgressSnapshot> {
      const st = renders.get(renderId);
      if (!st) throw new Error(`no local render ${renderId}`);
      return {
        done: st.done,
        fatalErrorEncountered: st.fatal,
        overallProgress: st.progress,
        errors: st.errors.map(({ name, message }) => ({ ...(name ? { name } : {}), message })),
        outputSizeInBytes: st.outputSizeInBytes,
        timeToFinishMs: st.timeToFinishMs,
        costs: st.done ? { estimated: COSTS.estimatedCost, currency: COSTS.currency, disclaimer: COSTS.disclaimer } : null,
      };
    },
    request(renderId) {
      const st = renders.get(renderId);
      return st ? structuredClone(st.request) : undefined;
    },
    async idle() {
      // Renders may start more renders' webhooks → loop until nothing is pending.
      for (;;) {
        const pending = [...renders.values()].map((r) => r.finished);
        await Promise.all(pending);
        if ([...renders.values()].every((r) => pending.includes(r.finished))) return;
      }
    },
    cancelledRenderIds,
    async cancel({ renderId }) {
      const st = renders.get(renderId);
      if (!st || st.done || st.fatal || st.cancelled) return;
      st.cancelled = true;
      cancelledRenderIds.push(renderId);
      st.abort.abort(new RenderCancelledError("The render was cancelled."));
      await st.finished;
    },
    async close() {
      closed = true;
      for (const st of renders.values()) st.abort.abort(new Error("the local Remotion emulator was closed"));
      await Promise.allSettled([...renders.values()].map((r) => r.finished));
    },
  };
}
