/**
 * The local Remotion emulator behind the AWS Lambda Invoke API, so code that calls Remotion
 * Lambda through `@remotion/lambda/client` (the built render-step and watchdog bundles) reaches
 * it unchanged with only `AWS_ENDPOINT_URL_LAMBDA` pointing here.
 *
 * What @remotion/lambda-client 4.0.527 sends (read from its bundle, dist/esm/index.mjs):
 *   - renderMediaOnLambda → callFunctionSync → `InvokeCommand` with `InvocationType:
 *     "RequestResponse"` (POST /2015-03-31/functions/{FunctionName}/invocations), the body being
 *     makeLambdaRenderMediaPayload's JSON (`type: "start"`, `version`, `inputProps` serialized as
 *     `{ type: "payload", payload }` or, above ~194 KB, `{ type: "bucket-url", hash, bucketName }`).
 *   - getRenderProgress → the same Invoke with getRenderProgressPayload (`type: "status"`).
 *   - The answer is the function's JSON; `{ type: "error", message, stack }` is thrown as an Error
 *     by the client, and an `X-Amz-Function-Error` header as "Lambda function returned error: …".
 *
 * Like Remotion's function (@remotion/lambda dist/functions/index.js, @remotion/serverless
 * inner-routine.js): a failing "start" answers `{ type: "error" }` (buffered routine); a failing
 * "status" throws, which Lambda reports as an Unhandled function error. Lambda's own errors
 * (unknown function, bad JSON, oversized body, missing signature) come back as Lambda's REST-JSON
 * errors, which the SDK turns into ResourceNotFoundException & co. with their HTTP status.
 *
 * Deliberate differences: the emulator renders its own bundle (serveUrl is recorded, not
 * fetched), h264/aac into the emulator's bucket only (at the payload's scale, like Remotion);
 * SigV4 signatures are required but not verified (the caller's keys are fake); one "bucket" (the
 * media store) holds what Remotion keeps in its own bucket.
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { FPS, KEYFRAME_INTERVAL_SECONDS } from "@reelbridge/remotion/props";
import type { BlobStore, Logger, RenderRequest } from "@reelbridge/core";
import { assertSafeKey } from "@reelbridge/core/adapters/local/file-blob-store";
import { newRenderId } from "./index";
import type { LocalRemotion } from "./index";

/** Lambda's synchronous Invoke payload limit (6 MB). */
export const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** The Remotion version this emulator answers as: the renderer it renders with. */
export const REMOTION_VERSION: string = (createRequire(import.meta.url)("@remotion/renderer/package.json") as { version: string }).version;

export interface RemotionLambdaApiOptions {
  emulator: LocalRemotion;
  /** The store the emulator writes to: its bucket is the only outName bucket, and large input props are read from it. */
  blobs: BlobStore;
  /** Function name(s) answered, e.g. stage config's remotion.functionName; any other is ResourceNotFoundException. */
  functionName: string | string[];
  region?: string;
  accountId?: string;
  port?: number;
  host?: string;
  /** Request body cap; default (and at most) Lambda's 6 MB. */
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface RemotionLambdaApi {
  /** Base URL for AWS_ENDPOINT_URL_LAMBDA. */
  url: string;
  port: number;
  /** Invocations received, in order (routine and function; never the payload, it holds the webhook secret). */
  readonly invocations: Array<{ functionName: string; routine: string | null; status: number }>;
  close(): Promise<void>;
}

// ---- Lambda's errors ------------------------------------------------------------------------

/** An error of the Lambda service itself (REST-JSON: x-amzn-ErrorType header + `{ Type, Message }`). */
class LambdaServiceError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
    this.name = type;
  }
}

/** An error inside the function: Remotion's handler threw (status) or answered `{ type: "error" }` (start). */
class FunctionError extends Error {}

// ---- Remotion's payloads (@remotion/serverless-client constants.d.ts) ---------------------------

const serializedInputProps = z.discriminatedUnion("type", [
  z.object({ type: z.literal("payload"), payload: z.string() }),
  z.object({ type: z.literal("bucket-url"), hash: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/), bucketName: z.string().min(1) }),
]);

const outName = z.union([
  z.string().min(1),
  z.object({ bucketName: z.string().min(1), key: z.string().min(1), s3OutputProvider: z.unknown().optional() }),
]);

const webhook = z
  .object({ url: z.string().url(), secret: z.string().nullable(), customData: z.record(z.string(), z.unknown()).nullable().optional() })
  .nullable();

