import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAYOUTS } from "@reelbridge/remotion/components/layout";
import { startLocalOidc } from "./support/oidc";
import type { LocalOidc } from "./support/oidc";
import { ROOT, freePort, startStack } from "./support/stack";
import type { RunningStack } from "./support/stack";

/**
 * The web client as a studio (issue #14), in the system's headless Chromium on a phone-sized
 * screen, against `reelbridge dev` with JWT auth whose issuer is a real OpenID provider started
 * here (oidc-provider, test/e2e/support/oidc.ts):
 *  - sign-in by authorization code + PKCE, tokens in memory only, silent renewal;
 *  - the live preview (@remotion/player) shows what is typed, fitted as the renderer fits it;
 *  - drag and drop, music auditioning, keyboard operation, labels;
 *  - a job created after sign-in is listed as the signed-in owner's, and not as another's;
 *  - the Player's frame at t matches the rendered video's frame at t (SSIM, thresholds below).
 * Phone screenshots are kept in test-results/studio/ (ignored by git).
 */

const exec = promisify(execFile);
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"];
const SHOTS = join(ROOT, "test-results", "studio");
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } as const;
/** Access tokens live this long, so the pipeline's minutes see the page renew them several times. */
const ACCESS_TOKEN_TTL = 20;
/** The render scale of the dev stack: its frames are 540×960. */
const RENDER_SCALE = 0.5;

/**
 * How close the Player's frame must be to the rendered one: SSIM of the luma, both frames
 * reduced to 270×480 (1 = identical), over the whole frame and over the band the title and
 * subtitle sit in. The photo reaches the render through the pipeline's normaliser, the
 * "static" offline generator and two H.264 encodes, and the Player scales the composition with
 * CSS where the renderer renders it at 0.5, so text edges differ by a pixel or so. Measured on
 * this machine: 0.946 (frame) and 0.923 (title band); the controls, which must fail the bars,
 * measured 0.645 (the end card against the titled frame) and 0.721 (the band with another title).
 */
const SSIM_FRAME_MIN = 0.92;
const SSIM_TITLE_MIN = 0.88;

const TITLE = "Harbour at dawn";
const SUBTITLE = "Ferry crossing";

let oidc: LocalOidc;
let stack: RunningStack;
let browser: Browser;
let alice: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const apiCalls: Array<{ url: string; method: string; authorization: string | undefined; status?: number }> = [];
const authorizeRequests: URL[] = [];
const tokenRequestBodies: URLSearchParams[] = [];
const issuedTokens: string[] = [];
let jobId: string | undefined;

async function photo9x16(): Promise<Buffer> {
  type Sharp = (input: Buffer) => { resize(o: { width: number; height: number; fit: "cover" }): { jpeg(o: { quality: number }): { toBuffer(): Promise<Buffer> } } };
  const sharp = createRequire(join(ROOT, "packages/core/package.json"))("sharp") as Sharp;
  // Already the frame's shape, so no step crops it differently from the composition's "cover".
  return sharp(await readFile(join(ROOT, "assets/sample/photo.jpg"))).resize({ width: 720, height: 1280, fit: "cover" }).jpeg({ quality: 90 }).toBuffer();
}

/** The page's text inside the Player, one space between words (the title is set in lines). */
const playerText = async (p: Page) => (await p.locator("#preview-player").innerText()).replace(/\s+/g, " ");

function watch(p: Page) {
  // Only the studio's own pages count (the provider's dev login page is not ours).
  const ours = () => p.url().startsWith(stack.url);
  p.on("console", (m) => { if (m.type() === "error" && ours()) consoleErrors.push(m.text()); });
  p.on("pageerror", (e) => { if (ours()) consoleErrors.push(`uncaught: ${e.message}`); });
  p.on("request", (r) => {
    const u = new URL(r.url());
    if (u.origin === oidc.issuer && u.pathname === "/auth") authorizeRequests.push(u);
    if (u.origin === oidc.issuer && u.pathname === "/token" && r.method() === "POST") tokenRequestBodies.push(new URLSearchParams(r.postData() ?? ""));
  });
  p.on("response", async (res) => {
    const u = new URL(res.url());
    if (u.origin === oidc.issuer && u.pathname === "/token" && res.ok()) {
      const body = (await res.json().catch(() => ({}))) as { access_token?: string };
      if (body.access_token) issuedTokens.push(body.access_token);
    }
    if (u.pathname.startsWith("/api/") && u.origin === new URL(stack.url).origin) {
      apiCalls.push({ url: u.pathname + u.search, method: res.request().method(), authorization: await res.request().headerValue("authorization") ?? undefined, status: res.status() });
    }
  });
}

