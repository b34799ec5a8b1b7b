import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorBody, fitToModel, submitImageToVideoSchema } from "../../src/adapters/ltx/contract";
import type { SubmitImageToVideo } from "../../src/adapters/ltx/contract";

/**
 * A local server that speaks Lightricks' LTX-2 async v2 contract (REFERENCE.md §1), so the LTX
 * adapter is tested over real HTTP and the local runtime can run the production code path:
 *
 *   POST /v2/image-to-video        Bearer auth, body validated (fields, enums, model limits),
 *                                  image_uri fetched like LTX does (HTTPS, domain names only,
 *                                  10 s timeout, ≤ 15 MB, PNG/JPEG/WebP) → 202 {id, created_at}
 *   GET  /v2/image-to-video/{id}   pending → processing → completed (result.video_url) | failed (error)
 *   GET  /results/{id}/video.mp4   the clip; 404 once the job's retention is over
 *
 * Errors use LTX's envelope {"type":"error","error":{"type","message"}}. Faults are scriptable
 * per route (429 with Retry-After, 5xx, 401, 402, slow responses, dropped connections), and
 * jobs can be made to fail or expire. Every request is recorded, so tests can assert how many
 * generations were paid for (accepted submits).
 */

export type LtxRoute = "submit" | "status" | "video";

export type LtxFault =
  /** Answer with this status and LTX's error envelope (429 gets Retry-After). */
  | { kind: "status"; status: number; errorType?: string; message?: string; retryAfterSeconds?: number }
  /** Answer normally, but only after this long (a slow response). */
  | { kind: "delay"; ms: number }
  /** Drop the connection without answering (a network error). */
  | { kind: "reset" };

export interface VideoFactoryInput {
  id: string;
  image: Uint8Array;
  request: SubmitImageToVideo;
  width: number;
  height: number;
  fps: number;
}

export interface FakeLtxServerOptions {
  apiKey: string;
  port?: number;
  host?: string;
  /** LTX refuses image URLs on IP addresses; the local runtime serves images from 127.0.0.1. */
  allowIpHosts?: boolean;
  /** LTX fetches HTTPS only; local blob stores serve plain HTTP. */
  allowHttp?: boolean;
  /** LTX gives up fetching the image after 10 s. */
  imageFetchTimeoutMs?: number;
  /** Time a job stays pending, then processing (ms). */
  pendingMs?: number;
  processingMs?: number;
  /** How long status and result stay available after a job finishes (LTX: 24 h). */
  retentionMs?: number;
  /** Makes the clip. Default: the offline FFmpeg generator animating the fetched image. */
  videoFactory?: (input: VideoFactoryInput) => Promise<Uint8Array>;
  /** Scratch space for the default video factory. */
  workDir?: string;
  /** Seconds of video the account can still pay for (default unlimited); out of credits → 402. */
  creditsSeconds?: number;
  now?: () => number;
}

export interface FakeLtxJob {
  id: string;
  createdAt: number;
  request: SubmitImageToVideo;
  imageBytes: number;
  /** Set when the clip is made (or making it failed). */
  video?: Uint8Array;
  factoryError?: string;
  /** Scripted failure message. */
  failWith?: string;
  completedAt?: number;
  expired: boolean;
}

export interface RecordedLtxRequest {
  method: string;
  path: string;
  route: LtxRoute | "other";
  status: number;
  hadAuthorization: boolean;
  /** For accepted submits: the job id. */
  jobId?: string;
}

export interface FakeLtxServer {
  /** e.g. http://127.0.0.1:PORT (no trailing slash): the adapter's baseUrl. */
  readonly url: string;
  readonly port: number;
  readonly jobs: ReadonlyMap<string, FakeLtxJob>;
  readonly requests: readonly RecordedLtxRequest[];
  /** The next `times` requests to `route` ("any" = every route) get this fault. */
  inject(route: LtxRoute | "any", fault: LtxFault, times?: number): void;
  /** The next submitted job (or the given one) ends in `failed` with this error. */
  failJob(error?: string, id?: string): void;
  /** Forgets one job (or all): status and result answer 404, as after LTX's 24 h retention. */
  expire(id?: string): void;
  setCredits(seconds: number): void;
  counts(): { submits: number; accepted: number; statusPolls: number; downloads: number };
  close(): Promise<void>;
}

