import sharp, { type Metadata, type OutputInfo, type Sharp } from "sharp";
import {
  EmptyFileError,
  ImageAspectRatioError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidMediaRequestError,
  MediaError,
  UnsupportedFormatError,
} from "./errors";

export type { Aspect, LtxResolution } from "./resolution";
import { targetResolution } from "./resolution";
import type { Aspect } from "./resolution";
export type SourceFormat = "jpeg" | "png" | "webp";

export const DEFAULT_MAX_INPUT_PIXELS = 50_000_000;
export const NORMALIZED_JPEG_QUALITY = 90;

/**
 * The most elongated photo accepted: the longer side at most 6 times the shorter.
 *
 * Why 6: the video frame is 16:9 or 9:16 (1.78), so a cover crop of a 6:1 photo already keeps
 * only 30 % of it in a frame of the same orientation and 9 % in the other. Every camera shape
 * (4:3, 3:2, 16:9, 1:1), tall phone screenshots (~2.2:1) and most phone panoramas (3:1–6:1)
 * pass; what is beyond is strips, banners and bombs shaped to pass the pixel budget (100×500,000
 * is exactly 50 Mpx). It also bounds the work: see `normalizeImage`.
 */
export const MAX_ASPECT_RATIO = 6;
/** A target side above this is a caller's mistake (LTX takes 1920 at most). */
export const MAX_TARGET_SIDE = 4096;
/**
 * libvips stops working on an image after this long. The normaliser's work is bounded (see
 * `normalizeImage`); a 50 Mpx PNG takes ~1–2 s on a Lambda core, so reaching this means the file
 * is pathological, and retrying it would only burn another receive.
 */
export const NORMALIZE_TIMEOUT_SECONDS = 30;
/**
 * Above this many frames' worth of pixels in the cover-resized image, the attention crop is
 * chosen on a thumbnail of ANALYSIS_LONG_SIDE instead of on that image.
 */
const ATTENTION_AT_FULL_SIZE_MAX = 4;
const ANALYSIS_LONG_SIDE = 512;

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
  /** Longer side ÷ shorter side above which the image is refused; default MAX_ASPECT_RATIO. */
  maxAspectRatio?: number;
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

export { targetResolution };

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
 * The work is bounded by the input budget and by what is produced, never by the input's shape:
 * - the pixel budget is checked from the header before decoding, so a decompression bomb (a
 *   30000×30000 PNG of a few KB) is refused in milliseconds without allocating gigabytes;
 * - so is the aspect ratio (MAX_ASPECT_RATIO). A cover resize scales the *short* side to the
 *   frame, so before this check a 100×500,000 strip became a 1080×5,400,000 intermediate (5.8 GB);
 * - libvips' attention crop holds the whole cover-resized image, up to MAX_ASPECT_RATIO × 1920²
 *   pixels: past 4 frames' worth (elongated photos) the crop is chosen on a thumbnail instead
 *   (JPEG and WebP decode it with shrink-on-load) and the frame is cut out of the lazily resized
 *   image, so only its pixels are computed;
 * - decoding is sequential (rows streamed, not the whole image held), and libvips gives up after
 *   NORMALIZE_TIMEOUT_SECONDS.
 * Every refusal is a permanent MediaError (the job ends failed with its reason).
 */
