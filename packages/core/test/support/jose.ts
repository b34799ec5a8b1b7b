// jose is core's dependency (upload/auth.ts verifies JWTs with it); tests elsewhere that need a
// JWKS the way a stage serves one take jose's own local key set from here, through
// @reelbridge/testing, instead of reaching into core's node_modules.
export { createLocalJWKSet } from "jose";
