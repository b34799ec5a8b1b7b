import { PermanentError, TransientError } from "../../errors";
import type { GenerationCheck, GenerationRequest, Logger, VideoGenerator } from "../../ports";
import {
  LTX_DEFAULT_BASE_URL,
  LTX_FPS,
  LTX_RESOLUTIONS,
  fitToModel,
  jobStatusSchema,
  parseErrorEnvelope,
  parseRetryAfter,
  submitAcceptedSchema,
} from "./contract";
import type { LtxJobStatus, SubmitImageToVideo } from "./contract";
import { backoffMs } from "../../backoff";

export interface LtxVideoGeneratorOptions {
  apiKey: string;
  /** Default https://api.ltx.video. */
  baseUrl?: string;
  /** Used when the request names none (stage config). */
  model: string;
  fetch?: typeof globalThis.fetch;
  /** Waits; tests inject a fast one. Must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1), for backoff jitter. */
  random?: () => number;
  now?: () => number;
  /**
   * When the LTX step looks at a generation: first this long after submitting, then at this
   * interval (seconds). LTX suggests polling every 5 s; a look is a short invocation of its own
   * (docs/decisions/0010), so fewer looks cost less: ltx-2-fast takes 30–120 s (REFERENCE.md §1.6).
   */
  checkIntervalSeconds?: { first: number; next: number };
  /** Per API request (submit, status), including reading the body. */
  requestTimeoutMs?: number;
  /** For downloading the clip. */
  downloadTimeoutMs?: number;
  /** Attempts per request on 5xx, network errors and timeouts. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** 429s honoured in-invocation per request; after that (or for a longer Retry-After) → TransientError. */
  maxThrottleRetries?: number;
  /**
   * The longest Retry-After waited in-invocation, seconds (default 2): a longer one goes back to
   * the queue as a TransientError, whose Retry-After the redelivery honours, so no invocation
   * sits out a throttle.
   */
  maxRetryAfterSeconds?: number;
  /** Refuse clips larger than this (bytes). */
  maxVideoBytes?: number;
  logger?: Logger;
}

export const LTX_GENERATOR_NAME = "ltx-2";
/** First look 30 s after submitting, then every 10 s (see checkIntervalSeconds). */
export const LTX_CHECK_INTERVAL_SECONDS = { first: 30, next: 10 } as const;

/** The recorded generation is gone (404 on status, or its result URL expired). */
class GenerationGoneError extends Error {
  constructor(readonly generationId: string, readonly what: string) {
    super(`LTX generation ${generationId}: ${what}`);
    this.name = "GenerationGoneError";
  }
}

interface HttpResult {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const errorMessage = (e: unknown) => (e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e));

/**
 * VideoGenerator over Lightricks' async v2 API (REFERENCE.md §1.2), in the submit/check shape
 * (docs/decisions/0010): `submit` is POST /v2/image-to-video → 202 {id}; `check` is one
 * GET /v2/image-to-video/{id}, and when it says completed, the download of result.video_url
 * (LTX keeps it 24 h). Nothing here waits for the generation: the caller schedules the looks.
 *
 * Errors: 401 → permanent "Internal" (our API key is wrong: an operator must fix the secret),
 * 402 → InsufficientCredits, other 4xx → GenerationRejected, a failed job → GenerationFailed,
 * a result gone before we stored it → GenerationExpired. 429 waits Retry-After (bounded) a few
 * times in-invocation, then TransientError(retryAfterSeconds); 5xx, network errors and
 * timeouts retry with exponential backoff and full jitter, then TransientError.
 *
 * A generation LTX no longer knows (status 404: LTX forgets jobs 24 h after they finish, e.g. a
 * DLQ redrive days later) or whose video_url expired is reported as `gone`; the caller decides
 * whether to pay for a replacement.
 *
 * The API key goes only to baseUrl, never to the result URL's host, and is never logged.
 */