const MAX_IMAGE_BYTES = 15 * 1024 * 1024;
const MAX_DATA_URI_BYTES = 7 * 1024 * 1024;
const MAX_BODY_BYTES = 12 * 1024 * 1024;

const sniff = (b: Uint8Array): "jpeg" | "png" | "webp" | undefined => {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 8 && Buffer.from(b.subarray(0, 8)).toString("latin1") === "\x89PNG\r\n\x1a\n") return "png";
  if (b.length >= 12 && Buffer.from(b.subarray(0, 4)).toString("latin1") === "RIFF" && Buffer.from(b.subarray(8, 12)).toString("latin1") === "WEBP") return "webp";
  return undefined;
};

class ApiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

const defaultErrorType = (status: number) =>
  status === 429 ? "rate_limit_error" : status === 401 ? "authentication_error" : status === 402 ? "insufficient_funds_error" : status === 404 ? "not_found_error" : status >= 500 ? "api_error" : "invalid_request_error";

export async function startFakeLtxServer(opts: FakeLtxServerOptions): Promise<FakeLtxServer> {
  const now = opts.now ?? Date.now;
  const pendingMs = opts.pendingMs ?? 50;
  const processingMs = opts.processingMs ?? 100;
  const retentionMs = opts.retentionMs ?? 24 * 3600 * 1000;
  const imageFetchTimeoutMs = opts.imageFetchTimeoutMs ?? 10_000;
  let credits = opts.creditsSeconds ?? Number.POSITIVE_INFINITY;
  const jobs = new Map<string, FakeLtxJob>();
  const requests: RecordedLtxRequest[] = [];
  const faults: Array<{ route: LtxRoute | "any"; fault: LtxFault; remaining: number }> = [];
  let failNext: string | undefined;
  let baseUrl = "";

  const factory =
    opts.videoFactory ??
    (async (input: VideoFactoryInput) => {
      const { createFfmpegVideoGenerator } = await import("@reelbridge/core/adapters/ffmpeg/offline-generator");
      const gen = createFfmpegVideoGenerator({ workDir: opts.workDir ?? join(tmpdir(), "reelbridge-fake-ltx") });
      const out = await gen.generate(
        {
          jobId: input.id,
          image: { bytes: input.image },
          prompt: input.request.prompt,
          cameraMotion: input.request.camera_motion ?? "dolly_in",
          durationSeconds: input.request.duration,
          width: input.width,
          height: input.height,
          fps: input.fps,
        },
      );
      return out.video;
    });

  const takeFault = (route: LtxRoute | "other"): LtxFault | undefined => {
    if (route === "other") return undefined;
    const i = faults.findIndex((f) => f.route === route || f.route === "any");
    if (i < 0) return undefined;
    const f = faults[i]!;
    f.remaining--;
    if (f.remaining <= 0) faults.splice(i, 1);
    return f.fault;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(new ApiError(413, "invalid_request_error", "request body too large"));
          req.destroy();
        } else chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });

  async function fetchImage(uri: string): Promise<Uint8Array> {
    if (uri.startsWith("data:")) {
      const m = /^data:image\/(?:png|jpeg|jpg|webp);base64,(.*)$/s.exec(uri);
      if (!m) throw new ApiError(400, "invalid_request_error", "image_uri data URI must be a base64 PNG, JPEG or WebP");
      const bytes = Buffer.from(m[1]!, "base64");
      if (bytes.length > MAX_DATA_URI_BYTES) throw new ApiError(400, "invalid_request_error", "image_uri data URI exceeds 7 MB");
      return bytes;
    }
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new ApiError(400, "invalid_request_error", "image_uri must be an HTTPS URL, a data URI or an ltx:// storage URI");
    }
    if (url.protocol === "ltx:") throw new ApiError(400, "invalid_request_error", "ltx:// storage URIs are not supported by this fake");
    if (url.protocol !== "https:" && !(url.protocol === "http:" && opts.allowHttp)) {
      throw new ApiError(400, "invalid_request_error", "image_uri must use HTTPS");
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0 && !opts.allowIpHosts) {
      throw new ApiError(400, "invalid_request_error", "image_uri must use a domain name, not an IP address");
    }
    let r: Response;
    let bytes: Uint8Array;
    try {
      r = await fetch(url, { signal: AbortSignal.timeout(imageFetchTimeoutMs), redirect: "follow" });
      bytes = new Uint8Array(await r.arrayBuffer());
    } catch (err) {
      const why = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError") ? `timed out after ${imageFetchTimeoutMs / 1000} s` : "could not be reached";
      throw new ApiError(400, "invalid_request_error", `image_uri ${why}`);
    }
    if (!r.ok) throw new ApiError(400, "invalid_request_error", `image_uri answered HTTP ${r.status}`);
    if (bytes.length > MAX_IMAGE_BYTES) throw new ApiError(400, "invalid_request_error", "image_uri exceeds 15 MB");
    return bytes;
  }

  async function submit(req: IncomingMessage, res: ServerResponse, record: RecordedLtxRequest): Promise<number> {
    let json: unknown;
    try {
      json = JSON.parse((await readBody(req)).toString("utf8"));
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError(400, "invalid_request_error", "request body must be JSON");
    }
    const parsed = submitImageToVideoSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError(400, "invalid_request_error", `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`);
    }
    const body = parsed.data;
    const fps = body.fps ?? 24;
    const fit = fitToModel(body.model, body.duration, fps);
    if (fit.duration !== body.duration) throw new ApiError(400, "invalid_request_error", `duration ${body.duration} is not supported by ${body.model}`);
    if (fit.fps !== fps) throw new ApiError(400, "invalid_request_error", `${body.model} supports durations over 10 s only at 25 fps`);
    if (body.duration > credits) throw new ApiError(402, "insufficient_funds_error", "Insufficient credits for this generation");
    const image = await fetchImage(body.image_uri);
    if (!sniff(image)) throw new ApiError(400, "invalid_request_error", "image_uri is not a PNG, JPEG or WebP image");
    credits -= body.duration;

    const [w, h] = body.resolution.split("x").map(Number) as [number, number];
    const id = randomUUID();
    const job: FakeLtxJob = { id, createdAt: now(), request: body, imageBytes: image.length, expired: false };
    if (failNext !== undefined) {
      job.failWith = failNext;
      failNext = undefined;
    }
    jobs.set(id, job);
    if (!job.failWith) {
      factory({ id, image, request: body, width: w, height: h, fps }).then(
        (v) => void (job.video = v),
        (e: unknown) => void (job.factoryError = e instanceof Error ? e.message : String(e)),
      );
    }
    record.jobId = id;
    send(res, 202, { id, created_at: new Date(job.createdAt).toISOString() });
    return 202;
  }

  const statusOf = (job: FakeLtxJob) => {
    const elapsed = now() - job.createdAt;
    const terminal = (status: "completed" | "failed", error?: string) => {
      job.completedAt ??= now();
      return { status, error };
    };
    if (elapsed < pendingMs) return { status: "pending" as const };
    if (elapsed < pendingMs + processingMs) return { status: "processing" as const };
    if (job.failWith !== undefined) return terminal("failed", job.failWith);
    if (job.factoryError !== undefined) return terminal("failed", `Generation failed: ${job.factoryError}`);
    if (!job.video) return { status: "processing" as const };
    return terminal("completed");
  };

  const live = (id: string) => {
    const job = jobs.get(id);
    if (!job || job.expired) return undefined;
    if (job.completedAt !== undefined && now() - job.completedAt > retentionMs) job.expired = true;
    return job.expired ? undefined : job;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, route: LtxRoute | "other", id: string | undefined, record: RecordedLtxRequest): Promise<number> {
    const auth = req.headers.authorization;
    if (route === "submit" || route === "status") {
      if (auth !== `Bearer ${opts.apiKey}`) throw new ApiError(401, "authentication_error", "Invalid API key");
    }
    if (route === "submit") return submit(req, res, record);
    if (route === "status") {
      const job = live(id!);
      if (!job) throw new ApiError(404, "not_found_error", "Job not found");
      const s = statusOf(job);
      send(res, 200, {
        id: job.id,
        status: s.status,
        created_at: new Date(job.createdAt).toISOString(),
        ...(job.completedAt !== undefined && (s.status === "completed" || s.status === "failed") ? { completed_at: new Date(job.completedAt).toISOString() } : {}),
        ...(s.status === "completed" ? { result: { video_url: `${baseUrl}/results/${job.id}/video.mp4` } } : {}),
        ...(s.status === "failed" ? { error: s.error } : {}),
      });
      return 200;
    }
    if (route === "video") {
      const job = live(id!);
      if (!job || !job.video || job.completedAt === undefined) throw new ApiError(404, "not_found_error", "Result not found or expired");
      res.writeHead(200, { "content-type": "video/mp4", "content-length": String(job.video.byteLength) });
      res.end(job.video);
      return 200;
    }
    throw new ApiError(404, "not_found_error", `No route for ${req.method} ${req.url}`);
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    let route: LtxRoute | "other" = "other";
    let id: string | undefined;
    let m: RegExpExecArray | null;
    if (req.method === "POST" && path === "/v2/image-to-video") route = "submit";
    else if (req.method === "GET" && (m = /^\/v2\/image-to-video\/([^/]+)$/.exec(path))) {
      route = "status";
      id = decodeURIComponent(m[1]!);
    } else if (req.method === "GET" && (m = /^\/results\/([^/]+)\/video\.mp4$/.exec(path))) {
      route = "video";
      id = decodeURIComponent(m[1]!);
    }
    const record: RecordedLtxRequest = { method: req.method ?? "GET", path, route, status: 0, hadAuthorization: req.headers.authorization !== undefined };
    requests.push(record);

    void (async () => {
      const fault = takeFault(route);
      if (fault?.kind === "reset") {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.ms));
      if (fault?.kind === "status") {
        const headers: Record<string, string> = {};
        if (fault.status === 429) headers["retry-after"] = String(fault.retryAfterSeconds ?? 1);
        else if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
        record.status = fault.status;
        send(res, fault.status, errorBody(fault.errorType ?? defaultErrorType(fault.status), fault.message ?? `scripted ${fault.status}`), headers);
        return;
      }
      try {
        record.status = await handle(req, res, route, id, record);
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError(500, "api_error", "internal error");
        record.status = e.status;
        send(res, e.status, errorBody(e.type, e.message));
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? "127.0.0.1";
  baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  return {
    url: baseUrl,
    port,
    jobs,
    requests,
    inject(route, fault, times = 1) {
      faults.push({ route, fault, remaining: times });
    },
    failJob(error = "Generation failed", id) {
      if (id === undefined) failNext = error;
      else {
        const job = jobs.get(id);
        if (job) job.failWith = error;
      }
    },
    expire(id) {
      for (const job of jobs.values()) if (id === undefined || job.id === id) job.expired = true;
    },
    setCredits(seconds) {
      credits = seconds;
    },
    counts() {
      return {
        submits: requests.filter((r) => r.route === "submit").length,
        accepted: requests.filter((r) => r.route === "submit" && r.status === 202).length,
        statusPolls: requests.filter((r) => r.route === "status").length,
        downloads: requests.filter((r) => r.route === "video" && r.status === 200).length,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
