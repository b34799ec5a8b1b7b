import { craftedPng } from "../../support/png";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { permanentReason } from "../../../src/errors";
import { ImageAspectRatioError, ImageTooLargeError, InvalidImageError } from "../../../src/media/errors";
import type { MediaError } from "../../../src/media/errors";
import { MAX_ASPECT_RATIO, normalizeImage } from "../../../src/media/image";

/**
 * Issue #11, item 1: the normaliser's time and memory are bounded by what it produces, not by
 * the input's shape. Each case is an adversarial image generated here; each asserts what the
 * user sees (refused with a specific reason, or normalised to the frame) and, for the shapes
 * that used to blow up, that it happens quickly and without gigabytes.
 *
 * `bench/image-adversarial.ts` measures the same shapes in child processes (peak RSS, time).
 */

const MiB = 1024 * 1024;



/** Runs the normaliser and reports how long it took and how much the process grew meanwhile. */
async function measured(input: Uint8Array, opts: Parameters<typeof normalizeImage>[1]) {
  const rss = process.memoryUsage().rss;
  let peak = rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  try {
    const out = await normalizeImage(input, opts).catch((e: unknown) => e);
    return { out, ms: performance.now() - started, grownMiB: (Math.max(peak, process.memoryUsage().rss) - rss) / MiB };
  } finally {
    clearInterval(sampler);
  }
}

function photoLike(width: number, height: number) {
  // A gradient with a disc, tiled: enough structure for JPEG to be a real JPEG.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g"><stop offset="0" stop-color="#234"/><stop offset="1" stop-color="#c84"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 3}" fill="#e0a030"/></svg>`;
  return sharp(Buffer.from(svg));
}

