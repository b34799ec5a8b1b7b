/**
 * Where the APIs are. The local dev server answers /config.json with { apiBase }; a deployed
 * site has no /config.json (CloudFront answers index.html) and gets the two Function URLs baked
 * in at deploy time as VITE_UPLOAD_API / VITE_STATUS_API / VITE_JOBS_API (stacks/Web.ts). Last resort: "/api".
 */
export interface ClientConfig {
  /** POST {uploadApi}/uploads */
  uploadApi: string;
  /** GET {statusApi}/jobs, {statusApi}/jobs/{jobId} */
  statusApi: string;
  /** POST {jobsApi}/jobs/{jobId}/renders and /cancel (re-render, cancel); the status API's base when not given. */
  jobsApi?: string | undefined;
  /** Stages with JWT auth: where people sign in (OpenID Connect, authorization code + PKCE). Absent = open stage. */
  auth?: AuthConfig | undefined;
  /** The signed-in person's access token, sent as a bearer token with every API call. */
  accessToken?: (() => string | undefined) | undefined;
}

/** The stage's OpenID provider and this page's (public) client there. */
export interface AuthConfig {
  /** The stage's issuer (stage config `auth.issuer`); its /.well-known/openid-configuration is read. */
  issuer: string;
  /** This page's client id at the issuer: a public client, PKCE, redirect URI = the page's origin + "/". */
  clientId: string;
  /** The APIs' audience (stage config `auth.audience`), asked for as the RFC 8707 resource when it is a URL. */
  audience?: string | undefined;
  /** Scopes to ask for; "openid" is always among them. */
  scope?: string | undefined;
}

export interface BuildEnv {
  VITE_API_BASE?: string | undefined;
  VITE_UPLOAD_API?: string | undefined;
  VITE_STATUS_API?: string | undefined;
  VITE_JOBS_API?: string | undefined;
  VITE_AUTH_ISSUER?: string | undefined;
  VITE_AUTH_CLIENT_ID?: string | undefined;
  VITE_AUTH_AUDIENCE?: string | undefined;
  VITE_AUTH_SCOPE?: string | undefined;
}

/** A usable base URL, without trailing slashes (Function URLs end in "/"); unreplaced "{{ X }}" placeholders count as absent. */
const usable = (v: unknown): string | undefined => {
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  if (s === "" || s.startsWith("{{")) return undefined;
  return s.replace(/\/+$/, "");
};

export function resolveConfig(json: unknown, env: BuildEnv): ClientConfig {
  const j = (json && typeof json === "object" ? json : {}) as Record<string, unknown>;
  const base = usable(j.apiBase) ?? usable(env.VITE_API_BASE);
  const upload = usable(j.uploadApi) ?? usable(env.VITE_UPLOAD_API) ?? base ?? "/api";
  const status = usable(j.statusApi) ?? usable(env.VITE_STATUS_API) ?? base ?? "/api";
  const jobs = usable(j.jobsApi) ?? usable(env.VITE_JOBS_API);
  const auth = resolveAuth(j.auth, env);
  return { uploadApi: upload, statusApi: status, ...(jobs ? { jobsApi: jobs } : {}), ...(auth ? { auth } : {}) };
}

const text = (v: unknown): string | undefined => {
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  return s === "" || s.startsWith("{{") ? undefined : s;
};

/** Sign-in applies when both an http(s) issuer and a client id are known (config.json first, then the build). */
function resolveAuth(json: unknown, env: BuildEnv): AuthConfig | undefined {
  const a = (json && typeof json === "object" ? json : {}) as Record<string, unknown>;
  const issuer = text(a.issuer) ?? text(env.VITE_AUTH_ISSUER);
  const clientId = text(a.clientId) ?? text(env.VITE_AUTH_CLIENT_ID);
  if (!issuer || !clientId) return undefined;
  try {
    if (!/^https?:$/.test(new URL(issuer).protocol)) return undefined;
  } catch {
    return undefined;
  }
  const audience = text(a.audience) ?? text(env.VITE_AUTH_AUDIENCE);
  const scope = text(a.scope) ?? text(env.VITE_AUTH_SCOPE);
  return { issuer, clientId, ...(audience ? { audience } : {}), ...(scope ? { scope } : {}) };
}

export async function loadConfig(env: BuildEnv, fetchImpl: typeof fetch = fetch): Promise<ClientConfig> {
  let json: unknown;
  try {
    const res = await fetchImpl("/config.json", { cache: "no-store", headers: { accept: "application/json" } });
    if (res.ok && (res.headers.get("content-type") ?? "").includes("json")) json = await res.json();
  } catch {
    // No config.json (deployed site, or offline): the build-time values apply.
  }
  return resolveConfig(json, env);
}
