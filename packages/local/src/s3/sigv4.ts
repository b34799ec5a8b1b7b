import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { S3Error } from "./errors";
import { signingKey } from "./policy";
import type { PostCredentials } from "./policy";

/**
 * SigV4 verification for S3 REST requests, header-signed (`Authorization: AWS4-HMAC-SHA256 …`)
 * or query-signed (presigned URLs), by recomputing the signature as S3 does
 * (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html). Hand-written
 * because @smithy/signature-v4 is only a transitive dependency here; the integration tests sign
 * with the real SDK, so any drift from its canonical form fails them. S3's canonical URI is the
 * path exactly as sent (no normalisation, no double encoding).
 */
export interface SigV4Request {
  method: string;
  /** The path as sent, still percent-encoded. */
  rawPath: string;
  /** The query string as sent, without "?". */
  rawQuery: string;
  headers: IncomingHttpHeaders;
}

export interface VerifiedSigV4 {
  accessKeyId: string;
  kind: "header" | "query";
  /** What the signature covers of the body: a hex SHA-256, UNSIGNED-PAYLOAD, STREAMING-…. */
  payloadHash: string;
}

/** S3 accepts request times this far from its clock (header auth) and presigned URLs up to a week. */
export const MAX_SKEW_MS = 15 * 60_000;
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

const ALGORITHM = "AWS4-HMAC-SHA256";

/** RFC 3986 unreserved characters stay, everything else is %XX (what SigV4 calls UriEncode). */
export const uriEncode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Query pairs, decoded, in order. "+" is a literal plus: SigV4 clients encode spaces as %20. */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === "") return [];
  try {
    return rawQuery.split("&").filter((p) => p !== "").map((p) => {
      const eq = p.indexOf("=");
      return eq < 0 ? [decodeURIComponent(p), ""] : [decodeURIComponent(p.slice(0, eq)), decodeURIComponent(p.slice(eq + 1))];
    });
  } catch {
    throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
}

/** Whether a request claims SigV4 at all (then it must verify; anything else is anonymous). */
export function claimsSigV4(headers: IncomingHttpHeaders, query: ReadonlyArray<[string, string]>): boolean {
  return headers.authorization !== undefined || query.some(([k]) => k === "X-Amz-Algorithm" || k === "X-Amz-Signature" || k === "X-Amz-Credential");
}

const sha256Hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

