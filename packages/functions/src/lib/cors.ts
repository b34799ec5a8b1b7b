import type { HttpRequest } from "./handlers";

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};

/**
 * CORS response headers for the stage's web origins only (configured as origins or URLs);
 * other origins get just `vary: Origin`. The token travels in a header, never a cookie, so no
 * credentials are allowed. `methods` is what the endpoint answers to, for preflights.
 */
export function corsFor(req: HttpRequest, webOrigins: readonly string[], opts: { methods: string }): Record<string, string> {
  const origin = req.headers.origin;
  const base = { vary: "Origin" };
  if (!origin || !webOrigins.some((o) => originOf(o) === origin)) return base;
  return {
    ...base,
    "access-control-allow-origin": origin,
    "access-control-allow-methods": opts.methods,
    // idempotency-key: POST /jobs/{jobId}/renders (docs/decisions/0009).
    "access-control-allow-headers": "authorization, content-type, idempotency-key",
    "access-control-max-age": "600",
  };
}
