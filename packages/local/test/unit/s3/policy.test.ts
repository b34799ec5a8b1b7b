import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { S3Error, errorXml, parseErrorXml } from "../../../src/s3/errors";
import { objectCreatedEvent } from "../../../src/s3/events";
import { checkContentLength, signingKey, verifyPostFields } from "../../../src/s3/policy";
import { parseRange } from "../../../src/s3/server";
import { s3ObjectCreatedEventSchema, decodeS3Key } from "@reelbridge/events";

const creds = { accessKeyId: "LOCALKEY", secretAccessKey: "local-secret" };
const NOW = new Date("2026-11-20T10:00:00Z");
const DATE = "20261120";

/** Builds the form a browser would send for a hand-written policy, signed like S3 expects. */
function form(conditions: unknown[], fields: Record<string, string>, o: { expiration?: string; region?: string; secret?: string } = {}): Array<[string, string]> {
  const base = {
    bucket: "media",
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": `LOCALKEY/${DATE}/${o.region ?? "us-east-1"}/s3/aws4_request`,
    "X-Amz-Date": `${DATE}T095500Z`,
    ...fields,
  };
  // As the SDK does: a ${filename} key is covered by a starts-with condition instead of an exact one.
  const all = [...conditions, ...Object.entries(base).filter(([k, v]) => !(k === "key" && v.includes("${filename}"))).map(([k, v]) => ({ [k]: v }))];
  const policy = Buffer.from(JSON.stringify({ expiration: o.expiration ?? "2026-11-20T10:05:00Z", conditions: all })).toString("base64");
  const sig = createHmac("sha256", signingKey(o.secret ?? creds.secretAccessKey, DATE, o.region ?? "us-east-1")).update(policy).digest("hex");
  return [...Object.entries(base), ["Policy", policy], ["X-Amz-Signature", sig]];
}

const verify = (fields: Array<[string, string]>, filename?: string) =>
  verifyPostFields({ fields, bucket: "media", region: "us-east-1", credentials: [creds], now: NOW, ...(filename ? { filename } : {}) });

const failure = (fn: () => unknown): S3Error => {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error("expected an S3Error");
};

describe("S3 POST policy verification", () => {
  it("accepts a correctly signed form and returns what to store", () => {
    const v = verify(form([["content-length-range", 1, 10], ["starts-with", "$Content-Type", "image/"]], { key: "uploads/a/source", "Content-Type": "image/png", "x-amz-meta-Job": "abc", success_action_status: "201" }));
    expect(v).toEqual({ key: "uploads/a/source", contentLength: [1, 10], contentType: "image/png", metadata: { job: "abc" }, successActionStatus: 201 });
  });

  it("substitutes ${filename} in the key", () => {
    const fields = form([["starts-with", "$key", "uploads/"]], { key: "uploads/${filename}" });
    expect(verify(fields, "photo.jpg").key).toBe("uploads/photo.jpg");
  });

  it.each([
    ["an unknown access key", () => verify(form([], { key: "k" }).map(([k, v]) => [k, k === "X-Amz-Credential" ? v.replace("LOCALKEY", "OTHER") : v])), 403, "InvalidAccessKeyId"],
    ["a credential for another region", () => verify(form([], { key: "k" }, { region: "eu-west-1" })), 400, "AuthorizationHeaderMalformed"],
    ["a signature made with another secret", () => verify(form([], { key: "k" }, { secret: "wrong" })), 403, "SignatureDoesNotMatch"],
    ["no key field", () => verify(form([], {}).filter(([k]) => k !== "key")), 400, "InvalidArgument"],
    ["no policy (anonymous)", () => verify([["key", "k"]]), 403, "AccessDenied"],
    ["a field sent twice", () => verify([...form([], { key: "k" }), ["key", "k2"]]), 400, "InvalidArgument"],
    ["an expired policy", () => verify(form([], { key: "k" }, { expiration: "2026-11-20T09:59:59Z" })), 403, "AccessDenied"],
    ["a policy without expiration", () => verify(form([], { key: "k" }, { expiration: "soon" })), 400, "InvalidPolicyDocument"],
    ["metadata over 2 KB", () => verify(form([], { key: "k", "x-amz-meta-big": "x".repeat(2100) })), 400, "MetadataTooLarge"],
  ])("rejects %s", (_what, fn, status, code) => {
    const e = failure(fn);
    expect([e.status, e.code]).toEqual([status, code]);
  });

  it("names the failed condition the way S3 does", () => {
    const fields = form([["starts-with", "$key", "uploads/"]], { key: "uploads/a" }).map(([k, v]): [string, string] => [k, k === "key" ? "elsewhere/a" : v]);
    const e = failure(() => verify(fields));
    expect(e.message).toBe('Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]');
  });

  it("checks content-length-range on the received size", () => {
    expect(() => checkContentLength(5, [1, 10])).not.toThrow();
    expect(failure(() => checkContentLength(11, [1, 10]))).toMatchObject({ status: 400, code: "EntityTooLarge", extra: { ProposedSize: 11, MaxSizeAllowed: 10 } });
    expect(failure(() => checkContentLength(0, [1, 10]))).toMatchObject({ status: 400, code: "EntityTooSmall", extra: { ProposedSize: 0, MinSizeAllowed: 1 } });
  });

  it("renders and parses S3's XML error body", () => {
    const xml = errorXml(new S3Error(400, "EntityTooLarge", "too <big> & bad", { ProposedSize: 11 }), "REQ", "HOST");
    expect(xml).toContain("<Code>EntityTooLarge</Code><Message>too &lt;big&gt; &amp; bad</Message><ProposedSize>11</ProposedSize><RequestId>REQ</RequestId>");
    expect(parseErrorXml(xml)).toMatchObject({ code: "EntityTooLarge", message: "too <big> & bad", ProposedSize: "11" });
  });
});

describe("Object Created event", () => {
  it("matches the contract, with keys encoded as S3 encodes them", () => {
    const e = objectCreatedEvent({ bucket: "media", key: "uploads/a b/source", size: 3, etag: "abc", region: "us-east-1", account: "000000000000", requestId: "R", sourceIp: "127.0.0.1", time: NOW });
    expect(s3ObjectCreatedEventSchema.safeParse(e).success).toBe(true);
    expect(e.detail.object.key).toBe("uploads/a+b/source");
    expect(decodeS3Key(e.detail.object.key)).toBe("uploads/a b/source");
    const next = objectCreatedEvent({ bucket: "media", key: "k", size: 1, etag: "e", region: "r", account: "a", requestId: "R", sourceIp: "ip", time: NOW });
    expect(next.detail.object.sequencer! > e.detail.object.sequencer!).toBe(true);
  });
});

describe("Range header", () => {
  it.each([
    [undefined, undefined],
    ["bytes=0-4", [0, 4]],
    ["bytes=5-", [5, 9]],
    ["bytes=-3", [7, 9]],
    ["bytes=8-100", [8, 9]],
    ["bytes=10-", "unsatisfiable"],
    ["bytes=5-2", undefined],
    ["items=0-1", undefined],
  ])("%s of a 10-byte object → %j", (header, expected) => {
    expect(parseRange(header, 10)).toEqual(expected);
  });
});
