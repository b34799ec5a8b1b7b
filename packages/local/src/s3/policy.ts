import { createHmac, timingSafeEqual } from "node:crypto";
import { S3Error, accessDenied } from "./errors";

/**
 * S3's browser-POST policy check (docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html),
 * pure so it can be unit-tested: the form's fields (everything before the file) are checked for
 * the SigV4 signature over the base64 policy, the policy's expiry, every condition, and fields the
 * policy does not mention. The file's size is checked against content-length-range afterwards,
 * while it streams (checkContentLength).
 */
export interface PostCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface VerifiedPost {
  key: string;
  /** [min, max] from content-length-range, when the policy has one. */
  contentLength?: [number, number];
  contentType?: string;
  cacheControl?: string;
  /** x-amz-meta-* fields, keys lower-case without the prefix. */
  metadata: Record<string, string>;
  successActionStatus: 200 | 201 | 204;
}

type Condition = unknown;

/** Field names S3 exempts from "every field must be in the policy". */
const exempt = (name: string) => name === "x-amz-signature" || name === "file" || name === "policy" || name.startsWith("x-ignore-");

const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

export function signingKey(secretAccessKey: string, date: string, region: string, service = "s3"): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), "aws4_request");
}

/** S3 renders a failed condition as `["eq", "$key", "value"]` (with spaces). */
const renderCondition = (c: Condition): string => {
  if (Array.isArray(c)) return `[${c.map((x) => JSON.stringify(x)).join(", ")}]`;
  const [[k, v]] = Object.entries(c as Record<string, unknown>) as [[string, unknown]];
  return `["eq", ${JSON.stringify(`$${k}`)}, ${JSON.stringify(v)}]`;
};

const invalidPolicy = (why: string) => new S3Error(400, "InvalidPolicyDocument", `Invalid Policy: ${why}`);

/**
 * Verifies the fields of a browser POST. `fields` are the form fields in order (names as sent);
 * throws S3Error with S3's status and code on the first violation.
 */