/** The fields the emulator acts on; the rest of Remotion's start payload is accepted as is. */
const startPayload = z.looseObject({
  type: z.literal("start"),
  version: z.string(),
  composition: z.string().min(1),
  serveUrl: z.string().min(1),
  inputProps: serializedInputProps,
  codec: z.string(),
  audioCodec: z.string().nullable().optional(),
  outName: outName.nullable(),
  bucketName: z.string().nullable().optional(),
  webhook,
  gopSize: z.number().int().positive().nullable().optional(),
  frameRange: z.unknown().optional(),
  /** renderMediaOnLambda's `scale` (the client always sends it, 1 by default); Remotion's validateScale limits. */
  scale: z.number().positive().max(16).optional(),
});

const statusPayload = z.looseObject({
  type: z.literal("status"),
  version: z.string(),
  bucketName: z.string().min(1),
  renderId: z.string().min(1),
  s3OutputProvider: z.unknown().optional(),
});

type StartPayload = z.infer<typeof startPayload>;
type StatusPayload = z.infer<typeof statusPayload>;

const issues = (err: z.ZodError) => err.issues.map((i) => `${i.path.join(".") || "(payload)"}: ${i.message}`).join("; ");

/** Remotion's checkVersionMismatch (@remotion/serverless handlers/check-version-mismatch.js). */
const checkVersion = (version: string, apiName: string, functionName: string) => {
  if (version !== REMOTION_VERSION) {
    throw new FunctionError(
      `Version mismatch: When calling ${apiName}, you passed ${functionName} as the function, which has the version ${REMOTION_VERSION}, but the @remotion/lambda package you used to invoke the function has version ${version}. Deploy a new function and use it to call getRenderProgress(). See: https://www.remotion.dev/docs/lambda/upgrading`,
    );
  }
};

/** Remotion's deserializeJSONWithSpecialTypes, minus staticFile tokens (there is no static base here). */
const DATE_TOKEN = "remotion-date:";
const deserializeProps = (text: string): unknown =>
  JSON.parse(text, (_key, value: unknown) => (typeof value === "string" && value.startsWith(DATE_TOKEN) ? new Date(value.slice(DATE_TOKEN.length)) : value));

// ---- the server -------------------------------------------------------------------------------

