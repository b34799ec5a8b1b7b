import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobViewSchema, quoteResponseSchema, uploadResponseSchema } from "@reelbridge/events/http";
import type { JobView } from "@reelbridge/events/http";
import { ROOT, startStack } from "./support/stack";
import type { RunningStack } from "./support/stack";

/**
 * The studio's job controls (issue #14 items 2-4), in the system's headless Chromium on a phone
 * screen against `reelbridge dev` (an open stage: no sign-in; studio.test.ts covers sign-in):
 *  - the price is shown before "Create video" (POST /quotes) and follows the length; it is the
 *    quote the upload then gets;
 *  - a finished job is re-rendered with a new title from the same animated clip (one
 *    generation: the job's timeline and cost), version 2 is listed and played;
 *  - a job is cancelled while it renders (a 20 s clip at full size: slow enough), after the page
 *    showed the render's live progress, and shows as cancelled.
 * Phone screenshots are kept in test-results/studio-jobs/ (ignored by git).
 */

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"];
const SHOTS = join(ROOT, "test-results", "studio-jobs");
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } as const;

let stack: RunningStack;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const apiCalls: Array<{ path: string; method: string; status: number; body?: string; answer?: unknown }> = [];

async function photo(): Promise<Buffer> {
  type Sharp = (input: Buffer) => { resize(o: { width: number; height: number; fit: "cover" }): { jpeg(o: { quality: number }): { toBuffer(): Promise<Buffer> } } };
  const sharp = createRequire(join(ROOT, "packages/core/package.json"))("sharp") as Sharp;
  return sharp(await readFile(join(ROOT, "assets/sample/photo.jpg"))).resize({ width: 720, height: 1280, fit: "cover" }).jpeg({ quality: 90 }).toBuffer();
}

const job = async (jobId: string): Promise<JobView> => jobViewSchema.parse(await (await fetch(`${stack.url}api/jobs/${jobId}`)).json());