async function signIn(p: Page, login: string) {
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL((u) => u.origin === oidc.issuer, { timeout: 30_000 });
  await p.locator('input[name="login"]').fill(login);
  await p.locator('input[name="password"]').fill("any password");
  await p.getByRole("button", { name: "Sign-in" }).click();
  await p.waitForURL((u) => u.href.startsWith(stack.url), { timeout: 30_000 });
  await p.locator("body[data-ready=true]").waitFor();
  await p.locator("#account[data-status=signed-in]").waitFor({ timeout: 30_000 });
}

/** SSIM of two images' luma at 270×480; crop (fractions of the height) narrows both to a band. */
const ssim = async (a: string, b: string, crop?: { y: number; h: number }): Promise<number> => {
  const prep = `scale=270:480:flags=area,format=gray${crop ? `,crop=iw:ih*${crop.h}:0:ih*${crop.y}` : ""}`;
  const { stderr } = await exec("ffmpeg", ["-hide_banner", "-i", a, "-i", b, "-lavfi", `[0:v]${prep}[a];[1:v]${prep}[b];[a][b]ssim`, "-f", "null", "-"]);
  const m = /All:([0-9.]+)/.exec(stderr);
  if (!m) throw new Error(`no SSIM in ffmpeg's output:\n${stderr}`);
  return Number(m[1]);
};

/** Requests that left this machine (none may: fonts, music and the composition are the project's). */
const outside: string[] = [];
async function newContext(): Promise<BrowserContext> {
  const ctx = await browser.newContext(PHONE);
  await ctx.route((u) => !["127.0.0.1", "localhost"].includes(u.hostname) && u.protocol !== "blob:" && u.protocol !== "data:", (route) => {
    outside.push(`${route.request().frame().url()} → ${route.request().url()}`);
    return route.abort("internetdisconnected");
  });
  return ctx;
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  const port = await freePort();
  oidc = await startLocalOidc({ redirectUri: `http://127.0.0.1:${port}/`, accessTokenTtlSeconds: ACCESS_TOKEN_TTL });
  [stack, browser] = await Promise.all([
    startStack({ port, args: ["--scale", String(RENDER_SCALE), "--auth-issuer", oidc.issuer, "--auth-audience", oidc.audience, "--auth-client-id", oidc.clientId] }),
    chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }),
  ]);
  alice = await newContext();
  page = await alice.newPage();
  watch(page);
  await page.goto(stack.url);
  await page.locator("body[data-ready=true]").waitFor();
  console.info(`[studio] screenshots in ${SHOTS}`);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await oidc?.close();
});

