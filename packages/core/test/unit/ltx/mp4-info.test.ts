import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Mp4ParseError, readMp4Info } from "../../../src/adapters/ltx/mp4-info";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

describe("readMp4Info", () => {
  it("reads size, duration and frame rate of a faststart H.264 clip", () => {
    const bytes = fixture("base-1080x1920-24fps-2s.mp4");
    expect(readMp4Info(bytes)).toEqual({
      durationSeconds: 2,
      width: 1080,
      height: 1920,
      fps: 24,
      frameCount: 48,
      videoCodec: "avc1",
      sizeBytes: bytes.byteLength,
    });
  });

  it("finds the moov box at the end of the file and reports the audio track", () => {
    const info = readMp4Info(fixture("small-160x90-25fps-audio-moov-at-end.mp4"));
    expect(info).toMatchObject({ width: 160, height: 90, fps: 25, frameCount: 25, durationSeconds: 1, videoCodec: "avc1", audioCodec: "mp4a" });
  });

  it("refuses what is not a complete MP4", () => {
    const bytes = fixture("small-160x90-25fps-audio-moov-at-end.mp4");
    expect(() => readMp4Info(new Uint8Array(0))).toThrow(Mp4ParseError);
    expect(() => readMp4Info(new TextEncoder().encode("<html>this is an error page, not a video</html>"))).toThrow(/no ftyp/);
    // Truncated download: the moov at the end is cut off.
    expect(() => readMp4Info(bytes.subarray(0, bytes.byteLength - 500))).toThrow(Mp4ParseError);
  });
});
