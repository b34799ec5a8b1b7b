import { renderInputPropsSchema } from "@reelbridge/remotion/props";
import { describe, expect, it } from "vitest";
import { SignInError, createAuth, isAuthorizationResponse, renewAfterSeconds, resourceFor, scopeFor } from "../../src/auth";
import { resolveConfig } from "../../src/config";
import { musicTrack } from "../../src/music";
import { DEFAULT_SECONDS, PLACEHOLDER_STILL, previewGeometry, previewProps } from "../../src/preview/props";

const form = { title: "  Harbour at dawn ", subtitle: "", music: "pulse", aspect: "9:16" as const, durationSeconds: 4, photoUrl: "blob:http://127.0.0.1/abc" };

describe("preview props", () => {
  it("are the render's input props with the photo in place of the base clip", () => {
    const p = previewProps(form);
    expect(p).toEqual({ title: "Harbour at dawn", aspect: "9:16", baseStillUrl: form.photoUrl, baseVideoDurationSeconds: 4, musicId: "pulse" });
    // Swap the still for a clip URL and the render contract accepts them unchanged.
    const { baseStillUrl: _still, ...rest } = p as { baseStillUrl: string };
    const parsed = renderInputPropsSchema.safeParse({ ...rest, baseVideoUrl: "https://media.example.com/jobs/01J/base.mp4" });
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual({ ...rest, baseVideoUrl: "https://media.example.com/jobs/01J/base.mp4" });
  });

  it("carry a subtitle only when there is one, and a placeholder still before a photo is chosen", () => {
    expect(previewProps({ ...form, subtitle: "  Ferry crossing " })).toMatchObject({ subtitle: "Ferry crossing" });
    expect(previewProps({ ...form, subtitle: "   " })).not.toHaveProperty("subtitle");
    expect(previewProps({ ...form, photoUrl: undefined })).toMatchObject({ baseStillUrl: PLACEHOLDER_STILL });
  });

  it("preview a length the form cannot submit, or an unknown track, as the defaults", () => {
    for (const durationSeconds of [0, 1, 2.5, 21, Number.NaN]) expect(previewProps({ ...form, durationSeconds }).baseVideoDurationSeconds).toBe(DEFAULT_SECONDS);
    expect(previewProps({ ...form, music: "nope" }).musicId).toBe("sunrise");
  });

  it("have the composition's geometry: 30 fps, the clip then a 2 s end card", () => {
    expect(previewGeometry({ aspect: "9:16", baseVideoDurationSeconds: 4 })).toEqual({ width: 1080, height: 1920, fps: 30, durationInFrames: 180, endCardFrame: 120 });
    expect(previewGeometry({ aspect: "16:9", baseVideoDurationSeconds: 6 })).toMatchObject({ width: 1920, height: 1080, durationInFrames: 240 });
  });
});

describe("music to listen to", () => {
  it("is the catalog's file, where the page serves remotion/public", () => {
    expect(musicTrack("sunrise")).toMatchObject({ id: "sunrise", title: "Sunrise", url: "/music/sunrise.m4a" });
    expect(musicTrack("sunrise")!.description).not.toBe("");
    expect(musicTrack("toString")).toBeUndefined();
    expect(musicTrack("nope")).toBeUndefined();
  });
});

describe("sign-in settings", () => {
  it("come from config.json, else from the build; both an http(s) issuer and a client id are needed", () => {
    expect(resolveConfig({ apiBase: "/api", auth: { issuer: "http://127.0.0.1:4000", clientId: "web", audience: "https://api.example" } }, {}).auth).toEqual({ issuer: "http://127.0.0.1:4000", clientId: "web", audience: "https://api.example" });
    expect(resolveConfig({}, { VITE_AUTH_ISSUER: "https://id.example/", VITE_AUTH_CLIENT_ID: "web" }).auth).toEqual({ issuer: "https://id.example/", clientId: "web" });
    // Deploy-time placeholders that were never replaced, a missing client, a non-http issuer: no sign-in.
    expect(resolveConfig({}, { VITE_AUTH_ISSUER: "{{ VITE_AUTH_ISSUER }}", VITE_AUTH_CLIENT_ID: "{{ VITE_AUTH_CLIENT_ID }}" }).auth).toBeUndefined();
    expect(resolveConfig({ auth: { issuer: "https://id.example" } }, {}).auth).toBeUndefined();
    expect(resolveConfig({ auth: { issuer: "javascript:alert(1)", clientId: "web" } }, {}).auth).toBeUndefined();
  });

  it("ask for openid plus the configured scopes, and for the audience as the resource only when it is a URI", () => {
    expect(scopeFor({ issuer: "https://id.example", clientId: "web" })).toBe("openid");
    expect(scopeFor({ issuer: "https://id.example", clientId: "web", scope: "profile openid  api" })).toBe("openid profile api");
    expect(resourceFor({ issuer: "https://id.example", clientId: "web", audience: "https://api.example" })).toBe("https://api.example");
    expect(resourceFor({ issuer: "https://id.example", clientId: "web", audience: "reelbridge-api" })).toBeUndefined();
  });

  it("renew before expiry: a minute ahead for long tokens, a quarter of the lifetime for short ones, never sooner than 5 s", () => {
    expect(renewAfterSeconds(3600)).toBe(3540);
    expect(renewAfterSeconds(20)).toBe(15);
    expect(renewAfterSeconds(4)).toBe(5);
  });

  it("recognise the issuer's answer in the URL", () => {
    expect(isAuthorizationResponse(new URL("https://app.example/?code=abc&state=xyz&iss=https%3A%2F%2Fid.example"))).toBe(true);
    expect(isAuthorizationResponse(new URL("https://app.example/?error=login_required&state=xyz"))).toBe(true);
    expect(isAuthorizationResponse(new URL("https://app.example/?code=abc"))).toBe(false);
    expect(isAuthorizationResponse(new URL("https://app.example/#job=01J"))).toBe(false);
  });

  it("refuse an answer to a sign-in this page did not start, without asking the issuer anything", async () => {
    const calls: string[] = [];
    const storage = new Map<string, string>();
    const g = globalThis as unknown as { history?: unknown };
    const hadHistory = "history" in g;
    g.history = { replaceState: () => undefined };
    try {
      const auth = createAuth(
        { issuer: "https://id.example", clientId: "web" },
        {
          redirectUri: "https://app.example/",
          storage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v), removeItem: (k: string) => void storage.delete(k) } as Storage,
          fetch: (async (u: string) => {
            calls.push(String(u));
            throw new Error("no network in unit tests");
          }) as unknown as typeof fetch,
        },
      );
      await expect(auth.completeSignIn(new URL("https://app.example/?code=stolen&state=forged"))).rejects.toBeInstanceOf(SignInError);
      expect(calls).toEqual([]);
      expect(auth.state).toEqual({ status: "signed-out" });
      expect(auth.accessToken()).toBeUndefined();
    } finally {
      if (!hadHistory) delete g.history;
    }
  });
});
