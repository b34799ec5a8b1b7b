import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Remotion's webhook signature (REFERENCE §2.2): `X-Remotion-Signature: sha512=<hex>` where
 * <hex> is HMAC-SHA512(secret, body) and body is the exact JSON string Remotion POSTed
 * (`JSON.stringify(payload)`). Without a secret Remotion sends `NO_SECRET_PROVIDED`.
 */
export const REMOTION_SIGNATURE_HEADER = "x-remotion-signature";
export const NO_SECRET_PROVIDED = "NO_SECRET_PROVIDED";

const PREFIX = "sha512=";
const hmac = (secret: string, body: string) => createHmac("sha512", secret).update(body, "utf8").digest();

/** The header value Remotion sends for this body (also what the local emulator sends). */
export function signRemotionWebhook(secret: string, rawBody: string): string {
  return PREFIX + hmac(secret, rawBody).toString("hex");
}

/**
 * True when `header` is a valid signature of the webhook body under `secret`.
 *
 * We verify over the RAW body first: the bytes on the wire are what Remotion signed, and
 * re-serialising a parsed body (what Remotion's own `validateWebhookSignature({ body })` does,
 * REFERENCE §2.2) only matches when key order, number formatting and escaping survive
 * JSON.parse + JSON.stringify, which a proxy or a future Remotion version need not preserve.
 * As a fallback we accept exactly what `validateWebhookSignature` accepts (the HMAC of the
 * re-stringified body), so a body re-serialised compactly in transit is not rejected. Both are
 * HMACs under the secret, so neither can be produced without it.
 *
 * Digests are compared with crypto.timingSafeEqual (no early exit on the first differing byte).
 */
export function verifyRemotionSignature(secret: string, rawBody: string, header: string | undefined): boolean {
  if (!secret || !header || header === NO_SECRET_PROVIDED) return false;
  const value = header.trim();
  if (!value.toLowerCase().startsWith(PREFIX)) return false;
  const hex = value.slice(PREFIX.length);
  if (!/^[0-9a-fA-F]{128}$/.test(hex)) return false;
  const given = Buffer.from(hex, "hex");
  if (timingSafeEqual(given, hmac(secret, rawBody))) return true;
  let restringified: string;
  try {
    restringified = JSON.stringify(JSON.parse(rawBody));
  } catch {
    return false;
  }
  return restringified !== rawBody && timingSafeEqual(given, hmac(secret, restringified));
}