describe("studio in Chromium (390×844) against reelbridge dev with an OpenID provider", () => {
  it("signed out: the APIs refuse, the page asks to sign in, and the preview works anyway", async () => {
    expect((await fetch(`${stack.url}api/jobs`)).status).toBe(401);
    await expect(page.locator("#account-status").textContent()).resolves.toBe("Not signed in");
    await expect(page.locator("#history-status").textContent()).resolves.toBe("Sign in to see your videos.");
    await page.locator("#preview-player[data-ready=true]").waitFor();
    await page.getByLabel("Title", { exact: true }).fill("Not yet");
    await expect.poll(() => playerText(page)).toContain("Not yet");
    await page.getByRole("button", { name: "Create video" }).click();
    await expect(page.locator("#form-error").textContent()).resolves.toMatch(/^Sign in to create videos/);
    expect(apiCalls.filter((c) => c.url.startsWith("/api/uploads"))).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "phone-signed-out.png"), fullPage: true });
  });

  it("signs in with the authorization code flow and PKCE; tokens stay in memory", async () => {
    await signIn(page, "alice");
    await expect(page.locator("#account-status").textContent()).resolves.toBe("Signed in as alice");
    const auth = authorizeRequests.at(-1)!;
    expect(Object.fromEntries(["response_type", "client_id", "code_challenge_method", "redirect_uri", "resource"].map((k) => [k, auth.searchParams.get(k)]))).toEqual({
      response_type: "code",
      client_id: oidc.clientId,
      code_challenge_method: "S256",
      redirect_uri: stack.url,
      resource: oidc.audience,
    });
    expect(auth.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const exchange = tokenRequestBodies.find((b) => b.get("grant_type") === "authorization_code")!;
    expect(exchange.get("code_verifier")).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    // The code and state are gone from the address bar.
    expect(new URL(page.url()).search).toBe("");
    // No token in web storage or cookies of the page.
    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    expect(issuedTokens.length).toBeGreaterThan(0);
    for (const t of issuedTokens) expect(stored).not.toContain(t);
    // The page asked for its (empty) job list with the token, and got it.
    await expect.poll(() => page.locator("#history-status").textContent()).toBe("No videos yet.");
    const list = apiCalls.filter((c) => c.url.startsWith("/api/jobs")).at(-1)!;
    expect(list.authorization).toBe(`Bearer ${issuedTokens.at(-1)}`);
    expect(list.status).toBe(200);
  });

  it("stays signed in across a reload: the tokens were in memory, the issuer's session gives new ones without a prompt", async () => {
    const before = authorizeRequests.length;
    await page.reload();
    await page.locator("body[data-ready=true]").waitFor();
    await page.locator("#account[data-status=signed-in]").waitFor({ timeout: 30_000 });
    await expect(page.locator("#account-status").textContent()).resolves.toBe("Signed in as alice");
    const silent = authorizeRequests.slice(before);
    expect(silent.map((u) => u.searchParams.get("prompt"))).toEqual(["none"]);
    expect(new URL(page.url()).search).toBe("");
  });

  it("takes a photo by drag and drop, and the preview shows it and the title as it is typed", async () => {
    const bytes = (await photo9x16()).toString("base64");
    const dataTransfer = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bin], "harbour.jpg", { type: "image/jpeg" }));
      return dt;
    }, bytes);
    await page.locator("#dropzone").dispatchEvent("dragenter", { dataTransfer });
    await expect(page.locator("#dropzone").getAttribute("class")).resolves.toContain("dragover");
    await page.locator("#dropzone").dispatchEvent("drop", { dataTransfer });
    await page.locator("#preview-box:not([hidden])").waitFor();
    await expect(page.locator("#photo-status").textContent()).resolves.toBe("Photo “harbour.jpg” added.");
    expect(await page.getByLabel("Photo", { exact: true }).evaluate((i: HTMLInputElement) => i.files?.[0]?.name)).toBe("harbour.jpg");
    // The photo stands in for the base clip inside the Player.
    await expect.poll(() => page.locator("#preview-player img").first().getAttribute("src")).toMatch(/^blob:/);

    const title = page.getByLabel("Title", { exact: true });
    await title.fill("");
    await title.pressSequentially("Harbour");
    await expect.poll(() => playerText(page)).toContain("Harbour");
    await title.pressSequentially(" at dawn");
    await expect.poll(() => playerText(page)).toContain(TITLE);
    await page.getByLabel("Subtitle (optional)").fill(SUBTITLE);
    await expect.poll(() => playerText(page)).toContain(SUBTITLE);
    await expect(page.locator("#preview-summary").textContent()).resolves.toContain(`title “${TITLE}”, subtitle “${SUBTITLE}”`);

    // Landscape: the Player takes the 16:9 composition's shape.
    await page.getByLabel("Landscape 16:9").check();
    await expect.poll(async () => { const b = (await page.locator("#preview-player").boundingBox())!; return Math.round((b.width / b.height) * 100) / 100; }).toBeCloseTo(16 / 9, 1);
    await page.getByLabel("Portrait 9:16").check();
    await expect.poll(async () => { const b = (await page.locator("#preview-player").boundingBox())!; return Math.round((b.width / b.height) * 100) / 100; }).toBeCloseTo(9 / 16, 1);
  });

  it("shows a title too long for one line fitted as the renderer fits it: smaller, wrapped, inside the title box", async () => {
    const long = "The longest golden hour of the whole summer over the old harbour, with every ferry coming home at last";
    const title = page.getByLabel("Title", { exact: true });
    await title.fill(long.slice(0, 100));
    await expect.poll(() => playerText(page)).toContain("ferry");
    const box = LAYOUTS["9:16"].title;
    // The title's block: the FittedText element whose lines hold the title's words.
    const fit = await page.locator("#preview-player").evaluate((root) => {
      const line = [...root.querySelectorAll<HTMLElement>("div[dir=auto]")].find((d) => d.textContent?.startsWith("The longest"))!;
      const block = line.parentElement!;
      return { fontSize: parseFloat(getComputedStyle(block).fontSize), lines: block.children.length, width: block.scrollWidth, maxWidth: parseFloat(getComputedStyle(block).maxWidth) };
    });
    expect(fit.fontSize).toBeLessThan(box.maxFontSize);
    expect(fit.fontSize).toBeGreaterThanOrEqual(box.minFontSize);
    expect(fit.lines).toBeGreaterThan(1);
    expect(fit.lines).toBeLessThanOrEqual(box.maxLines);
    expect(fit.maxWidth).toBe(box.maxWidth);
    await title.fill(TITLE);
    await expect.poll(() => playerText(page)).toContain(TITLE);
  });

  it("plays a music track before it is chosen, and switches tracks by keyboard while listening", async () => {
    const listen = page.getByRole("button", { name: /^Listen to / });
    const trackName = (await listen.textContent())!.replace(/^Listen to /, "");
    await listen.click();
    const stop = page.getByRole("button", { name: `Stop ${trackName}` });
    await expect(stop.getAttribute("aria-pressed")).resolves.toBe("true");
    await page.waitForFunction(() => (document.getElementById("music-audio") as HTMLAudioElement).currentTime > 0.3, undefined, { timeout: 10_000 });
    const first = await page.locator("#music-audio").evaluate((a: HTMLAudioElement) => a.src);
    await page.getByLabel("Music").focus();
    await page.keyboard.press("ArrowDown");
    const other = await page.getByLabel("Music").evaluate((s: HTMLSelectElement) => s.selectedOptions[0]!.text);
    expect(other).not.toBe(trackName);
    await page.getByRole("button", { name: `Stop ${other}` }).waitFor();
    const second = await page.locator("#music-audio").evaluate((a: HTMLAudioElement) => a.src);
    expect(second).not.toBe(first);
    expect(new URL(second).pathname).toMatch(/^\/music\/.+\.m4a$/);
    // The same file the composition plays: the page serves remotion/public.
    expect((await fetch(second)).headers.get("content-type")).toMatch(/audio|octet-stream/);
    await page.getByRole("button", { name: `Stop ${other}` }).click();
    await expect(page.getByRole("button", { name: `Listen to ${other}` }).getAttribute("aria-pressed")).resolves.toBe("false");
    await page.getByLabel("Music").focus();
    await page.keyboard.press("ArrowUp");
    await expect(page.getByLabel("Music").evaluate((s: HTMLSelectElement) => s.selectedOptions[0]!.text)).resolves.toBe(trackName);
  });

  it("is operable by keyboard in a sensible order, preview controls included, and fits the phone", async () => {
    const order: string[] = [];
    await page.getByLabel("Photo", { exact: true }).focus();
    for (let i = 0; i < 11; i++) {
      await page.keyboard.press("Tab");
      order.push(await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        return el.id || (el as HTMLInputElement).name || el.tagName;
      }));
    }
    expect(order).toEqual(["title", "subtitle", "cameraPrompt", "music", "music-listen", "durationSeconds", "aspect", "submit", "preview-play", "preview-mute", "preview-time"]);
    // The position slider moves the Player by arrow keys.
    await page.keyboard.press("End");
    await page.keyboard.press("Home");
    for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowRight");
    await expect(page.locator("#preview-time-value").textContent()).resolves.toBe("0.5 s");
    // Play and pause by keyboard.
    await page.getByRole("button", { name: "Play preview" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Pause preview" }).waitFor();
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Play preview" }).waitFor();
    for (const label of ["Photo", "Title", "Music", "Preview position (seconds)"]) await expect(page.getByLabel(label, { exact: true }).count(), label).resolves.toBe(1);
    await expect(page.getByRole("group", { name: "Preview of your video" }).count()).resolves.toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, "phone-studio.png"), fullPage: true });
  });

  it("creates a job after sign-in, lists it as alice's, renews the token silently, and another person does not see it", async () => {
    await page.getByLabel("Camera prompt (optional)").fill("static, locked-off camera");
    await page.getByLabel("Length (seconds)").fill("4");
    await page.getByLabel("Portrait 9:16").check();
    await page.getByRole("button", { name: "Create video" }).click();
    await page.locator("#job:not([hidden])").waitFor({ timeout: 60_000 });
    jobId = (await page.locator("#job").getAttribute("data-job-id"))!;
    const upload = apiCalls.find((c) => c.url === "/api/uploads" && c.method === "POST")!;
    expect(upload.status).toBe(201);
    expect(upload.authorization).toMatch(/^Bearer /);

    const deadline = Date.now() + 420_000;
    for (;;) {
      const status = (await page.locator("#job").getAttribute("data-status")) ?? "";
      if (status === "completed" || status === "failed") break;
      if (Date.now() > deadline) throw new Error(`job not finished after 7 minutes\n${stack.output().slice(-4000)}`);
      await page.waitForTimeout(1000);
    }
    expect(await page.locator("#job").getAttribute("data-status"), `${await page.locator("#job-failure").textContent()}\n${stack.output().slice(-3000)}`).toBe("completed");

    // Minutes went by with 20-second access tokens: the page renewed them with the refresh
    // token (rotated each time) and every API call kept working, none got a 401.
    const refreshes = oidc.tokenRequests.filter((r) => r.grantType === "refresh_token");
    expect(refreshes.length).toBeGreaterThan(1);
    expect(new Set(apiCalls.map((c) => c.authorization).filter(Boolean)).size).toBeGreaterThan(2);
    expect(apiCalls.filter((c) => c.status === 401)).toEqual([]);
    await expect(page.locator("#account-status").textContent()).resolves.toBe("Signed in as alice");

    await page.getByRole("button", { name: "Refresh" }).click();
    await page.getByRole("button", { name: new RegExp(TITLE) }).first().waitFor();
    const mine = (await (await fetch(`${stack.url}api/jobs`, { headers: { authorization: `Bearer ${issuedTokens.at(-1)}` } })).json()) as { items: Array<{ jobId: string }> };
    expect(mine.items.map((i) => i.jobId)).toContain(jobId);
    await page.screenshot({ path: join(SHOTS, "phone-completed.png"), fullPage: true });

    // Bob signs in elsewhere: his list is empty, and alice's job is not his to read.
    const bob = await newContext();
    const bobPage = await bob.newPage();
    watch(bobPage);
    await bobPage.goto(stack.url);
    await bobPage.locator("body[data-ready=true]").waitFor();
    await signIn(bobPage, "bob");
    await expect(bobPage.locator("#account-status").textContent()).resolves.toBe("Signed in as bob");
    await expect.poll(() => bobPage.locator("#history-status").textContent()).toBe("No videos yet.");
    expect(await bobPage.locator("#history li").count()).toBe(0);
    const bobToken = issuedTokens.at(-1)!;
    expect((await fetch(`${stack.url}api/jobs/${jobId}`, { headers: { authorization: `Bearer ${bobToken}` } })).status).toBe(404);
    await bobPage.screenshot({ path: join(SHOTS, "phone-other-owner.png"), fullPage: true });
    await bob.close();
  }, 600_000);

  it("the Player's frame at 2 s matches the rendered video's frame at 2 s", async () => {
    const href = (await page.getByRole("link", { name: "Download MP4" }).getAttribute("href"))!;
    const mp4 = join(SHOTS, "final.mp4");
    await writeFile(mp4, Buffer.from(await (await fetch(href)).arrayBuffer()));
    const { stdout } = await exec("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", mp4]);
    expect(stdout.trim().replace(/,$/, "")).toBe("540,960");
    const T = 2;
    const frame = T * 30;
    const rendered = join(SHOTS, "rendered-2s.png");
    await exec("ffmpeg", ["-y", "-v", "error", "-i", mp4, "-vf", `select=eq(n\\,${frame})`, "-frames:v", "1", rendered]);
    const endCard = join(SHOTS, "rendered-end-card.png");
    await exec("ffmpeg", ["-y", "-v", "error", "-i", mp4, "-vf", "select=eq(n\\,170)", "-frames:v", "1", endCard]);

    // The form still holds what the job was made with; show frame 60 in the Player.
    await page.getByLabel("Preview position (seconds)").fill(String(T));
    await expect(page.locator("#preview-time-value").textContent()).resolves.toBe(`${T.toFixed(1)} s`);
    await page.waitForTimeout(500);
    const shot = join(SHOTS, "player-2s.png");
    await page.locator("#preview-player").screenshot({ path: shot });

    const whole = await ssim(shot, rendered);
    // The band of the frame the title and subtitle sit in (above the layout's bottom margin).
    const band = { y: 0.55, h: 0.25 };
    const titleBand = await ssim(shot, rendered, band);
    const againstEndCard = await ssim(shot, endCard);

    await page.getByLabel("Title", { exact: true }).fill("Another title entirely");
    await expect.poll(() => playerText(page)).toContain("Another title entirely");
    await page.getByLabel("Preview position (seconds)").fill(String(T));
    await page.waitForTimeout(500);
    const otherShot = join(SHOTS, "player-2s-other-title.png");
    await page.locator("#preview-player").screenshot({ path: otherShot });
    const otherTitleBand = await ssim(otherShot, rendered, band);
    console.info(`[studio] SSIM player vs render at ${T}s: frame ${whole.toFixed(4)} (min ${SSIM_FRAME_MIN}), title band ${titleBand.toFixed(4)} (min ${SSIM_TITLE_MIN}); controls: vs end card ${againstEndCard.toFixed(4)}, other title's band ${otherTitleBand.toFixed(4)}`);

    expect(whole).toBeGreaterThanOrEqual(SSIM_FRAME_MIN);
    expect(titleBand).toBeGreaterThanOrEqual(SSIM_TITLE_MIN);
    // The metric tells frames apart: the end card, and another title, score below the bars.
    expect(againstEndCard).toBeLessThan(SSIM_FRAME_MIN);
    expect(otherTitleBand).toBeLessThan(SSIM_TITLE_MIN);
  });

  it("signs out: the token is forgotten and the list asks to sign in again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.locator("#account-status").textContent()).resolves.toBe("Not signed in");
    await expect(page.locator("#history-status").textContent()).resolves.toBe("Sign in to see your videos.");
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    // And a reload does not sign in again behind the person's back.
    const before = authorizeRequests.length;
    await page.reload();
    await page.locator("body[data-ready=true]").waitFor();
    await expect(page.locator("#account-status").textContent()).resolves.toBe("Not signed in");
    expect(authorizeRequests.length).toBe(before);
  });

  it("fetched nothing from outside this machine (the provider's own login page aside)", () => {
    expect(outside.filter((o) => o.startsWith(stack.url))).toEqual([]);
  });

  it("threw no errors in the pages", () => {
    expect(consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([]);
  });
});