export function createLtxVideoGenerator(opts: LtxVideoGeneratorOptions): VideoGenerator {
  const baseUrl = (opts.baseUrl ?? LTX_DEFAULT_BASE_URL).replace(/\/+$/, "");
  const doFetch = opts.fetch ?? globalThis.fetch;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const checkIntervalSeconds = opts.checkIntervalSeconds ?? LTX_CHECK_INTERVAL_SECONDS;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const downloadTimeoutMs = opts.downloadTimeoutMs ?? 120_000;
  const maxAttempts = opts.maxAttempts ?? 4;
  const backoffBaseMs = opts.backoffBaseMs ?? 500;
  const backoffMaxMs = opts.backoffMaxMs ?? 8_000;
  const maxThrottleRetries = opts.maxThrottleRetries ?? 3;
  const maxRetryAfterSeconds = opts.maxRetryAfterSeconds ?? 2;
  const maxVideoBytes = opts.maxVideoBytes ?? 512 * 1024 * 1024;
  const log = opts.logger;
  if (!opts.apiKey) throw new Error("createLtxVideoGenerator: apiKey is required");

  /** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
  const backoff = (attempt: number) => backoffMs(attempt, { baseMs: backoffBaseMs, maxMs: backoffMaxMs, jitter: "full", random });

  /**
   * One logical request with the retry policy. Returns any non-429, non-5xx response with its
   * body read (so a slow body counts against the timeout); throws TransientError when retries
   * run out. `what` names the request in messages.
   */
  async function send(what: string, url: string, init: { method: "GET" | "POST"; body?: string; auth: boolean; timeoutMs: number }, signal?: AbortSignal): Promise<HttpResult> {
    let failures = 0;
    let throttles = 0;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const timeout = AbortSignal.timeout(init.timeoutMs);
      const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
      const headers: Record<string, string> = { accept: "application/json" };
      if (init.auth) headers.authorization = `Bearer ${opts.apiKey}`;
      if (init.body !== undefined) headers["content-type"] = "application/json";
      let res: HttpResult | undefined;
      let problem: string;
      try {
        const r = await doFetch(url, { method: init.method, headers, ...(init.body !== undefined ? { body: init.body } : {}), signal: combined, redirect: "follow" });
        const declared = Number(r.headers.get("content-length") ?? "0");
        if (declared > maxVideoBytes) {
          await r.body?.cancel();
          throw new PermanentError("GenerationFailed", `${what}: response of ${declared} bytes exceeds the ${maxVideoBytes}-byte limit`);
        }
        res = { status: r.status, headers: r.headers, body: new Uint8Array(await r.arrayBuffer()) };
        problem = `HTTP ${r.status}`;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (err instanceof PermanentError) throw err;
        problem = timeout.aborted ? `timed out after ${init.timeoutMs} ms` : `network error (${errorMessage(err)})`;
      }

      if (res && res.status === 429) {
        const env = parseErrorEnvelope(text(res.body));
        const retryAfter = parseRetryAfter(res.headers.get("retry-after"), now()) ?? 5;
        const kind = env.type ?? "rate_limit_error";
        if (throttles < maxThrottleRetries && retryAfter <= maxRetryAfterSeconds) {
          throttles++;
          log?.warn("LTX throttled; waiting Retry-After", { request: what, errorType: kind, retryAfterSeconds: retryAfter, throttles });
          await sleep(retryAfter * 1000, signal);
          continue;
        }
        throw new TransientError(`LTX throttled ${what} (429 ${kind}${env.message ? `: ${env.message}` : ""}); retry after ${retryAfter} s`, { retryAfterSeconds: retryAfter });
      }
      if (res && res.status < 500) return res;
      if (res) {
        const env = parseErrorEnvelope(text(res.body));
        if (env.type || env.message) problem += ` ${env.type ?? ""}${env.message ? `: ${env.message}` : ""}`.trimEnd();
      }
      failures++;
      if (failures >= maxAttempts) throw new TransientError(`LTX ${what} failed after ${failures} attempts: ${problem}`);
      const delay = backoff(failures);
      log?.warn("LTX request failed; retrying with backoff", { request: what, problem, attempt: failures, delayMs: delay });
      await sleep(delay, signal);
    }
  }

  /** Maps a 4xx (other than 429) from the API to the permanent error it means. */
  function clientError(what: string, res: HttpResult): never {
    const env = parseErrorEnvelope(text(res.body));
    const detail = `${env.type ?? `HTTP ${res.status}`}${env.message ? `: ${env.message}` : ""}`;
    if (res.status === 401) {
      throw new PermanentError("Internal", `invalid LTX API key: LTX answered 401 to ${what} (${detail}); check the LTX_API_KEY secret`);
    }
    if (res.status === 402) throw new PermanentError("InsufficientCredits", `LTX has no credits left for this generation (${detail}); top up the LTX account`);
    throw new PermanentError("GenerationRejected", `LTX rejected ${what} (${res.status} ${detail})`);
  }

  async function submit(body: SubmitImageToVideo, signal?: AbortSignal): Promise<string> {
    const res = await send("submit", `${baseUrl}/v2/image-to-video`, { method: "POST", body: JSON.stringify(body), auth: true, timeoutMs: requestTimeoutMs }, signal);
    if (res.status !== 202 && res.status !== 200 && res.status !== 201) clientError("the generation request", res);
    let parsed;
    try {
      parsed = submitAcceptedSchema.safeParse(JSON.parse(text(res.body)));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) throw new PermanentError("Internal", `LTX accepted the generation (HTTP ${res.status}) but returned no job id`);
    return parsed.data.id;
  }

  async function status(id: string, signal?: AbortSignal): Promise<LtxJobStatus> {
    const res = await send("status poll", `${baseUrl}/v2/image-to-video/${encodeURIComponent(id)}`, { method: "GET", auth: true, timeoutMs: requestTimeoutMs }, signal);
    if (res.status === 404) throw new GenerationGoneError(id, "status is 404 (unknown or expired)");
    if (res.status !== 200) clientError(`the status poll of ${id}`, res);
    let parsed;
    try {
      parsed = jobStatusSchema.safeParse(JSON.parse(text(res.body)));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) throw new TransientError(`LTX status of ${id} was not the documented JSON`);
    return parsed.data;
  }

  async function download(id: string, videoUrl: string, signal?: AbortSignal): Promise<Uint8Array> {
    let url: URL;
    try {
      url = new URL(videoUrl);
    } catch {
      throw new PermanentError("GenerationFailed", `LTX generation ${id} completed with an unusable video_url`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new PermanentError("GenerationFailed", `LTX generation ${id} completed with a non-HTTP video_url`);
    // No Authorization header: the result lives on a storage host, which must never see the key.
    const res = await send("video download", url.toString(), { method: "GET", auth: false, timeoutMs: downloadTimeoutMs }, signal);
    if (res.status === 403 || res.status === 404 || res.status === 410) throw new GenerationGoneError(id, `video_url answered ${res.status} (expired)`);
    if (res.status !== 200) throw new PermanentError("GenerationFailed", `LTX generation ${id}: downloading the video answered HTTP ${res.status}`);
    if (res.body.byteLength === 0) throw new TransientError(`LTX generation ${id}: the downloaded video is empty`);
    return res.body;
  }

  /** One look: pending, completed (downloaded), or gone; a failed generation throws GenerationFailed. */
  async function check(id: string, signal?: AbortSignal): Promise<GenerationCheck> {
    let s: LtxJobStatus;
    try {
      s = await status(id, signal);
    } catch (err) {
      if (err instanceof GenerationGoneError) return { status: "gone", why: err.message };
      throw err;
    }
    log?.info("LTX generation status", { generationId: id, status: s.status });
    if (s.status === "completed") {
      const url = s.result?.video_url;
      if (!url) throw new PermanentError("GenerationFailed", `LTX generation ${id} completed without result.video_url`);
      try {
        return { status: "completed", video: await download(id, url, signal), contentType: "video/mp4" };
      } catch (err) {
        if (err instanceof GenerationGoneError) return { status: "gone", why: err.message };
        throw err;
      }
    }
    if (s.status === "failed") {
      const e = s.error;
      const why = typeof e === "string" ? e : e ? [e.type, e.message].filter(Boolean).join(": ") : "";
      throw new PermanentError("GenerationFailed", `LTX generation ${id} failed${why ? `: ${why}` : ""}`.slice(0, 2000));
    }
    // pending, processing, or a status this adapter does not know yet: not finished.
    return { status: "pending", providerStatus: s.status };
  }

  function requestBody(req: GenerationRequest): SubmitImageToVideo {
    const model = req.model ?? opts.model;
    const resolution = `${req.width}x${req.height}`;
    if (!(LTX_RESOLUTIONS as readonly string[]).includes(resolution)) {
      throw new PermanentError("Internal", `LTX cannot make a ${resolution} clip; it takes ${LTX_RESOLUTIONS.join(", ")}`);
    }
    const fit = fitToModel(model, req.durationSeconds, req.fps);
    if (!(LTX_FPS as readonly number[]).includes(fit.fps)) {
      throw new PermanentError("Internal", `LTX cannot make ${fit.fps} fps; it takes ${LTX_FPS.join(", ")} (check the stage's ltx.fps)`);
    }
    if (fit.adjusted.length) log?.info("LTX request adjusted to the model's limits", { jobId: req.jobId, model, adjusted: fit.adjusted });
    if (!req.image.url) throw new PermanentError("Internal", "the LTX generator needs the image as a URL it can fetch (presigned GET)");
    const prompt = req.prompt.trim() || "Subtle, natural motion; the camera moves slowly and smoothly.";
    return {
      image_uri: req.image.url,
      prompt: prompt.slice(0, 5000),
      model: model as SubmitImageToVideo["model"],
      duration: fit.duration,
      resolution: resolution as SubmitImageToVideo["resolution"],
      fps: fit.fps as SubmitImageToVideo["fps"],
      // Remotion adds the music; LTX's own audio would fight it.
      generate_audio: false,
      camera_motion: req.cameraMotion,
    };
  }

  return {
    name: LTX_GENERATOR_NAME,
    checkIntervalSeconds,
    async submit(req, o) {
      const body = requestBody(req);
      const id = await submit(body, o?.signal);
      log?.info("LTX generation submitted", { jobId: req.jobId, generationId: id, model: body.model, duration: body.duration, resolution: body.resolution, fps: body.fps });
      return { generationId: id, model: body.model };
    },
    check: (id, o) => check(id, o?.signal),
  };
}