export async function normalizeImage(input: Uint8Array, opts: NormalizeImageOptions): Promise<NormalizedImage> {
  const maxInputPixels = opts.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const maxAspectRatio = opts.maxAspectRatio ?? MAX_ASPECT_RATIO;
  const target = opts.target ?? targetResolution(opts.aspect);
  if (!isPositiveInt(target.width) || !isPositiveInt(target.height)) {
    throw new InvalidMediaRequestError(`Target size must be positive integers, got ${target.width}×${target.height}`);
  }
  if (target.width > MAX_TARGET_SIDE || target.height > MAX_TARGET_SIDE) {
    throw new InvalidMediaRequestError(`Target size must be at most ${MAX_TARGET_SIDE} pixels a side, got ${target.width}×${target.height}`);
  }
  if (!isPositiveInt(maxInputPixels)) {
    throw new InvalidMediaRequestError(`maxInputPixels must be a positive integer, got ${maxInputPixels}`);
  }
  if (!(maxAspectRatio >= 1)) throw new InvalidMediaRequestError(`maxAspectRatio must be at least 1, got ${maxAspectRatio}`);
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
  if (Math.max(width, height) > maxAspectRatio * Math.min(width, height)) throw new ImageAspectRatioError(width, height, maxAspectRatio);

  const oriented = meta.autoOrient ?? { width, height };
  const decode = () =>
    sharp(input, {
      // Second line of defence: libvips refuses to decode past the limit even if the header lied.
      limitInputPixels: maxInputPixels,
      // "error" rejects truncated and corrupt data but tolerates the harmless warnings many
      // phone JPEGs trigger (extraneous bytes before a marker…).
      failOn: "error",
      // Coordinates below (the crop region) are the upright image's.
      autoOrient: true,
      // Animated WebP: the first frame is the photo.
      pages: 1,
      // Rows are streamed through the pipeline, not the whole decoded image held.
      sequentialRead: true,
    }).timeout({ seconds: NORMALIZE_TIMEOUT_SECONDS });

  let output: { data: Buffer; info: OutputInfo };
  try {
    const position = opts.position ?? "attention";
    const cover = coverSize(oriented, target);
    let framed: Sharp;
    if (position === "attention" && cover.width * cover.height > ATTENTION_AT_FULL_SIZE_MAX * target.width * target.height) {
      // libvips' attention crop holds the whole cover-resized image: fine for photo shapes
      // (a 16:9 photo into a 9:16 frame is 3.2 frames), not for a 6:1 panorama (11 frames).
      // Choose on a thumbnail, then resize and cut the frame out: libvips computes pixels on
      // demand, so only the frame's are resized, and JPEG/WebP still shrink on load.
      const crop = await attentionCrop(decode, oriented, target, cover);
      framed = decode()
        .resize(cover.width, cover.height, { fit: "fill" })
        .extract({ left: crop.left, top: crop.top, width: target.width, height: target.height });
    } else {
      framed = decode().resize(target.width, target.height, { fit: "cover", position: position === "centre" ? "centre" : sharp.strategy.attention });
    }
    output = await framed
      // JPEG has no alpha: put transparent regions on white instead of letting them go black.
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb")
      .jpeg({ quality: NORMALIZED_JPEG_QUALITY, chromaSubsampling: "4:2:0", mozjpeg: false })
      // No keepMetadata/withMetadata: sharp writes no EXIF, XMP, IPTC or ICC by default.
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    if (cause instanceof MediaError) throw cause;
    const message = messageOf(cause);
    if (/pixel limit/i.test(message)) throw new ImageTooLargeError(width, height, maxInputPixels, { cause });
    if (/timeout/i.test(message)) {
      throw new InvalidImageError(`The ${sniffed.toUpperCase()} file took longer than ${NORMALIZE_TIMEOUT_SECONDS} s to decode`, { cause });
    }
    throw new InvalidImageError(`The ${sniffed.toUpperCase()} file is damaged or truncated: ${message}`, { cause });
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

/** The size a cover resize gives the source: its short side (relative to the frame) fits. */
function coverSize(source: { width: number; height: number }, target: { width: number; height: number }) {
  const scale = Math.max(target.width / source.width, target.height / source.height);
  return { scale, width: Math.max(target.width, Math.round(source.width * scale)), height: Math.max(target.height, Math.round(source.height * scale)) };
}

/**
 * Where libvips' attention strategy would cut the frame out of the cover-resized image, decided
 * on a thumbnail (long side ANALYSIS_LONG_SIDE) instead of the full-size cover image.
 */
async function attentionCrop(
  decode: () => Sharp,
  source: { width: number; height: number },
  target: { width: number; height: number },
  cover: { scale: number; width: number; height: number },
): Promise<{ left: number; top: number }> {
  const k = Math.min(1, ANALYSIS_LONG_SIDE / Math.max(target.width, target.height));
  const aw = Math.max(1, Math.round(target.width * k));
  const ah = Math.max(1, Math.round(target.height * k));
  const { info } = await decode().resize(aw, ah, { fit: "cover", position: sharp.strategy.attention }).raw().toBuffer({ resolveWithObject: true });
  // sharp reports where it cut the thumbnail's frame, as negative offsets into the thumbnail.
  const toFull = cover.scale / Math.max(aw / source.width, ah / source.height);
  return {
    left: clampInt(Math.abs(info.cropOffsetLeft ?? 0) * toFull, 0, cover.width - target.width),
    top: clampInt(Math.abs(info.cropOffsetTop ?? 0) * toFull, 0, cover.height - target.height),
  };
}

const clampInt = (n: number, min: number, max: number) => Math.min(max, Math.max(min, Math.round(n)));

function isPositiveInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n > 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
