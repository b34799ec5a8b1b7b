import * as oauth from "oauth4webapi";
import type { AuthConfig } from "./config";

/**
 * Sign-in for stages with JWT auth: OpenID Connect authorization code flow with PKCE (S256)
 * against the stage's issuer, found by discovery, as a public client (no secret in a page).
 * oauth4webapi does the protocol: discovery, the authorization response's state and iss checks,
 * the code exchange, the ID token's validation, refreshes.
 *
 * Tokens live in this module's memory only: never in localStorage/sessionStorage or a cookie,
 * where any script or extension on the origin could read them later. Only the PKCE verifier and
 * the state of an authorization request in flight are kept in sessionStorage, for the length of
 * the redirect to the issuer and back (they are useless without the code the issuer returns to
 * the registered redirect URI). A reload therefore loses the tokens: the page then asks the
 * issuer again with prompt=none (a top-level redirect: no password, no third-party cookie),
 * which answers with a new code while the issuer's own session lasts, or with login_required,
 * and the page stays signed out without a word. It does so only after a sign-in in this tab
 * (a marker, no token, in sessionStorage), never for someone who has not signed in.
 *
 * Renewal is silent, by refresh token (rotated by the issuer at each use), some seconds before
 * the access token expires. Chosen over a hidden prompt=none iframe: that needs the issuer's
 * session cookie in a third-party context, which Safari and Firefox block by default.
 */

export interface SignedIn {
  /** The token's subject: the owner the APIs record jobs under. */
  sub: string;
  /** What to call the person: name, preferred_username or email from the ID token, else sub. */
  name: string;
}

export type AuthState =
  | { status: "signed-out"; reason?: string }
  | { status: "signed-in"; user: SignedIn; expiresAt: number };

export interface Auth {
  readonly state: AuthState;
  /** The current access token, if signed in. */
  accessToken(): string | undefined;
  /** Sends the browser to the issuer (the page unloads). */
  signIn(): Promise<void>;
  /**
   * After a reload of a tab that was signed in: asks the issuer with prompt=none (the page
   * unloads) and resolves true; false when there is nothing to restore.
   */
  restore(): Promise<boolean>;
  /** Forgets the tokens (and asks the issuer to revoke the refresh token, if it can). */
  signOut(): Promise<void>;
  /** Completes a sign-in when the page was opened by the issuer's redirect; true if it was. */
  completeSignIn(url: URL): Promise<boolean>;
  /** Renews the tokens now (also done on a timer). */
  renew(): Promise<boolean>;
  onChange(listener: (s: AuthState) => void): () => void;
}

const PENDING_KEY = "reelbridge.oidc.pending";
/** "This tab was signed in": no token, only whether a reload should try prompt=none. */
const WAS_SIGNED_IN_KEY = "reelbridge.oidc.signed-in";
/** Renew this long before expiry (a quarter of the lifetime for short-lived tokens). */
const RENEW_AHEAD_SECONDS = 60;

interface Pending {
  state: string;
  codeVerifier: string;
  nonce: string;
  /** Where the person was (the URL's hash: an open job), restored after the redirect. */
  returnTo: string;
  /** A silent attempt (prompt=none): the issuer's refusal is no error to show. */
  silent?: boolean;
}

export class SignInError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SignInError";
  }
}

/** The redirect URI registered at the issuer for this page: its origin and "/". */
export const redirectUriFor = (location: { origin: string }): string => `${location.origin}/`;

/** Whether a URL is the issuer's answer to an authorization request (code or error, with state). */
export const isAuthorizationResponse = (url: URL): boolean => url.searchParams.has("state") && (url.searchParams.has("code") || url.searchParams.has("error"));

/** The scope to ask for: "openid" and the configured ones, each once. */
export const scopeFor = (cfg: AuthConfig): string => [...new Set(["openid", ...(cfg.scope ?? "").split(/\s+/).filter(Boolean)])].join(" ");

