/**
 * Where the APIs are. The local dev server answers /config.json with { apiBase }; a deployed
 * site has no /config.json (CloudFront answers index.html) and gets the two Function URLs baked
 * in at deploy time as VITE_UPLOAD_API / VITE_STATUS_API (stacks/Web.ts). Last resort: "/api".
 */
export interface ClientConfig {
  /** POST {uploadApi}/uploads */
  uploadApi: string;
  /** GET {statusApi}/jobs, {statusApi}/jobs/{jobId} */
  statusApi: string;
}

export interface BuildEnv {
  VITE_API_BASE?: string | undefined;
  VITE_UPLOAD_API?: string | undefined;
  VITE_STATUS_API?: string | undefined;
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
  return { uploadApi: upload, statusApi: status };
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
