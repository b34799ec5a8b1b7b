import { describe, expect, it } from "vitest";
import { coverSize } from "../../../src/render/base-clip";

describe("the size a base clip is shrunk to for a scaled-down render", () => {
  it("is the frame's size when the clip has the frame's shape", () => {
    expect(coverSize({ width: 1080, height: 1920 }, { width: 270, height: 480 })).toEqual({ width: 270, height: 480 });
    expect(coverSize({ width: 1920, height: 1080 }, { width: 576, height: 324 })).toEqual({ width: 576, height: 324 });
  });

  it("still covers the frame when the clip has another shape (object-fit: cover crops the same part)", () => {
    // A landscape clip in a portrait frame: the height decides, the width keeps the clip's shape.
    const size = coverSize({ width: 1920, height: 1080 }, { width: 270, height: 480 })!;
    expect(size).toEqual({ width: 854, height: 480 });
    expect(size.width).toBeGreaterThanOrEqual(270);
    expect(Math.abs(size.width / size.height - 1920 / 1080)).toBeLessThan(0.01);
  });

  it("rounds to even sizes (H.264 in yuv420p) without going below the frame", () => {
    const size = coverSize({ width: 1080, height: 1920 }, { width: 325, height: 577 })!;
    expect(size.width % 2).toBe(0);
    expect(size.height % 2).toBe(0);
    expect(size.width).toBeGreaterThanOrEqual(325);
    expect(size.height).toBeGreaterThanOrEqual(577);
  });

  it("leaves a clip alone that is not larger than the frame", () => {
    expect(coverSize({ width: 270, height: 480 }, { width: 270, height: 480 })).toBeNull();
    expect(coverSize({ width: 270, height: 480 }, { width: 540, height: 960 })).toBeNull();
  });
});