/** RFC 8707 resource: the audience, when it is an absolute URI (e.g. "https://api.example.com"). */
export const resourceFor = (cfg: AuthConfig): string | undefined => {
  if (!cfg.audience) return undefined;
  try {
    new URL(cfg.audience);
    return cfg.audience;
  } catch {
    return undefined;
  }
};

/** When to renew a token that expires in `expiresIn` seconds (seconds from now, at least 5). */
export const renewAfterSeconds = (expiresIn: number): number => Math.max(5, expiresIn - Math.min(RENEW_AHEAD_SECONDS, expiresIn / 4));

const displayName = (claims: Record<string, unknown>): string => {
  for (const k of ["name", "preferred_username", "email"]) {
    const v = claims[k];
    if (typeof v === "string" && v.trim()) return v.trim();
  }
  return String(claims.sub);
};

export function createAuth(cfg: AuthConfig, env: { redirectUri: string; storage?: Storage; fetch?: typeof fetch } = { redirectUri: redirectUriFor(location) }): Auth {
  const storage = env.storage ?? sessionStorage;
  const issuer = new URL(cfg.issuer);
  // http:// issuers are refused by oauth4webapi unless asked; only for a provider on this machine.
  const insecure = issuer.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname);
  const httpOptions = { ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}), ...(env.fetch ? { [oauth.customFetch]: env.fetch } : {}) };
  const client: oauth.Client = { client_id: cfg.clientId };
  const clientAuth = oauth.None();
  const resource = resourceFor(cfg);
  const tokenParams = resource ? { additionalParameters: { resource } } : {};

  let server: Promise<oauth.AuthorizationServer> | undefined;
  const discover = () => {
    server ??= oauth
      .discoveryRequest(issuer, { algorithm: "oidc", ...httpOptions })
      .then((res) => oauth.processDiscoveryResponse(issuer, res))
      .catch((err: unknown) => {
        server = undefined;
        throw new SignInError(`The sign-in service (${issuer.origin}) could not be reached or is not an OpenID provider.`, { cause: err });
      });
    return server;
  };

  let state: AuthState = { status: "signed-out" };
  let access: string | undefined;
  let refresh: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<(s: AuthState) => void>();
  const set = (s: AuthState) => {
    state = s;
    for (const l of listeners) l(s);
  };

  const signedOut = (reason?: string) => {
    storage.removeItem(WAS_SIGNED_IN_KEY);
    if (timer) clearTimeout(timer);
    timer = undefined;
    access = undefined;
    refresh = undefined;
    set(reason ? { status: "signed-out", reason } : { status: "signed-out" });
  };

  const accept = (tokens: oauth.TokenEndpointResponse, user: SignedIn | undefined) => {
    access = tokens.access_token;
    if (tokens.refresh_token) refresh = tokens.refresh_token;
    const expiresIn = tokens.expires_in ?? 300;
    const who = user ?? (state.status === "signed-in" ? state.user : undefined);
    if (!who) throw new SignInError("The sign-in service returned no ID token.");
    if (timer) clearTimeout(timer);
    timer = refresh ? setTimeout(() => void auth.renew(), renewAfterSeconds(expiresIn) * 1000) : undefined;
    storage.setItem(WAS_SIGNED_IN_KEY, "1");
    set({ status: "signed-in", user: who, expiresAt: Date.now() + expiresIn * 1000 });
  };

  /** The authorization request (code + PKCE S256, state, nonce); prompt=none when silent. */
  async function authorize(silent: boolean): Promise<void> {
    const as = await discover();
    if (!as.authorization_endpoint) throw new SignInError("The sign-in service has no authorization endpoint.");
    const pending: Pending = {
      state: oauth.generateRandomState(),
      codeVerifier: oauth.generateRandomCodeVerifier(),
      nonce: oauth.generateRandomNonce(),
      returnTo: location.hash,
      ...(silent ? { silent: true } : {}),
    };
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set("client_id", cfg.clientId);
    url.searchParams.set("redirect_uri", env.redirectUri);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", scopeFor(cfg));
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(pending.codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
    url.searchParams.set("state", pending.state);
    url.searchParams.set("nonce", pending.nonce);
    if (resource) url.searchParams.set("resource", resource);
    if (silent) url.searchParams.set("prompt", "none");
    storage.setItem(PENDING_KEY, JSON.stringify(pending));
    location.assign(url.href);
  }

  const auth: Auth = {
    get state() {
      return state;
    },
    accessToken: () => access,
    signIn: () => authorize(false),
    async restore() {
      if (storage.getItem(WAS_SIGNED_IN_KEY) !== "1" || state.status === "signed-in") return false;
      try {
        await authorize(true);
        return true;
      } catch {
        storage.removeItem(WAS_SIGNED_IN_KEY);
        return false;
      }
    },
    async signOut() {
      const token = refresh;
      signedOut();
      if (!token) return;
      try {
        const as = await discover();
        if (as.revocation_endpoint) await oauth.revocationRequest(as, client, clientAuth, token, { ...httpOptions, additionalParameters: { token_type_hint: "refresh_token" } });
      } catch {
        // Signed out here either way; the refresh token expires on its own.
      }
    },
    async completeSignIn(url) {
      if (!isAuthorizationResponse(url)) return false;
      const raw = storage.getItem(PENDING_KEY);
      storage.removeItem(PENDING_KEY);
      // The code and state must not stay in the address bar or the history.
      const clean = new URL(url.href);
      for (const k of ["code", "state", "iss", "error", "error_description", "error_uri", "session_state"]) clean.searchParams.delete(k);
      let pending: Pending | undefined;
      try {
        pending = raw ? (JSON.parse(raw) as Pending) : undefined;
      } catch {
        pending = undefined;
      }
      history.replaceState(null, "", `${clean.pathname}${clean.search}${pending?.returnTo ?? clean.hash}`);
      if (!pending) throw new SignInError("This sign-in answer does not belong to a sign-in started here (or it was used already). Sign in again.");
      const as = await discover();
      let params: URLSearchParams;
      try {
        params = oauth.validateAuthResponse(as, client, url, pending.state);
      } catch (err) {
        if (err instanceof oauth.AuthorizationResponseError) {
          // prompt=none answered "sign in first" (login_required, consent_required…): stay signed out quietly.
          if (pending.silent) {
            signedOut();
            return false;
          }
          throw new SignInError(`The sign-in service refused: ${err.error_description ?? err.error}.`, { cause: err });
        }
        throw new SignInError("The sign-in answer failed its checks (state or issuer). Sign in again.", { cause: err });
      }
      try {
        const res = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, env.redirectUri, pending.codeVerifier, { ...httpOptions, ...tokenParams });
        const tokens = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: pending.nonce, requireIdToken: true });
        const claims = oauth.getValidatedIdTokenClaims(tokens)!;
        accept(tokens, { sub: claims.sub, name: displayName(claims) });
      } catch (err) {
        if (err instanceof SignInError) throw err;
        const detail = err instanceof oauth.ResponseBodyError ? `${err.error}${err.error_description ? `: ${err.error_description}` : ""}` : err instanceof Error ? err.message : String(err);
        throw new SignInError(`Signing in failed (${detail}). Sign in again.`, { cause: err });
      }
      return true;
    },
    async renew() {
      const token = refresh;
      if (!token) return false;
      try {
        const as = await discover();
        const res = await oauth.refreshTokenGrantRequest(as, client, clientAuth, token, { ...httpOptions, ...tokenParams });
        const tokens = await oauth.processRefreshTokenResponse(as, client, res);
        if (refresh !== token) return false; // signed out (or renewed) meanwhile
        accept(tokens, undefined);
        return true;
      } catch {
        if (refresh === token) signedOut("Your session has ended. Sign in again.");
        return false;
      }
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return auth;
}
