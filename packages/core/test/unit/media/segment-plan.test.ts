import { describe, expect, it } from "vitest";
import { mediaPlaylist, planClips, planHlsBoundaries } from "../../../src/adapters/ffmpeg/segmenter";

const frame = 1 / 24;
const every = (step: number, duration: number) => Array.from({ length: Math.ceil(duration / step) }, (_, i) => i * step);

describe("planHlsBoundaries", () => {
  it("cuts on keyframes as close to the target as they allow", () => {
    expect(planHlsBoundaries(every(2, 10), 10, 4, frame)).toEqual([0, 4, 8, 10]);
    expect(planHlsBoundaries(every(2, 10), 10, 2, frame)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(planHlsBoundaries(every(1, 9), 9, 3, frame)).toEqual([0, 3, 6, 9]);
  });

  it("gives up (so the caller re-encodes) when keyframes are too sparse or missing at the start", () => {
    expect(planHlsBoundaries([0], 10, 4, frame)).toBeUndefined();
    expect(planHlsBoundaries([0, 5], 10, 4, frame)).toBeUndefined();
    expect(planHlsBoundaries([0.5, 2.5, 4.5], 6, 4, frame)).toBeUndefined();
  });

  it("keeps a short video in one segment", () => {
    expect(planHlsBoundaries([0], 3, 4, frame)).toEqual([0, 3]);
  });
});

describe("planClips", () => {
  const info = { durationSeconds: 60, keyframeTimes: every(2, 60), videoCodec: "h264" };

  it("copies fixed-length clips, moving each cut onto a nearby keyframe", () => {
    const clips = planClips({ lengthSeconds: 15 }, info, frame);
    expect(clips.map((c) => [c.startSeconds, c.endSeconds])).toEqual([
      [0, 14],
      [14, 30],
      [30, 44],
      [44, 60],
    ]);
    expect(clips.every((c) => c.mode === "copy")).toBe(true);
  });

  it("re-encodes only clips whose ends are not on keyframes", () => {
    const clips = planClips({ cutPoints: [10.3, 25, 40] }, info, frame);
    expect(clips).toEqual([
      { startSeconds: 0, endSeconds: 10, mode: "copy" },
      { startSeconds: 10, endSeconds: 25, mode: "reencode" },
      { startSeconds: 25, endSeconds: 40, mode: "reencode" },
      { startSeconds: 40, endSeconds: 60, mode: "copy" },
    ]);
  });

  it("ignores cut points outside the video and duplicates, and folds a sliver into the last clip", () => {
    expect(planClips({ cutPoints: [-1, 0, 30, 30, 75] }, info, frame).map((c) => [c.startSeconds, c.endSeconds])).toEqual([
      [0, 30],
      [30, 60],
    ]);
    const short = { durationSeconds: 10.2, keyframeTimes: every(2, 10), videoCodec: "h264" };
    expect(planClips({ lengthSeconds: 5, snapToleranceSeconds: 0 }, short, frame).map((c) => [c.startSeconds, c.endSeconds])).toEqual([
      [0, 5],
      [5, 10.2],
    ]);
  });

  it("re-encodes everything when the codec cannot be copied", () => {
    expect(planClips({ lengthSeconds: 30 }, { ...info, videoCodec: "mpeg4" }, frame).every((c) => c.mode === "reencode")).toBe(true);
  });
});

describe("mediaPlaylist", () => {
  it("writes an HLS VOD media playlist", () => {
    expect(mediaPlaylist([{ file: "segment-000.ts", duration: 4 }, { file: "segment-001.ts", duration: 2.5 }], 4)).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:4",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXTINF:4.000000,",
        "segment-000.ts",
        "#EXTINF:2.500000,",
        "segment-001.ts",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
  });
});
