/**
 * Typed media errors. `code` is stable: it reaches the `*Failed` event and the user.
 * `retryable` is decided here, once: a bad image never gets better by retrying; a killed or
 * starved FFmpeg might.
 */
export type MediaErrorCode =
  | "InvalidImage"
  | "UnsupportedFormat"
  | "ImageTooLarge"
  | "EmptyFile"
  | "InvalidMediaRequest"
  | "FfmpegFailed"
  | "ToolNotFound";

export interface MediaErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  readonly retryable: boolean;

  constructor(code: MediaErrorCode, message: string, options: MediaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MediaError";
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Not decodable as an image: text, garbage, a truncated file. */
export class InvalidImageError extends MediaError {
  constructor(message: string, options: MediaErrorOptions = {}) {
    super("InvalidImage", message, options);
    this.name = "InvalidImageError";
  }
}

/** A real image, but not one of JPEG, PNG, WebP. */
export class UnsupportedFormatError extends MediaError {
  readonly detectedFormat: string;
  constructor(detectedFormat: string, options: MediaErrorOptions = {}) {
    super("UnsupportedFormat", `Unsupported image format "${detectedFormat}": use JPEG, PNG or WebP`, options);
    this.name = "UnsupportedFormatError";
    this.detectedFormat = detectedFormat;
  }
}

export class ImageTooLargeError extends MediaError {
  readonly width: number;
  readonly height: number;
  readonly maxInputPixels: number;
  constructor(width: number, height: number, maxInputPixels: number, options: MediaErrorOptions = {}) {
    super(
      "ImageTooLarge",
      `Image is ${width}×${height} (${(width * height).toLocaleString("en")} pixels); the limit is ${maxInputPixels.toLocaleString("en")} pixels`,
      options,
    );
    this.name = "ImageTooLargeError";
    this.width = width;
    this.height = height;
    this.maxInputPixels = maxInputPixels;
  }
}

/**
 * A real image, but so elongated that no video frame can show it (a strip, a banner, or a
 * decompression bomb shaped to pass the pixel budget). Reported as InvalidImage: the public
 * reason codes have no closer one.
 */
export class ImageAspectRatioError extends InvalidImageError {
  readonly width: number;
  readonly height: number;
  readonly maxAspectRatio: number;
  constructor(width: number, height: number, maxAspectRatio: number, options: MediaErrorOptions = {}) {
    const ratio = Math.max(width, height) / Math.min(width, height);
    super(
      `Image is ${width}×${height} (${width >= height ? `${formatRatio(ratio)}:1` : `1:${formatRatio(ratio)}`}); the longer side may be at most ${maxAspectRatio} times the shorter, since a 16:9 or 9:16 video frame would show only a sliver of it. Crop it closer to the frame's shape`,
      options,
    );
    this.name = "ImageAspectRatioError";
    this.width = width;
    this.height = height;
    this.maxAspectRatio = maxAspectRatio;
  }
}

const formatRatio = (r: number) => (r >= 100 ? String(Math.round(r)) : r.toFixed(1).replace(/\.0$/, ""));

export class EmptyFileError extends MediaError {
  constructor(options: MediaErrorOptions = {}) {
    super("EmptyFile", "The uploaded file is empty (0 bytes)", options);
    this.name = "EmptyFileError";
  }
}

/** A request our media code cannot honour (odd dimensions, zero duration…). Permanent. */
export class InvalidMediaRequestError extends MediaError {
  constructor(message: string, options: MediaErrorOptions = {}) {
    super("InvalidMediaRequest", message, options);
    this.name = "InvalidMediaRequestError";
  }
}

export interface FfmpegErrorOptions extends MediaErrorOptions {
  stderrTail?: string;
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  /** The arguments FFmpeg ran with, for logs (no secrets go into FFmpeg's arguments). */
  args?: readonly string[];
}

export class FfmpegError extends MediaError {
  /** The last ~20 lines (at most 2 KB) of FFmpeg's stderr. */
  readonly stderrTail: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly args: readonly string[];

  constructor(message: string, options: FfmpegErrorOptions = {}) {
    const tail = options.stderrTail ?? "";
    super("FfmpegFailed", tail ? `${message}: ${lastLine(tail)}` : message, options);
    this.name = "FfmpegError";
    this.stderrTail = tail;
    this.exitCode = options.exitCode ?? null;
    this.signal = options.signal ?? null;
    this.args = options.args ?? [];
  }
}

/**
 * A binary the step needs (FFmpeg, ffprobe) is not where it was looked for: a fault of the
 * machine, not of the user's input. Retryable, so the job waits in its queue for a fixed
 * machine instead of failing; deliberately not an FfmpegError, whose callers wrap it into a
 * "generation failed" message that would hide what is missing.
 */
export class ToolNotFoundError extends MediaError {
  /** "ffmpeg", "ffprobe". */
  readonly binary: string;
  /** What was spawned: an absolute path, or a bare name looked up on PATH. */
  readonly path: string;
  /** Where it was looked for: the path itself, or each PATH directory. */
  readonly lookedIn: readonly string[];
  /** The environment variable that chose `path`, when one did (e.g. FFMPEG_PATH). */
  readonly envVar: string | undefined;

  constructor(binary: string, path: string, options: MediaErrorOptions & { lookedIn?: readonly string[]; envVar?: string } = {}) {
    const lookedIn = options.lookedIn ?? [path];
    const where = path.includes("/")
      ? `"${path}" does not exist or is not executable${options.envVar ? ` (from ${options.envVar})` : ""}`
      : `"${path}" is not on PATH (looked in ${lookedIn.length ? lookedIn.join(", ") : "an empty PATH"})`;
    const fix = options.envVar ? `install ${binary} or point ${options.envVar} at it` : `install ${binary}`;
    super("ToolNotFound", `${binary} not found: ${where}; ${fix}`, { ...options, retryable: options.retryable ?? true });
    this.name = "ToolNotFoundError";
    this.binary = binary;
    this.path = path;
    this.lookedIn = lookedIn;
    this.envVar = options.envVar;
  }
}

export function isMediaError(error: unknown): error is MediaError {
  return error instanceof MediaError;
}

/** The end of a process's stderr: at most `maxLines` lines and `maxBytes` UTF-8 bytes. */
export function tailOf(text: string, maxLines = 20, maxBytes = 2048): string {
  const lines = text.replace(/\s+$/, "").split(/\r?\n/);
  let tail = lines.slice(-maxLines).join("\n");
  const bytes = Buffer.from(tail, "utf8");
  if (bytes.length > maxBytes) {
    // Cut on a character boundary: decoding a slice may start mid-character; drop the U+FFFD.
    tail = bytes.subarray(bytes.length - maxBytes).toString("utf8").replace(/^\uFFFD+/, "");
  }
  return tail;
}

function lastLine(text: string): string {
  const lines = text.trim().split(/\r?\n/);
  return lines[lines.length - 1]?.trim() ?? "";
}
