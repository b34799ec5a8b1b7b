import sharp, { type Sharp } from "sharp";
import { describe, expect, it } from "vitest";
import { craftedPng } from "../../support/png";
import { EmptyFileError, ImageTooLargeError, InvalidImageError, UnsupportedFormatError } from "../../../src/media/errors";
import { normalizeImage, sniffImageFormat, targetResolution } from "../../../src/media/image";

const RED = { r: 255, g: 0, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };

/** A noisy photo-like image, so JPEG compression leaves real entropy-coded data to truncate. */
async function noisyImage(width: number, height: number) {
  const raw = Buffer.alloc(width * height * 3);
  let seed = 42;
  for (let i = 0; i < raw.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = seed >> 23;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

function solid(width: number, height: number, background: { r: number; g: number; b: number; alpha?: number }) {
  return sharp({ create: { width, height, channels: background.alpha === undefined ? 3 : 4, background } });
}

/** The pixel at (x, y) of a decoded image. */
async function pixelAt(bytes: Uint8Array, x: number, y: number) {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return { r: data[at]!, g: data[at + 1]!, b: data[at + 2]! };
}

/** A valid 1-bit grayscale PNG of the given size, all black: huge in pixels, tiny in bytes. */
const decompressionBombPng = (width: number, height: number) => craftedPng(width, height, { bitDepth: 1, colorType: 0, fill: 0, level: 9 });

function near(actual: { r: number; g: number; b: number }, expected: { r: number; g: number; b: number }, tolerance = 40) {
  return Math.abs(actual.r - expected.r) <= tolerance && Math.abs(actual.g - expected.g) <= tolerance && Math.abs(actual.b - expected.b) <= tolerance;
}



describe("targetResolution", () => {
  it("maps an aspect to LTX's resolution string and pixel size", () => {
    expect(targetResolution("9:16")).toEqual({ width: 1080, height: 1920, resolution: "1080x1920" });
    expect(targetResolution("16:9")).toEqual({ width: 1920, height: 1080, resolution: "1920x1080" });
  });
});

describe("normalizeImage", () => {
  it.each([
    ["jpeg", (s: Sharp) => s.jpeg()],
    ["png", (s: Sharp) => s.png()],
    ["webp", (s: Sharp) => s.webp()],
  ] as const)("turns a %s photo into an upright 1080×1920 sRGB JPEG without metadata", async (format, encode) => {
    const input = await encode((await noisyImage(800, 600)).withExif({ IFD0: { Copyright: "someone", Make: "PhoneCo" } })).toBuffer();
    const out = await normalizeImage(input, { aspect: "9:16" });

    expect(out).toMatchObject({ contentType: "image/jpeg", width: 1080, height: 1920, sourceFormat: format, sourceWidth: 800, sourceHeight: 600 });
    const meta = await sharp(out.bytes).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 1080, height: 1920, space: "srgb" });
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(Buffer.from(out.bytes).includes("PhoneCo")).toBe(false);
  });

  it("honours the 16:9 aspect and an explicit target", async () => {
    const input = await (await noisyImage(640, 640)).png().toBuffer();
    expect(await normalizeImage(input, { aspect: "16:9" })).toMatchObject({ width: 1920, height: 1080 });
    expect(await normalizeImage(input, { aspect: "9:16", target: { width: 270, height: 480 } })).toMatchObject({ width: 270, height: 480 });
  });

  it("believes the bytes, not the name: a PNG is a PNG whatever it was uploaded as", async () => {
    const png = await solid(64, 64, BLUE).png().toBuffer();
    expect((await normalizeImage(png, { aspect: "9:16" })).sourceFormat).toBe("png");
  });

  it("puts transparent areas on white, not black", async () => {
    const png = await solid(64, 64, { r: 0, g: 0, b: 0, alpha: 0 }).png().toBuffer();
    const out = await normalizeImage(png, { aspect: "9:16", target: { width: 64, height: 64 } });
    expect(near(await pixelAt(out.bytes, 32, 32), { r: 255, g: 255, b: 255 }, 5)).toBe(true);
  });

  it("turns a photo with EXIF orientation 6 upright", async () => {
    // Stored landscape 300×200 with a red marker top-left; orientation 6 means "rotate 90° clockwise
    // to display", so the viewer sees a 200×300 portrait with the marker top-right.
    const stored = await solid(300, 200, BLUE)
      .composite([{ input: await solid(60, 60, RED).png().toBuffer(), left: 0, top: 0 }])
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    expect((await sharp(stored).metadata()).orientation).toBe(6);

    const out = await normalizeImage(stored, { aspect: "9:16", target: { width: 200, height: 300 }, position: "centre" });
    expect(out).toMatchObject({ width: 200, height: 300, sourceWidth: 200, sourceHeight: 300, orientation: 6 });
    expect((await sharp(out.bytes).metadata()).orientation).toBeUndefined();
    expect(near(await pixelAt(out.bytes, 190, 10), RED)).toBe(true);
    expect(near(await pixelAt(out.bytes, 10, 10), BLUE)).toBe(true);
    expect(near(await pixelAt(out.bytes, 190, 290), BLUE)).toBe(true);
  });

  it("refuses 0 bytes as EmptyFile", async () => {
    await expect(normalizeImage(new Uint8Array(0), { aspect: "9:16" })).rejects.toBeInstanceOf(EmptyFileError);
  });

  it("refuses a text file as InvalidImage", async () => {
    const text = new TextEncoder().encode("hello, this is definitely not a photo\n");
    const error = await normalizeImage(text, { aspect: "9:16" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: "InvalidImage", retryable: false });
  });

  it("refuses a truncated JPEG as InvalidImage", async () => {
    const jpeg = await (await noisyImage(400, 300)).jpeg().toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    await expect(normalizeImage(truncated, { aspect: "9:16" })).rejects.toBeInstanceOf(InvalidImageError);
  });

  it("refuses a JPEG signature followed by garbage as InvalidImage", async () => {
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from("not really a jpeg".repeat(20))]);
    await expect(normalizeImage(garbage, { aspect: "9:16" })).rejects.toBeInstanceOf(InvalidImageError);
  });

  it.each([
    ["svg", Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')],
    ["gif", null],
    ["tiff", null],
    ["avif", null],
  ] as const)("refuses %s as UnsupportedFormat naming the format", async (format, fixed) => {
    const bytes =
      fixed ??
      (format === "gif"
        ? await solid(16, 16, RED).gif().toBuffer()
        : format === "tiff"
          ? await solid(16, 16, RED).tiff().toBuffer()
          : await solid(16, 16, RED).avif().toBuffer());
    const error = await normalizeImage(bytes, { aspect: "9:16" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFormatError);
    expect(error).toMatchObject({ code: "UnsupportedFormat", detectedFormat: format });
    expect((error as Error).message).toContain(format);
  });

  it("refuses a 30000×30000 PNG of a few KB as ImageTooLarge, quickly and without decoding it", async () => {
    const bomb = decompressionBombPng(30_000, 30_000);
    expect(bomb.length).toBeLessThan(200_000);
    expect(sniffImageFormat(bomb)).toBe("png");

    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const error = await normalizeImage(bomb, { aspect: "9:16" }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;

    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error).toMatchObject({ code: "ImageTooLarge", width: 30_000, height: 30_000, maxInputPixels: 50_000_000 });
    // Header-only: milliseconds (decoding 900 megapixels would take many seconds). Loose for busy CI.
    expect(elapsed).toBeLessThan(1500);
    // Decoding would need 900 MB for the pixels alone.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it("applies a caller's lower pixel budget", async () => {
    const jpeg = await solid(1000, 1000, BLUE).jpeg().toBuffer();
    await expect(normalizeImage(jpeg, { aspect: "9:16", maxInputPixels: 999_999 })).rejects.toBeInstanceOf(ImageTooLargeError);
  });
});