export function verifyPostFields(input: {
  fields: ReadonlyArray<[string, string]>;
  bucket: string;
  region: string;
  credentials: readonly PostCredentials[];
  now: Date;
  /** The uploaded file's name, for keys ending in ${filename}. */
  filename?: string;
}): VerifiedPost {
  const form = new Map<string, string>();
  for (const [name, value] of input.fields) {
    const lower = name.toLowerCase();
    if (form.has(lower)) throw new S3Error(400, "InvalidArgument", `Bucket POST form field ${name} may appear only once.`, { ArgumentName: name });
    form.set(lower, value);
  }
  const rawKey = form.get("key");
  if (rawKey === undefined || rawKey === "") {
    throw new S3Error(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: "key", ArgumentValue: "" });
  }
  const key = rawKey.replace(/\$\{filename\}/g, input.filename ?? "");
  form.set("key", key);

  const policyB64 = form.get("policy");
  // No policy = an anonymous POST, which a private bucket refuses.
  if (policyB64 === undefined) throw new S3Error(403, "AccessDenied", "Access Denied");

  const algorithm = form.get("x-amz-algorithm");
  if (algorithm !== "AWS4-HMAC-SHA256") {
    throw new S3Error(400, "InvalidArgument", "Bucket POST must contain a field named 'X-Amz-Algorithm' with the value 'AWS4-HMAC-SHA256'.", { ArgumentName: "X-Amz-Algorithm", ArgumentValue: algorithm ?? "" });
  }
  const credential = form.get("x-amz-credential") ?? "";
  const scope = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(credential);
  if (!scope) throw new S3Error(400, "InvalidArgument", "Bucket POST must contain a valid 'X-Amz-Credential' field.", { ArgumentName: "X-Amz-Credential", ArgumentValue: credential });
  const [, accessKeyId, date, region, service] = scope as unknown as [string, string, string, string, string];
  const creds = input.credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!creds) throw new S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", { AWSAccessKeyId: accessKeyId });
  if (region !== input.region || service !== "s3") {
    throw new S3Error(400, "AuthorizationHeaderMalformed", `The authorization header is malformed; the region '${region}' is wrong; expecting '${input.region}'`, { Region: input.region });
  }
  const amzDate = form.get("x-amz-date") ?? "";
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) {
    throw new S3Error(400, "InvalidArgument", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\" and match the credential's date.", { ArgumentName: "X-Amz-Date", ArgumentValue: amzDate });
  }
  const provided = (form.get("x-amz-signature") ?? "").toLowerCase();
  const expected = hmac(signingKey(creds.secretAccessKey, date, region), policyB64);
  if (!/^[0-9a-f]{64}$/.test(provided) || !timingSafeEqual(expected, Buffer.from(provided, "hex"))) {
    throw new S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", {
      AWSAccessKeyId: accessKeyId,
      StringToSign: policyB64,
      SignatureProvided: provided,
    });
  }

  // Only a correctly signed policy is worth parsing.
  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(Buffer.from(policyB64, "base64").toString("utf8")) as typeof policy;
  } catch {
    throw invalidPolicy("Invalid JSON.");
  }
  if (typeof policy !== "object" || policy === null) throw invalidPolicy("Invalid JSON.");
  if (typeof policy.expiration !== "string" || Number.isNaN(Date.parse(policy.expiration))) throw invalidPolicy("Policy missing expiration.");
  if (!Array.isArray(policy.conditions)) throw invalidPolicy("Policy missing conditions.");
  if (input.now.getTime() > Date.parse(policy.expiration)) throw accessDenied("Policy expired.");

  const mentioned = new Set<string>();
  let contentLength: [number, number] | undefined;
  const valueOf = (name: string) => (name === "bucket" ? input.bucket : (form.get(name) ?? ""));
  for (const c of policy.conditions as Condition[]) {
    if (Array.isArray(c)) {
      const [op, a, b] = c as [unknown, unknown, unknown];
      if (op === "content-length-range") {
        if (!Number.isInteger(a) || !Number.isInteger(b) || (a as number) < 0 || (b as number) < (a as number)) throw invalidPolicy("Invalid content-length-range condition.");
        contentLength = [a as number, b as number];
        continue;
      }
      if ((op !== "eq" && op !== "starts-with") || typeof a !== "string" || !a.startsWith("$") || typeof b !== "string") {
        throw invalidPolicy(`Invalid Condition: ${renderCondition(c)}`);
      }
      const name = a.slice(1).toLowerCase();
      mentioned.add(name);
      const actual = valueOf(name);
      const ok = op === "eq" ? actual === b : name === "content-type" ? actual.split(",").every((t) => t.trim().startsWith(b)) : actual.startsWith(b);
      if (!ok) throw accessDenied(`Policy Condition failed: ${renderCondition(c)}`);
    } else if (typeof c === "object" && c !== null && Object.keys(c).length === 1) {
      const [[k, v]] = Object.entries(c) as [[string, unknown]];
      const name = k.toLowerCase();
      mentioned.add(name);
      if (typeof v !== "string") throw invalidPolicy(`Invalid Condition: ${renderCondition(c)}`);
      if (valueOf(name) !== v) throw accessDenied(`Policy Condition failed: ${renderCondition(c)}`);
    } else {
      throw invalidPolicy("Invalid Condition.");
    }
  }
  const extra = [...form.keys()].filter((n) => !exempt(n) && !mentioned.has(n));
  if (extra.length > 0) throw accessDenied(`Extra input fields: ${extra.join(", ")}`);

  const metadata: Record<string, string> = {};
  let metaBytes = 0;
  for (const [name, value] of form) {
    if (!name.startsWith("x-amz-meta-")) continue;
    metadata[name.slice("x-amz-meta-".length)] = value;
    metaBytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value, "utf8");
  }
  if (metaBytes > 2048) {
    throw new S3Error(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", { Size: metaBytes, MaxSizeAllowed: 2048 });
  }
  const status = Number(form.get("success_action_status") ?? "204");
  return {
    key,
    ...(contentLength ? { contentLength } : {}),
    ...(form.has("content-type") ? { contentType: form.get("content-type") } : {}),
    ...(form.has("cache-control") ? { cacheControl: form.get("cache-control") } : {}),
    metadata,
    successActionStatus: status === 200 || status === 201 ? status : 204,
  };
}

/** content-length-range, checked on the bytes actually received. */
export function checkContentLength(size: number, range: [number, number] | undefined): void {
  if (!range) return;
  const [min, max] = range;
  if (size > max) throw new S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", { ProposedSize: size, MaxSizeAllowed: max });
  if (size < min) throw new S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", { ProposedSize: size, MinSizeAllowed: min });
}