describe("normalizeImage against adversarial shapes", () => {
  it.each([
    ["a 100×500,000 strip (exactly the 50 Mpx budget)", 100, 500_000, "1:5000"],
    ["a 500,000×100 strip (exactly the 50 Mpx budget)", 500_000, 100, "5000:1"],
    ["a 1×4,000 sliver", 1, 4000, "1:4000"],
    ["a 1,000×50,000 strip", 1000, 50_000, "1:50"],
  ])("refuses %s from its header, in milliseconds, as a permanent InvalidImage naming its shape", async (_what, width, height, ratio) => {
    const png = craftedPng(width, height);
    expect(png.length).toBeLessThan(1.5 * MiB);
    const { out, ms, grownMiB } = await measured(png, { aspect: "9:16" });

    expect(out).toBeInstanceOf(ImageAspectRatioError);
    expect(out).toMatchObject({ code: "InvalidImage", retryable: false, width, height, maxAspectRatio: MAX_ASPECT_RATIO });
    expect((out as Error).message).toContain(ratio);
    // What the *Failed event and the user get.
    expect(permanentReason(out)).toMatchObject({ code: "InvalidImage", retryable: false, message: expect.stringContaining("Crop it") });
    // Before: 99 s and 5.8 GB for the first one. Loose bounds for a busy CI machine.
    expect(ms).toBeLessThan(1500);
    expect(grownMiB).toBeLessThan(100);
  });

  it("accepts exactly the maximum aspect ratio and refuses one pixel more", async () => {
    const atBound = await normalizeImage(craftedPng(600, 100), { aspect: "9:16" });
    expect(atBound).toMatchObject({ width: 1080, height: 1920, sourceWidth: 600, sourceHeight: 100 });
    await expect(normalizeImage(craftedPng(601, 100), { aspect: "9:16" })).rejects.toBeInstanceOf(ImageAspectRatioError);
    await expect(normalizeImage(craftedPng(100, 601), { aspect: "16:9" })).rejects.toBeInstanceOf(ImageAspectRatioError);
  });

  it.each([
    ["the widest shape allowed at the pixel budget, into a portrait frame (the old worst case)", 17_316, 2886, "9:16"],
    ["the tallest shape allowed at the pixel budget, into a landscape frame", 2886, 17_316, "16:9"],
    ["a square at the pixel budget", 7071, 7071, "9:16"],
  ] as const)("normalises %s within bounds", async (_what, width, height, aspect) => {
    const { out, ms, grownMiB } = await measured(craftedPng(width, height), { aspect });
    expect(out).toMatchObject({ width: aspect === "9:16" ? 1080 : 1920, height: aspect === "9:16" ? 1920 : 1080, sourceWidth: width, sourceHeight: height });
    // Measured by bench/image-adversarial.ts at about a second; the bounds leave room for CI.
    expect(ms).toBeLessThan(15_000);
    expect(grownMiB).toBeLessThan(400);
  });

  it("upscales a tiny image without a huge intermediate", async () => {
    const { out, ms } = await measured(craftedPng(6, 1), { aspect: "9:16" });
    expect(out).toMatchObject({ width: 1080, height: 1920 });
    expect(ms).toBeLessThan(2000);
  });

  it("refuses a PNG whose header claims 1,000,000×1,000,000 as ImageTooLarge without decoding it", async () => {
    const { out, ms, grownMiB } = await measured(craftedPng(1_000_000, 1_000_000, { rows: 1 }), { aspect: "9:16" });
    expect(out).toBeInstanceOf(ImageTooLargeError);
    expect(out).toMatchObject({ code: "ImageTooLarge", width: 1_000_000, height: 1_000_000 });
    expect(ms).toBeLessThan(1500);
    expect(grownMiB).toBeLessThan(100);
  });

  it("refuses a PNG header that claims more rows than the file holds as InvalidImage", async () => {
    const { out } = await measured(craftedPng(7000, 7000, { rows: 10 }), { aspect: "9:16" });
    expect(out).toBeInstanceOf(InvalidImageError);
    expect(out).not.toBeInstanceOf(ImageAspectRatioError);
    expect((out as MediaError).retryable).toBe(false);
  });

  it("refuses a PNG header with a zero dimension as InvalidImage", async () => {
    const out = await normalizeImage(craftedPng(0, 100), { aspect: "9:16" }).catch((e: unknown) => e);
    expect(out).toBeInstanceOf(InvalidImageError);
  });

  it("normalises a 16-bit RGBA PNG to an 8-bit sRGB JPEG", async () => {
    const png = craftedPng(2000, 1500, { bitDepth: 16, colorType: 6 });
    expect((await sharp(png).metadata()).depth).toBe("ushort");
    const out = await normalizeImage(png, { aspect: "16:9" });
    const meta = await sharp(out.bytes).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 1920, height: 1080, space: "srgb", depth: "uchar", channels: 3 });
  });

  it("normalises a progressive JPEG", async () => {
    const jpeg = await photoLike(4000, 3000).jpeg({ progressive: true, quality: 85 }).toBuffer();
    expect((await sharp(jpeg).metadata()).isProgressive).toBe(true);
    const { out, ms } = await measured(jpeg, { aspect: "9:16" });
    expect(out).toMatchObject({ width: 1080, height: 1920, sourceFormat: "jpeg" });
    expect(ms).toBeLessThan(10_000);
  });

  it("normalises a CMYK JPEG to sRGB", async () => {
    const cmyk = await photoLike(1200, 900).toColourspace("cmyk").jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe("cmyk");
    const out = await normalizeImage(cmyk, { aspect: "16:9" });
    expect(await sharp(out.bytes).metadata()).toMatchObject({ space: "srgb", channels: 3, width: 1920, height: 1080 });
  });

  it("keeps the salient part of a wide photo (the attention crop is chosen on a thumbnail, cut from the source)", async () => {
    // A 3000×1000 grey photo with a red square near the right edge: a 9:16 frame keeps 19 % of
    // its width, and attention must put the square in it.
    const red = await sharp({ create: { width: 220, height: 220, channels: 3, background: { r: 230, g: 20, b: 20 } } }).png().toBuffer();
    const wide = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: { r: 120, g: 120, b: 120 } } })
      .composite([{ input: red, left: 2600, top: 400 }])
      .png()
      .toBuffer();
    const out = await normalizeImage(wide, { aspect: "9:16", target: { width: 270, height: 480 } });
    const { data, info } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
    let reds = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i]! > 180 && data[i + 1]! < 80) reds++;
    // The frame is the source at 0.48×: the square is ~106×106 px there, all of it in the frame.
    expect(reds).toBeGreaterThan(0.9 * 106 * 106);
    // Centre would have missed it entirely.
    const centred = await normalizeImage(wide, { aspect: "9:16", target: { width: 270, height: 480 }, position: "centre" });
    const c = await sharp(centred.bytes).raw().toBuffer({ resolveWithObject: true });
    let centredReds = 0;
    for (let i = 0; i < c.data.length; i += c.info.channels) if (c.data[i]! > 180 && c.data[i + 1]! < 80) centredReds++;
    expect(centredReds).toBe(0);
  });

  it("refuses a target larger than any frame as a caller's error", async () => {
    await expect(normalizeImage(craftedPng(100, 100), { aspect: "9:16", target: { width: 20_000, height: 20_000 } })).rejects.toMatchObject({ code: "InvalidMediaRequest" });
  });
});