export async function startRemotionLambdaApi(opts: RemotionLambdaApiOptions): Promise<RemotionLambdaApi> {
  const region = opts.region ?? "us-east-1";
  const accountId = opts.accountId ?? "000000000000";
  const names = new Set(Array.isArray(opts.functionName) ? opts.functionName : [opts.functionName]);
  const maxBody = Math.min(opts.maxBodyBytes ?? MAX_INVOKE_PAYLOAD_BYTES, MAX_INVOKE_PAYLOAD_BYTES);
  const bucket = opts.blobs.bucket;
  const log = opts.logger;
  const invocations: RemotionLambdaApi["invocations"] = [];
  const arn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;

  /** FunctionName may be a name, a full or partial ARN, with or without a qualifier (Lambda's rules). */
  const resolveFunction = (raw: string, qualifierParam: string | null): string => {
    const m = /^(?:arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:|(\d{12}):function:)?([a-zA-Z0-9_-]{1,140})(?::([a-zA-Z0-9$_-]+))?$/.exec(raw);
    if (!m) throw new LambdaServiceError(400, "ValidationException", `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern`);
    const [, arnRegion, arnAccount, partialAccount, name, qualifier] = m;
    const q = qualifierParam ?? qualifier;
    const known = names.has(name!) && (!arnRegion || arnRegion === region) && (arnAccount ?? partialAccount ?? accountId) === accountId && (!q || q === "$LATEST");
    if (!known) throw new LambdaServiceError(404, "ResourceNotFoundException", `Function not found: ${arn(name!)}${q ? `:${q}` : ""}`);
    return name!;
  };

  const readBody = (req: IncomingMessage): Promise<Buffer> => {
    const declared = Number(req.headers["content-length"]);
    const tooLarge = () => new LambdaServiceError(413, "RequestTooLargeException", `Request must be smaller than ${maxBody} bytes for the InvokeFunction operation`);
    // Refused before reading: nothing of an oversized body is buffered.
    if (Number.isFinite(declared) && declared > maxBody) return Promise.reject(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          req.removeAllListeners("data");
          req.resume();
          reject(tooLarge());
        } else chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  };

  const inputPropsOf = async (p: StartPayload["inputProps"]): Promise<Record<string, unknown>> => {
    let text: string;
    if (p.type === "payload") text = p.payload;
    else {
      if (p.bucketName !== bucket) throw new FunctionError(`The local Remotion emulator reads input props only from bucket ${bucket}, not ${p.bucketName}`);
      text = Buffer.from((await opts.blobs.get(`input-props/${p.hash}.json`)).bytes).toString("utf8");
    }
    let props: unknown;
    try {
      props = deserializeProps(text);
    } catch {
      throw new FunctionError("inputProps could not be parsed as JSON");
    }
    if (typeof props !== "object" || props === null || Array.isArray(props)) throw new FunctionError("inputProps must be a JSON object");
    return props as Record<string, unknown>;
  };

  /** Remotion's customOutName: a string is a name under renders/{id}/, an object names bucket and key. */
  const outputKeyOf = (p: StartPayload, renderId: string): string => {
    let key: string;
    if (p.outName === null) key = `renders/${renderId}/out.mp4`;
    else if (typeof p.outName === "string") key = `renders/${renderId}/${p.outName}`;
    else {
      if (p.outName.s3OutputProvider !== undefined) throw new FunctionError("The local Remotion emulator does not write through an s3OutputProvider");
      if (p.outName.bucketName !== bucket) throw new FunctionError(`The local Remotion emulator writes only to bucket ${bucket}, not ${p.outName.bucketName}`);
      key = p.outName.key;
    }
    // Checked now, not when the finished render is stored: local keys are paths on disk.
    try {
      assertSafeKey(key);
    } catch (err) {
      throw new FunctionError(`outName: ${(err as Error).message}`);
    }
    return key;
  };

  const start = async (raw: Record<string, unknown>, functionName: string) => {
    const parsed = startPayload.safeParse(raw);
    if (!parsed.success) throw new FunctionError(`Invalid start payload: ${issues(parsed.error)}`);
    const p = parsed.data;
    checkVersion(p.version, "renderMediaOnLambda()", functionName);
    if (p.codec !== "h264" || (p.audioCodec != null && p.audioCodec !== "aac")) {
      throw new FunctionError(`The local Remotion emulator renders codec h264 with aac audio, not ${p.codec}${p.audioCodec ? `/${p.audioCodec}` : ""}`);
    }
    if (p.frameRange != null) throw new FunctionError("The local Remotion emulator renders whole compositions; frameRange is not emulated");
    if (p.bucketName != null && p.bucketName !== bucket) throw new FunctionError(`The local Remotion emulator's bucket is ${bucket}, not ${p.bucketName}`);
    const renderId = newRenderId();
    const customData = p.webhook?.customData ?? null;
    const jobId = typeof customData?.jobId === "string" ? customData.jobId : `remotion-${renderId}`;
    const request: RenderRequest = {
      jobId,
      compositionId: p.composition,
      inputProps: await inputPropsOf(p.inputProps),
      outputKey: outputKeyOf(p, renderId),
      // Remotion sends `customData: null` when none was given; the emulator passes it through as is.
      webhook: { url: p.webhook?.url ?? "", customData: customData as Record<string, unknown> },
      keyframeIntervalSeconds: p.gopSize ? p.gopSize / FPS : KEYFRAME_INTERVAL_SECONDS,
      ...(p.scale !== undefined ? { scale: p.scale } : {}),
    };
    log?.info("remotion lambda api: start", { functionName, renderId, jobId, composition: p.composition, serveUrl: p.serveUrl, outputKey: request.outputKey, scale: request.scale ?? 1 });
    const res = await opts.emulator.start(request, { renderId, webhookSecret: p.webhook ? p.webhook.secret : null });
    return { type: "success", bucketName: res.bucketName ?? bucket, renderId: res.renderId };
  };

  /** getRenderProgress's answer (GenericRenderProgress), filled from the emulator's snapshot. */
  const status = async (raw: Record<string, unknown>, functionName: string) => {
    const parsed = statusPayload.safeParse(raw);
    if (!parsed.success) throw new FunctionError(`Invalid status payload: ${issues(parsed.error)}`);
    const p: StatusPayload = parsed.data;
    checkVersion(p.version, "getRenderProgress()", functionName);
    const request = opts.emulator.request(p.renderId);
    if (p.bucketName !== bucket || !request) {
      const err = new TypeError(`No render with ID "${p.renderId}" found in bucket ${p.bucketName} and region ${region}`);
      throw Object.assign(new FunctionError(err.message), { name: "TypeError" });
    }
    const s = await opts.emulator.getProgress({ renderId: p.renderId, bucketName: p.bucketName });
    const outputFile = s.done ? await opts.blobs.presignGet(request.outputKey, { expiresInSeconds: 3_600 }) : null;
    const costs = { accruedSoFar: s.costs?.estimated ?? 0, displayCost: "$0.00", currency: s.costs?.currency ?? "USD", disclaimer: s.costs?.disclaimer ?? "Rendered locally: no cloud cost." };
    return {
      type: "success",
      renderId: p.renderId,
      bucket,
      done: s.done,
      overallProgress: s.overallProgress,
      fatalErrorEncountered: s.fatalErrorEncountered,
      errors: s.errors.map((e) => {
        const webhookError = e.name === "WebhookError";
        return {
          type: webhookError ? "webhook" : "renderer",
          message: e.message,
          name: e.name ?? "Error",
          stack: "",
          frame: null,
          chunk: null,
          isFatal: !webhookError && s.fatalErrorEncountered,
          attempt: 1,
          willRetry: false,
          totalAttempts: 1,
          tmpDir: null,
          s3Location: "",
          explanation: null,
        };
      }),
      outputFile,
      outKey: s.done ? request.outputKey : null,
      outBucket: s.done ? bucket : null,
      outputSizeInBytes: s.outputSizeInBytes ?? null,
      renderSize: s.outputSizeInBytes ?? 0,
      timeToFinish: s.timeToFinishMs ?? null,
      costs,
      currentTime: Date.now(),
      chunks: s.done ? 1 : 0,
      lambdasInvoked: 1,
      framesRendered: 0,
      combinedFrames: 0,
      encodingStatus: null,
      renderMetadata: null,
      cleanup: null,
      timeToFinishChunks: null,
      timeToRenderFrames: null,
      timeToEncode: null,
      timeToCombine: null,
      retriesInfo: [],
      mostExpensiveFrameRanges: null,
      estimatedBillingDurationInMilliseconds: null,
      timeoutTimestamp: 0,
      functionLaunched: 0,
      serveUrlOpened: null,
      compositionValidated: null,
      artifacts: [],
    };
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) => {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<{ functionName: string; routine: string | null; status: number }> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (req.method !== "POST" || !route) throw new LambdaServiceError(404, "UnknownOperationException", `Unknown operation ${req.method} ${url.pathname}`);
    if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) throw new LambdaServiceError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    let rawName: string;
    try {
      rawName = decodeURIComponent(route[1]!);
    } catch {
      throw new LambdaServiceError(400, "ValidationException", "FunctionName is not valid URL encoding");
    }
    const functionName = resolveFunction(rawName, url.searchParams.get("Qualifier"));
    const invocationType = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    if (!["RequestResponse", "Event", "DryRun"].includes(invocationType)) {
      throw new LambdaServiceError(400, "InvalidParameterValueException", `Unsupported invocation type ${invocationType}`);
    }
    const body = await readBody(req);
    let payload: unknown;
    try {
      payload = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    } catch (e) {
      throw new LambdaServiceError(400, "InvalidRequestContentException", `Could not parse request body into json: ${(e as Error).message}`);
    }
    const common = { "x-amzn-requestid": requestId, "x-amz-executed-version": "$LATEST" };
    if (invocationType === "DryRun") {
      sendJson(res, 204, undefined, common);
      return { functionName, routine: null, status: 204 };
    }
    const routine = typeof payload === "object" && payload !== null && !Array.isArray(payload) && typeof (payload as { type?: unknown }).type === "string" ? (payload as { type: string }).type : null;
    const run = async (): Promise<unknown> => {
      const input = (payload ?? {}) as Record<string, unknown>;
      if (routine === "start") {
        // Remotion's "start" is a buffered routine: its errors are answered, not thrown.
        try {
          return await start(input, functionName);
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          return { type: "error", message: e.message, stack: e.stack ?? "" };
        }
      }
      if (routine === "status") return status(input, functionName);
      throw new FunctionError(`Command not found: ${routine === null ? "(no type)" : JSON.stringify(routine)} is not emulated (start and status are)`);
    };
    if (invocationType === "Event") {
      run().catch((err: unknown) => log?.warn("remotion lambda api: async invocation failed", { functionName, routine, error: (err as Error).message }));
      sendJson(res, 202, undefined, common);
      return { functionName, routine, status: 202 };
    }
    try {
      sendJson(res, 200, await run(), common);
    } catch (err) {
      // What Lambda answers when the handler throws: 200, X-Amz-Function-Error, the error as payload.
      const e = err instanceof Error ? err : new Error(String(err));
      const tail: Record<string, string> = req.headers["x-amz-log-type"] === "Tail" ? { "x-amz-log-result": Buffer.from(`ERROR\t${requestId}\t${e.name}: ${e.message}\n`).toString("base64") } : {};
      sendJson(res, 200, { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? "").split("\n") }, { ...common, "x-amz-function-error": "Unhandled", ...tail });
    }
    return { functionName, routine, status: 200 };
  };

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    handle(req, res, requestId)
      .then((r) => invocations.push(r))
      .catch((err: unknown) => {
        const e = err instanceof LambdaServiceError ? err : new LambdaServiceError(500, "ServiceException", (err as Error)?.message ?? String(err));
        if (!(err instanceof LambdaServiceError)) log?.error("remotion lambda api: internal error", { error: e.message });
        invocations.push({ functionName: "", routine: null, status: e.status });
        if (res.headersSent) return void res.end();
        // Close after an error: an oversized body is not read to its end.
        sendJson(res, e.status, { Type: e.status < 500 ? "User" : "Service", Message: e.message }, { "x-amzn-requestid": requestId, "x-amzn-errortype": e.type, connection: "close" });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    invocations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
