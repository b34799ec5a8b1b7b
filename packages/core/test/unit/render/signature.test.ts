import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signRemotionWebhook, verifyRemotionSignature } from "../../../src/render";

const secret = "s3cret";
const body = JSON.stringify({ type: "success", renderId: "abc", customData: { jobId: "J" } });

describe("Remotion webhook signature", () => {
  it("is sha512=HMAC-SHA512(secret, body) in hex, as Remotion computes it", () => {
    expect(signRemotionWebhook(secret, body)).toBe(`sha512=${createHmac("sha512", secret).update(body).digest("hex")}`);
  });

  it("accepts the signature of the exact body", () => {
    expect(verifyRemotionSignature(secret, body, signRemotionWebhook(secret, body))).toBe(true);
  });

  it("rejects a tampered body, a wrong secret, a missing or malformed header and NO_SECRET_PROVIDED", () => {
    const sig = signRemotionWebhook(secret, body);
    expect(verifyRemotionSignature(secret, body.replace("abc", "abd"), sig)).toBe(false);
    expect(verifyRemotionSignature("other", body, sig)).toBe(false);
    expect(verifyRemotionSignature(secret, body, undefined)).toBe(false);
    expect(verifyRemotionSignature(secret, body, "NO_SECRET_PROVIDED")).toBe(false);
    expect(verifyRemotionSignature(secret, body, sig.replace("sha512=", "sha256="))).toBe(false);
    expect(verifyRemotionSignature(secret, body, sig.slice(0, -2))).toBe(false);
    expect(verifyRemotionSignature("", body, signRemotionWebhook("", body))).toBe(false);
  });

  it("also accepts what Remotion's validateWebhookSignature accepts: the HMAC of the re-stringified body", () => {
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    expect(verifyRemotionSignature(secret, pretty, signRemotionWebhook(secret, body))).toBe(true);
    expect(verifyRemotionSignature(secret, pretty, signRemotionWebhook("other", body))).toBe(false);
  });
});
