import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { JWTVerifyGetKey } from "jose";
import { UnauthorizedError } from "./errors";

/**
 * Who is calling. On stages with a JWT issuer a valid bearer token is required and its subject
 * becomes the job's owner; open stages (no issuer configured) give every caller "anonymous".
 */
export interface CallerVerifier {
  /** True when no token is required (the stage is open). */
  readonly open: boolean;
  /** Resolves the caller from the Authorization header; throws UnauthorizedError. */
  verify(authorization: string | undefined): Promise<{ owner: string }>;
}

export const ANONYMOUS_OWNER = "anonymous";

export const openCaller: CallerVerifier = {
  open: true,
  verify: async () => ({ owner: ANONYMOUS_OWNER }),
};

export type JwtVerifierOptions = { issuer: string; audience: string } & ({ jwksUrl: string } | { keys: JWTVerifyGetKey });

const REALM = 'Bearer realm="reelbridge"';
/** jose errors that mean "this token is not acceptable" (as opposed to "the JWKS is unreachable"). */
const tokenErrors = [errors.JWTClaimValidationFailed, errors.JWTExpired, errors.JWTInvalid, errors.JWSInvalid, errors.JWSSignatureVerificationFailed, errors.JWKSNoMatchingKey, errors.JOSEAlgNotAllowed, errors.JOSENotSupported, errors.JWKSMultipleMatchingKeys];

/**
 * Verifies `Authorization: Bearer <jwt>` against the issuer's JWKS (fetched and cached by jose),
 * checking signature, issuer, audience, expiry and not-before. A JWKS that cannot be fetched is
 * not the caller's fault: that error propagates (500) instead of becoming a 401.
 */
export function createJwtVerifier(opts: JwtVerifierOptions): CallerVerifier {
  const keys = "keys" in opts ? opts.keys : createRemoteJWKSet(new URL(opts.jwksUrl));
  return {
    open: false,
    async verify(authorization) {
      const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(authorization ?? "");
      if (!m?.[1]) throw new UnauthorizedError("a bearer token is required", REALM);
      try {
        const { payload } = await jwtVerify(m[1], keys, { issuer: opts.issuer, audience: opts.audience, clockTolerance: 5 });
        if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 256) {
          throw new errors.JWTClaimValidationFailed('the token has no usable "sub" claim', payload, "sub", "missing");
        }
        return { owner: payload.sub };
      } catch (err) {
        if (tokenErrors.some((E) => err instanceof E)) {
          const description = (err as Error).message.replace(/["\\]/g, "'");
          throw new UnauthorizedError(`invalid bearer token: ${(err as Error).message}`, `${REALM}, error="invalid_token", error_description="${description}"`);
        }
        throw err;
      }
    },
  };
}