function canonicalQuery(pairs: ReadonlyArray<[string, string]>): string {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function canonicalHeaders(headers: IncomingHttpHeaders, signed: readonly string[]): string {
  return signed
    .map((name) => {
      const raw = headers[name];
      const value = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

type Malformed = (why: string, extra?: Record<string, string>) => S3Error;

function parseCredential(credential: string, malformed: Malformed): Scope {
  const m = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(credential);
  if (!m) throw malformed(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]! };
}

function checkScope(scope: Scope, amzDate: string, input: { region: string; credentials: readonly PostCredentials[] }, malformed: Malformed): PostCredentials {
  const creds = input.credentials.find((c) => c.accessKeyId === scope.accessKeyId);
  if (!creds) throw new S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", { AWSAccessKeyId: scope.accessKeyId });
  if (scope.region !== input.region) throw malformed(`the region '${scope.region}' is wrong; expecting '${input.region}'`, { Region: input.region });
  if (scope.service !== "s3") throw malformed(`incorrect service "${scope.service}". This endpoint belongs to "s3".`);
  if (amzDate.slice(0, 8) !== scope.date) throw malformed(`Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  return creds;
}

function checkSignature(o: { secret: string; scope: Scope; amzDate: string; canonicalRequest: string; provided: string }): void {
  const scopeString = `${o.scope.date}/${o.scope.region}/${o.scope.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${o.amzDate}\n${scopeString}\n${sha256Hex(o.canonicalRequest)}`;
  const expected = createHmac("sha256", signingKey(o.secret, o.scope.date, o.scope.region, o.scope.service)).update(stringToSign, "utf8").digest();
  const provided = o.provided.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(provided) || !timingSafeEqual(expected, Buffer.from(provided, "hex"))) {
    throw new S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", {
      AWSAccessKeyId: o.scope.accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: o.provided,
      CanonicalRequest: o.canonicalRequest,
    });
  }
}

/**
 * Verifies a SigV4 request against the endpoint's credentials and clock; throws S3Error with S3's
 * status and code (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied "Request has
 * expired", RequestTimeTooSkewed, AuthorizationHeaderMalformed, …). The body is not read here:
 * the caller checks it against `payloadHash`.
 */
export function verifySigV4(req: SigV4Request, input: { region: string; credentials: readonly PostCredentials[]; now: Date }): VerifiedSigV4 {
  const query = parseQuery(req.rawQuery);
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    if (query.some(([k]) => k === "X-Amz-Algorithm")) throw new S3Error(400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified", { ArgumentName: "Authorization" });
    return verifyHeader(req, query, auth, input);
  }
  return verifyQuery(req, query, input);
}

function verifyHeader(req: SigV4Request, query: ReadonlyArray<[string, string]>, auth: string, input: { region: string; credentials: readonly PostCredentials[]; now: Date }): VerifiedSigV4 {
  const malformed: Malformed = (why, extra) => new S3Error(400, "AuthorizationHeaderMalformed", `The authorization header is malformed; ${why}`, extra);
  if (!auth.startsWith(`${ALGORITHM} `)) throw new S3Error(400, "InvalidRequest", `The authorization mechanism you have provided is not supported. Please use ${ALGORITHM}.`);
  const parts = new Map<string, string>();
  for (const p of auth.slice(ALGORITHM.length + 1).split(",")) {
    const eq = p.indexOf("=");
    if (eq > 0) parts.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  const credential = parts.get("Credential");
  const signedHeaders = parts.get("SignedHeaders");
  const signature = parts.get("Signature");
  if (!credential || !signedHeaders || !signature) throw malformed("it must contain Credential, SignedHeaders and Signature.");
  const scope = parseCredential(credential, malformed);
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const when = parseAmzDate(amzDate);
  if (!when) throw new S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  const creds = checkScope(scope, amzDate, input, malformed);
  const payloadHash = req.headers["x-amz-content-sha256"];
  if (typeof payloadHash !== "string" || payloadHash === "") throw new S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  const signed = signedHeaders.split(";");
  if (!signed.includes("host")) throw malformed("the SignedHeaders must include host.");
  const canonicalRequest = [req.method, req.rawPath, canonicalQuery(query), canonicalHeaders(req.headers, signed), signedHeaders, payloadHash].join("\n");
  checkSignature({ secret: creds.secretAccessKey, scope, amzDate, canonicalRequest, provided: signature });
  const now = input.now;
  if (Math.abs(now.getTime() - when.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", { RequestTime: amzDate, ServerTime: isoSeconds(now), MaxAllowedSkewMilliseconds: MAX_SKEW_MS });
  }
  return { accessKeyId: scope.accessKeyId, kind: "header", payloadHash };
}

function verifyQuery(req: SigV4Request, query: ReadonlyArray<[string, string]>, input: { region: string; credentials: readonly PostCredentials[]; now: Date }): VerifiedSigV4 {
  const malformed: Malformed = (why, extra) => new S3Error(400, "AuthorizationQueryParametersError", why, extra);
  const get = (name: string) => query.find(([k]) => k === name)?.[1];
  const algorithm = get("X-Amz-Algorithm");
  if (algorithm !== ALGORITHM) throw malformed(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const credential = get("X-Amz-Credential");
  const amzDate = get("X-Amz-Date");
  const expires = get("X-Amz-Expires");
  const signedHeaders = get("X-Amz-SignedHeaders");
  const signature = get("X-Amz-Signature");
  if (!credential || !amzDate || !expires || !signedHeaders || !signature) {
    throw malformed("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
  }
  const scope = parseCredential(credential, (why, extra) => malformed(`Error parsing the X-Amz-Credential parameter; ${why}`, extra));
  const when = parseAmzDate(amzDate);
  if (!when) throw malformed(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  if (!/^\d+$/.test(expires)) throw malformed("X-Amz-Expires should be a number");
  const seconds = Number(expires);
  if (seconds > MAX_PRESIGNED_EXPIRES_SECONDS) throw malformed(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}`);
  const creds = checkScope(scope, amzDate, input, (why, extra) => malformed(`Error parsing the X-Amz-Credential parameter; ${why}`, extra));
  const signed = signedHeaders.split(";");
  if (!signed.includes("host")) throw malformed("X-Amz-SignedHeaders must include host.");
  const payloadHash = get("X-Amz-Content-Sha256") ?? "UNSIGNED-PAYLOAD";
  const canonicalRequest = [
    req.method,
    req.rawPath,
    canonicalQuery(query.filter(([k]) => k !== "X-Amz-Signature")),
    canonicalHeaders(req.headers, signed),
    signedHeaders,
    payloadHash,
  ].join("\n");
  checkSignature({ secret: creds.secretAccessKey, scope, amzDate, canonicalRequest, provided: signature });
  const now = input.now;
  if (when.getTime() - now.getTime() > MAX_SKEW_MS) throw new S3Error(403, "AccessDenied", "Request is not valid yet");
  const expiresAt = new Date(when.getTime() + seconds * 1000);
  if (now.getTime() > expiresAt.getTime()) {
    throw new S3Error(403, "AccessDenied", "Request has expired", { "X-Amz-Expires": expires, Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(now) });
  }
  return { accessKeyId: scope.accessKeyId, kind: "query", payloadHash };
}