/** Waits until the job section's data-status is one of `statuses`, failing with the stack's output after `ms`. */
async function waitForStatus(statuses: string[], ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const status = (await page.locator("#job").getAttribute("data-status")) ?? "";
    if (statuses.includes(status)) return status;
    if (status === "failed") throw new Error(`job failed: ${await page.locator("#job-failure").textContent()}\n${stack.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`job still ${status} after ${ms / 1000} s\n${stack.output().slice(-3000)}`);
    await page.waitForTimeout(500);
  }
}

/** The new-video form (the re-render form under a finished job has a Title and an Aspect too). */
const newVideo = () => page.getByRole("form", { name: "New video" });

async function fillJob(title: string, seconds: number) {
  const f = newVideo();
  await f.getByLabel("Photo", { exact: true }).setInputFiles({ name: "harbour.jpg", mimeType: "image/jpeg", buffer: await photo() });
  await page.locator("#preview-box:not([hidden])").waitFor();
  await f.getByLabel("Title", { exact: true }).fill(title);
  await f.getByLabel("Camera prompt (optional)").fill("static, locked-off camera");
  await f.getByLabel("Length (seconds)").fill(String(seconds));
  await f.getByLabel("Portrait 9:16").check();
}

async function createJob(): Promise<string> {
  const before = apiCalls.filter((c) => c.path === "/api/uploads").length;
  await page.getByRole("button", { name: "Create video" }).click();
  await expect.poll(() => apiCalls.filter((c) => c.path === "/api/uploads").length, { timeout: 30_000 }).toBe(before + 1);
  await expect.poll(async () => page.locator("#job").getAttribute("data-job-id"), { timeout: 60_000 }).toBe(uploadResponseSchema.parse(apiCalls.filter((c) => c.path === "/api/uploads").at(-1)!.answer).jobId);
  return (await page.locator("#job").getAttribute("data-job-id"))!;
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  [stack, browser] = await Promise.all([startStack(), chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS })]);
  const ctx = await browser.newContext(PHONE);
  page = await ctx.newPage();
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
  page.on("response", async (res) => {
    const u = new URL(res.url());
    if (!u.pathname.startsWith("/api/") || u.origin !== new URL(stack.url).origin || res.request().method() === "OPTIONS") return;
    const answer = u.pathname.endsWith(".m3u8") ? undefined : await res.json().catch(() => undefined);
    apiCalls.push({ path: u.pathname, method: res.request().method(), status: res.status(), ...(res.request().postData() ? { body: res.request().postData()! } : {}), answer });
  });
  await page.goto(stack.url);
  await page.locator("body[data-ready=true]").waitFor();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe("studio job controls in Chromium (390×844) against reelbridge dev", () => {
  let first: string;

  it("shows the price before Create video, follows the length, and it is the quote the upload gets", async () => {
    await fillJob("Harbour at dawn", 4);
    await expect.poll(() => page.locator("#quote-text").textContent(), { timeout: 15_000 }).toMatch(/^Estimated price: \$[0-9.]+ \(animation of 4 s \$0\.00\)\.$/);
    const quoted = apiCalls.filter((c) => c.path === "/api/quotes").at(-1)!;
    expect(quoted.status).toBe(200);
    expect(JSON.parse(quoted.body!)).toMatchObject({ aspect: "9:16", durationSeconds: 4 });
    const price = quoteResponseSchema.parse(quoted.answer);
    expect(price.budget.fits).toBe(true);
    await expect(page.locator("#quote-refusal").isHidden()).resolves.toBe(true);

    await newVideo().getByLabel("Length (seconds)").fill("9");
    await expect.poll(() => page.locator("#quote-text").textContent()).toContain("animation of 9 s");
    await newVideo().getByLabel("Length (seconds)").fill("4");
    await expect.poll(() => page.locator("#quote-text").textContent()).toContain("animation of 4 s");
    // Nothing was created by asking the price.
    expect(apiCalls.filter((c) => c.path === "/api/uploads")).toEqual([]);
    await page.locator("#quote").screenshot({ path: join(SHOTS, "phone-quote.png") });

    first = await createJob();
    const upload = uploadResponseSchema.parse(apiCalls.find((c) => c.path === "/api/uploads")!.answer);
    expect(upload.quote).toEqual(quoteResponseSchema.parse(apiCalls.filter((c) => c.path === "/api/quotes").at(-1)!.answer).quote);
  });

  it("re-renders the finished job with a new title from the same animated clip; version 2 is listed and played", async () => {
    await waitForStatus(["completed"], 420_000);
    // The past-videos list shows the job and its end without anyone pressing Refresh (at upload
    // the status API did not know it yet).
    await expect.poll(() => page.locator("#history li .job-meta.completed").count(), { timeout: 30_000 }).toBe(1);
    await expect(page.locator("#history-status").textContent()).resolves.toBe("");
    // What it cost once it finished.
    await expect(page.locator("#job-cost").textContent()).resolves.toMatch(/^Cost: \$/);
    const form = page.getByRole("form", { name: "Edit and re-render" });
    await form.waitFor();
    expect(await form.getByLabel("Title of the new version", { exact: true }).inputValue()).toBe("Harbour at dawn");
    await expect(form.getByLabel("Portrait").isChecked()).resolves.toBe(true);
    // The re-render's price says the animation is not paid again.
    await expect.poll(() => page.locator("#rerender-quote").textContent(), { timeout: 15_000 }).toMatch(/^Estimated price: \$[0-9.]+ \(the animation is reused, not paid again\)\.$/);
    const q = apiCalls.filter((c) => c.path === "/api/quotes").at(-1)!;
    expect(JSON.parse(q.body!)).toMatchObject({ generation: "reused", durationSeconds: 4 });
    expect(quoteResponseSchema.parse(q.answer).quote.lines.map((l) => l.item)).not.toContain("ltx-generation");

    // By keyboard: the title field, then Enter submits the form.
    await form.getByLabel("Title of the new version", { exact: true }).fill("Harbour at noon");
    await form.getByLabel("Title of the new version", { exact: true }).press("Enter");
    await expect.poll(() => apiCalls.filter((c) => c.path === `/api/jobs/${first}/renders`).map((c) => c.status), { timeout: 30_000 }).toEqual([202]);
    await expect.poll(() => page.locator("#job-action-status").textContent()).toMatch(/^Version 2 is being rendered from the same animated clip/);
    await page.locator('#versions li[data-version="2"]').waitFor({ timeout: 30_000 });
    await page.locator('#versions li[data-version="2"][data-status="completed"]').waitFor({ timeout: 420_000 });
    await expect(page.locator('#versions li[data-version="2"]').textContent()).resolves.toContain("“Harbour at noon”");
    await expect(page.locator('#versions li[data-version="1"]').textContent()).resolves.toContain("“Harbour at dawn”");

    await page.getByRole("button", { name: "Play version 2" }).click();
    await expect.poll(() => page.locator("#player").getAttribute("data-version")).toBe("2");
    await page.waitForFunction(() => (document.getElementById("player") as HTMLVideoElement).currentTime > 0.2, undefined, { timeout: 20_000 });
    const src = await page.locator("#player").evaluate((v: HTMLVideoElement) => v.currentSrc);
    expect(new URL(src).pathname).toContain(`/jobs/${first}/v2/`);

    // One generation: the base clip was made once and reused.
    const view = await job(first);
    expect(view.timeline.filter((t) => t.type === "VideoBaseStarted")).toHaveLength(1);
    expect(view.timeline.filter((t) => t.type === "VideoBaseReady")).toHaveLength(1);
    expect(view.cost!.lines.filter((l) => l.item === "ltx-generation")).toHaveLength(1);
    expect(view.versions!.map((v) => [v.version, v.status, v.title])).toEqual([
      [1, "completed", "Harbour at dawn"],
      [2, "completed", "Harbour at noon"],
    ]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, "phone-versions.png"), fullPage: true });
  }, 900_000);

  it("shows the render's live progress and cancels the job mid-render; it shows as cancelled", async () => {
    // A 20 s clip at full size renders for long enough to be cancelled in the middle.
    await page.getByRole("heading", { name: "New video" }).scrollIntoViewIfNeeded();
    await fillJob("Cancelled at sea", 20);
    const second = await createJob();
    expect(second).not.toBe(first);
    await waitForStatus(["rendering"], 420_000);
    const cancel = page.getByRole("button", { name: "Cancel this video" });
    await cancel.waitFor();
    // The render step shows how far it is and the time left, from the status API's progress.
    const bar = page.locator('[data-progress-for="render"] progress');
    await bar.waitFor({ timeout: 60_000 });
    await expect(bar.getAttribute("aria-label")).resolves.toBe("Render progress");
    await expect.poll(async () => Number(await page.locator('[data-progress-for="render"]').getAttribute("data-fraction")), { timeout: 60_000 }).toBeGreaterThan(0);
    // Once the fraction means something (2%), the time left is estimated from it.
    await expect.poll(() => page.locator('[data-progress-for="render"] .step-progress-text').textContent(), { timeout: 60_000 }).toMatch(/^\d+%, (about \d+ (s|min) left|almost done)$/);
    const midway = (await job(second)).progress?.render;
    expect(midway).toMatchObject({ version: 1 });
    expect(midway!.fraction).toBeLessThan(1);
    await page.screenshot({ path: join(SHOTS, "phone-rendering.png"), fullPage: true });

    await cancel.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => apiCalls.filter((c) => c.path === `/api/jobs/${second}/cancel`).map((c) => c.status), { timeout: 30_000 }).toEqual([200]);
    await expect.poll(() => page.locator("#job-action-status").textContent()).toBe("This video was cancelled. Nothing more will be paid for it.");
    await waitForStatus(["cancelled"], 60_000);
    await expect(page.locator("#job-status").textContent()).resolves.toBe("Status: Cancelled.");
    await expect(cancel.isHidden()).resolves.toBe(true);
    const view = await job(second);
    expect(view.status).toBe("cancelled");
    expect(view.progress).toBeUndefined();
    expect(view.outputs.video).toBeUndefined();
    await page.screenshot({ path: join(SHOTS, "phone-cancelled.png"), fullPage: true });
  }, 900_000);

  it("threw no errors in the page", () => {
    expect(consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of 404/.test(e))).toEqual([]);
  });
});
