import sharp, { type Metadata, type OutputInfo } from "sharp";
import {
  EmptyFileError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidMediaRequestError,
  MediaError,
  UnsupportedFormatError,
} from "./errors";

export type Aspect = "9:16" | "16:9";
export type SourceFormat = "jpeg" | "png" | "webp";
export type LtxResolution = "1080x1920" | "1920x1080";

export const DEFAULT_MAX_INPUT_PIXELS = 50_000_000;
export const NORMALIZED_JPEG_QUALITY = 90;

export interface NormalizeImageOptions {
  aspect: Aspect;
  /** Width × height above which the image is refused before any pixel is decoded. */
  maxInputPixels?: number;
  /** Output size; defaults to the aspect's LTX resolution (1080×1920 or 1920×1080). */
  target?: { width: number; height: number };
  /**
   * Which part of the photo survives the crop to the target aspect: "attention" keeps the
   * most salient region (skin, saturation, edges), "centre" the middle. Default "attention".
   */
  position?: "attention" | "centre";
}

export interface NormalizedImage {
  /** JPEG, quality 90, sRGB, upright, no metadata (EXIF, GPS, XMP, ICC all stripped). */
  bytes: Uint8Array;
  contentType: "image/jpeg";
  width: number;
  height: number;
  sourceFormat: SourceFormat;
  /** Source dimensions as the viewer sees them, i.e. after EXIF orientation. */
  sourceWidth: number;
  sourceHeight: number;
  /** EXIF orientation of the source (1–8), when it had one. */
  orientation?: number;
}

export function targetResolution(aspect: Aspect): { width: number; height: number; resolution: LtxResolution } {
  return aspect === "9:16"
    ? { width: 1080, height: 1920, resolution: "1080x1920" }
    : { width: 1920, height: 1080, resolution: "1920x1080" };
}

/**
 * What the bytes really are, from their signature: the file name and the declared content type
 * are the uploader's claims, not facts. Returns undefined when no known signature matches.
 */
export function sniffImageFormat(bytes: Uint8Array): string | undefined {
  const b = bytes;
  const ascii = (start: number, end: number) => Buffer.from(b.subarray(start, end)).toString("latin1");
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 8 && ascii(0, 8) === "\x89PNG\r\n\x1a\n") return "png";
  if (b.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (b.length >= 6 && (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a")) return "gif";
  if (b.length >= 4 && (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*")) return "tiff";
  if (b.length >= 12 && ascii(4, 8) === "ftyp") {
    const brand = ascii(8, 12);
    if (brand === "avif" || brand === "avis") return "avif";
    if (["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].includes(brand)) return "heif";
    return `iso-bmff (${brand.trim()})`;
  }
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0x0a) return "jxl";
  if (b.length >= 12 && ascii(4, 8) === "JXL ") return "jxl";
  if (b.length >= 12 && ascii(4, 8) === "jP  ") return "jp2";
  if (b.length >= 2 && ascii(0, 2) === "BM") return "bmp";
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0) return "ico";
  if (b.length >= 5 && ascii(0, 5) === "%PDF-") return "pdf";
  if (b.length >= 4 && ascii(0, 4) === "8BPS") return "psd";
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  // SVG is text: look for an <svg element near the start, after an optional BOM, XML prolog,
  // comments or doctype.
  const head = ascii(0, Math.min(b.length, 4096)).replace(/^\uFEFF|^\xEF\xBB\xBF/, "");
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i.test(head)) return "svg";
  return undefined;
}

const ACCEPTED = new Set<string>(["jpeg", "png", "webp"]);

/**
 * Validates an uploaded photo and turns it into the JPEG the video model gets: upright, sRGB,
 * metadata stripped, cropped ("cover") to the target size.
 *
 * The pixel budget is checked from the header before decoding, so a decompression bomb (a
 * 30000×30000 PNG of a few KB) is refused in milliseconds without allocating gigabytes.
 */
export async function normalizeImage(input: Uint8Array, opts: NormalizeImageOptions): Promise<NormalizedImage> {
  const maxInputPixels = opts.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const target = opts.target ?? targetResolution(opts.aspect);
  if (!isPositiveInt(target.width) || !isPositiveInt(target.height)) {
    throw new InvalidMediaRequestError(`Target size must be positive integers, got ${target.width}×${target.height}`);
  }
  if (!isPositiveInt(maxInputPixels)) {
    throw new InvalidMediaRequestError(`maxInputPixels must be a positive integer, got ${maxInputPixels}`);
  }
  if (input.byteLength === 0) throw new EmptyFileError();

  const sniffed = sniffImageFormat(input);
  if (sniffed !== undefined && !ACCEPTED.has(sniffed)) throw new UnsupportedFormatError(sniffed);
  if (sniffed === undefined) {
    throw new InvalidImageError("The file is not an image (no JPEG, PNG or WebP signature)");
  }

  // Header only: sharp reads dimensions without decoding pixels. Trust nothing it doesn't say.
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new InvalidImageError(`The ${sniffed.toUpperCase()} file cannot be read: ${messageOf(cause)}`, { cause });
  }
  if (meta.format !== sniffed) {
    // Signature and decoder disagree (e.g. a JPEG header glued onto something else).
    if (!ACCEPTED.has(meta.format)) throw new UnsupportedFormatError(meta.format);
    throw new InvalidImageError(`The file looks like ${sniffed} but decodes as ${meta.format}`);
  }
  const { width, height } = meta;
  if (!isPositiveInt(width) || !isPositiveInt(height)) {
    throw new InvalidImageError(`The ${sniffed.toUpperCase()} file has no valid dimensions`);
  }
  if (width * height > maxInputPixels) throw new ImageTooLargeError(width, height, maxInputPixels);

  const oriented = meta.autoOrient ?? { width, height };
  let output: { data: Buffer; info: OutputInfo };
  try {
    output = await sharp(input, {
      // Second line of defence: libvips refuses to decode past the limit even if the header lied.
      limitInputPixels: maxInputPixels,
      // "error" rejects truncated and corrupt data but tolerates the harmless warnings many
      // phone JPEGs trigger (extraneous bytes before a marker…).
      failOn: "error",
      autoOrient: true,
      // Animated WebP: the first frame is the photo.
      pages: 1,
    })
      .resize(target.width, target.height, {
        fit: "cover",
        position: opts.position === "centre" ? "centre" : sharp.strategy.attention,
      })
      // JPEG has no alpha: put transparent regions on white instead of letting them go black.
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb")
      .jpeg({ quality: NORMALIZED_JPEG_QUALITY, chromaSubsampling: "4:2:0", mozjpeg: false })
      // No keepMetadata/withMetadata: sharp writes no EXIF, XMP, IPTC or ICC by default.
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    if (cause instanceof MediaError) throw cause;
    if (/pixel limit/i.test(messageOf(cause))) throw new ImageTooLargeError(width, height, maxInputPixels, { cause });
    throw new InvalidImageError(`The ${sniffed.toUpperCase()} file is damaged or truncated: ${messageOf(cause)}`, { cause });
  }

  return {
    bytes: new Uint8Array(output.data.buffer, output.data.byteOffset, output.data.byteLength),
    contentType: "image/jpeg",
    width: output.info.width,
    height: output.info.height,
    sourceFormat: sniffed as SourceFormat,
    sourceWidth: oriented.width,
    sourceHeight: oriented.height,
    ...(meta.orientation !== undefined ? { orientation: meta.orientation } : {}),
  };
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n > 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
