import { describe, expect, it } from "vitest";
import {
  EmptyFileError,
  FfmpegError,
  ImageTooLargeError,
  InvalidImageError,
  MediaError,
  UnsupportedFormatError,
  tailOf,
} from "../../../src/media/errors";

describe("media errors", () => {
  it("carry a stable code, a name and are permanent by default", () => {
    const cause = new Error("libvips said no");
    const cases = [
      [new InvalidImageError("bad", { cause }), "InvalidImage", "InvalidImageError"],
      [new UnsupportedFormatError("gif"), "UnsupportedFormat", "UnsupportedFormatError"],
      [new ImageTooLargeError(30000, 30000, 50_000_000), "ImageTooLarge", "ImageTooLargeError"],
      [new EmptyFileError(), "EmptyFile", "EmptyFileError"],
      [new FfmpegError("ffmpeg exited with 1"), "FfmpegFailed", "FfmpegError"],
    ] as const;
    for (const [error, code, name] of cases) {
      expect(error).toBeInstanceOf(MediaError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(error.retryable).toBe(false);
    }
    expect(cases[0][0].cause).toBe(cause);
    expect(new UnsupportedFormatError("gif").message).toContain("gif");
  });

  it("FfmpegError keeps the end of stderr, at most 20 lines and 2 KB", () => {
    const stderr = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
    const error = new FfmpegError("ffmpeg exited with 1", { stderrTail: tailOf(stderr), exitCode: 1, retryable: true });
    expect(error.stderrTail.split("\n")).toHaveLength(20);
    expect(error.stderrTail.endsWith("line 99")).toBe(true);
    expect(error.message).toContain("line 99");
    expect(error.retryable).toBe(true);
    expect(Buffer.byteLength(tailOf("é".repeat(5000)), "utf8")).toBeLessThanOrEqual(2048);
  });
});
