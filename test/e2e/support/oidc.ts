import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { generateKeyPairSync } from "node:crypto";
import Provider, { errors } from "oidc-provider";
import type { Configuration, KoaContextWithOIDC } from "oidc-provider";

/**
 * A real OpenID provider for the sign-in tests: panva's oidc-provider (the certified Node
 * implementation), not a token minting stub. It signs with a key pair made per run and
 * publishes it at its JWKS URI; the APIs under test verify tokens from there.
 *
 * Configured as a stage's identity provider would be for the web client:
 *  - one public client (no secret, token_endpoint_auth_method none), authorization code only,
 *    PKCE with S256 required, the page's origin + "/" as its only redirect URI;
 *  - access tokens are JWTs for one resource server (RFC 8707 resource = the APIs' audience),
 *    short-lived (`accessTokenTtlSeconds`) so the tests see the page renew them;
 *  - refresh tokens for that client, rotated at every use (the default for public clients);
 *  - consent is implied for this first-party client (the dev login form remains: any login
 *    name is accepted and becomes the subject, which is how the tests sign in as two people).
 */
export interface LocalOidc {
  issuer: string;
  clientId: string;
  audience: string;
  jwksUrl: string;
  /** Token endpoint requests, by grant type, for assertions on renewal. */
  tokenRequests: Array<{ grantType: string; at: number }>;
  close(): Promise<void>;
}

export async function startLocalOidc(opts: { redirectUri: string; audience?: string; accessTokenTtlSeconds?: number; clientId?: string }): Promise<LocalOidc> {
  const clientId = opts.clientId ?? "reelbridge-web";
  const audience = opts.audience ?? "https://api.reelbridge.test";
  const ttl = opts.accessTokenTtlSeconds ?? 300;
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: "jwk" }), alg: "RS256", use: "sig", kid: `test-${Date.now().toString(36)}` };

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: "none",
        application_type: "web",
        redirect_uris: [opts.redirectUri],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: [`cookie-${Math.random().toString(36).slice(2)}`] },
    pkce: { required: () => true },
    scopes: ["openid", "profile", "offline_access"],
    claims: { openid: ["sub"], profile: ["name", "preferred_username"] },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: sub, preferred_username: sub }) }),
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== audience) throw new errors.InvalidTarget();
          return { scope: "api", audience, accessTokenTTL: ttl, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } };
        },
      },
    },
    // Refresh tokens for the web client without the offline_access/consent dance.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    // First-party client: the grant is implied, so there is no consent screen.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope("openid profile");
      grant.addResourceScope(audience, "api");
      await grant.save();
      return grant;
    },
    ttl: { AccessToken: ttl, IdToken: 3600, RefreshToken: 24 * 3600, Session: 24 * 3600, Grant: 24 * 3600, Interaction: 600, AuthorizationCode: 60 },
  };
  const provider = new Provider(issuer, configuration);
  const tokenRequests: LocalOidc["tokenRequests"] = [];
  provider.on("grant.success", (ctx: KoaContextWithOIDC) => {
    const grantType = (ctx.oidc.params?.grant_type as string | undefined) ?? "?";
    tokenRequests.push({ grantType, at: Date.now() });
  });
  server.on("request", provider.callback());
  return {
    issuer,
    clientId,
    audience,
    jwksUrl: `${issuer}/jwks`,
    tokenRequests,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
