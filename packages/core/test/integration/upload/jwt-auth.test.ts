import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtVerifier } from "../../../src/upload/auth";
import { UnauthorizedError } from "../../../src/upload/errors";

const ISSUER = "https://issuer.example.com/";
const AUDIENCE = "reelbridge";

let jwksUrl = "";
let jwksRequests = 0;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let rogue: Awaited<ReturnType<typeof generateKeyPair>>;
const server = createServer(async (_req, res) => {
  jwksRequests++;
  const jwk = await exportJWK(keys.publicKey);
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ keys: [{ ...jwk, kid: "k1", alg: "RS256", use: "sig" }] }));
});

const token = (claims: Record<string, unknown> = {}, o: { key?: CryptoKey; kid?: string; exp?: string | number; aud?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: o.kid ?? "k1" })
    .setIssuer(ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? "5m")
    .sign(o.key ?? keys.privateKey);

beforeAll(async () => {
  keys = await generateKeyPair("RS256");
  rogue = await generateKeyPair("RS256");
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe("JWT caller verifier against a JWKS endpoint", () => {
  it("accepts a valid bearer token and returns its subject as the owner, fetching the JWKS once", async () => {
    const v = createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl });
    expect(v.open).toBe(false);
    expect(await v.verify(`Bearer ${await token({ sub: "user-1" })}`)).toEqual({ owner: "user-1" });
    expect(await v.verify(`bearer ${await token({ sub: "user-2" })}`)).toEqual({ owner: "user-2" });
    expect(jwksRequests).toBe(1);
  });

  it.each([
    ["a missing header", async () => undefined],
    ["a non-bearer scheme", async () => "Basic dXNlcjpwYXNz"],
    ["garbage", async () => "Bearer not.a.jwt"],
    ["a token signed by someone else", async () => `Bearer ${await token({ sub: "u" }, { key: rogue.privateKey })}`],
    ["an unknown key id", async () => `Bearer ${await token({ sub: "u" }, { key: rogue.privateKey, kid: "k2" })}`],
    ["an expired token", async () => `Bearer ${await token({ sub: "u" }, { exp: Math.floor(Date.now() / 1000) - 600 })}`],
    ["a token for another audience", async () => `Bearer ${await token({ sub: "u" }, { aud: "other" })}`],
    ["a token without a subject", async () => `Bearer ${await token({})}`],
  ])("refuses %s with UnauthorizedError", async (_what, header) => {
    const v = createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl });
    const err = await v.verify(await header()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect((err as UnauthorizedError).wwwAuthenticate).toMatch(/^Bearer realm="reelbridge"/);
  });

  it("does not blame the caller when the JWKS cannot be fetched", async () => {
    const v = createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: "http://127.0.0.1:1/jwks.json" });
    const err = await v.verify(`Bearer ${await token({ sub: "u" })}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(UnauthorizedError);
  });
});
