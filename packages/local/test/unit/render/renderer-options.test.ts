import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hashRemotionProject } from "../../../src/render/bundle-cache";
import { GOP_SIZE, fixedKeyframes } from "../../../src/render/renderer";

describe("keyframes for the segmenter", () => {
  it("pins x264 to one keyframe every 2 seconds, with no extra scene-cut keyframes", () => {
    expect(GOP_SIZE).toBe(60);
    const args = ["-r", "30", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "60", "-crf", "18", "-y", "out.mp4"];
    expect(fixedKeyframes({ type: "pre-stitcher", args })).toEqual([
      "-r", "30", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-crf", "18", "-y", "out.mp4",
    ]);
  });

  it("leaves the muxing step (stream copy, no -g) alone", () => {
    const args = ["-i", "video.mp4", "-i", "audio.aac", "-c:a", "copy", "-c:v", "copy", "-y", "out.mp4"];
    expect(fixedKeyframes({ type: "stitcher", args })).toEqual(args);
  });
});

describe("bundle cache key", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("changes when a source or public file changes, and only then", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "reelbridge-hash-"));
    const root = path.join(dir, "remotion");
    await cp(path.resolve(import.meta.dirname, "../../../../../remotion/src"), path.join(root, "src"), { recursive: true });
    await cp(path.resolve(import.meta.dirname, "../../../../../remotion/public/music"), path.join(root, "public/music"), { recursive: true });
    await writeFile(path.join(root, "package.json"), '{"dependencies":{"remotion":"4.0.527"}}');
    const a = await hashRemotionProject(root);
    expect(await hashRemotionProject(root)).toBe(a);
    await writeFile(path.join(root, "src/extra.ts"), "export {};\n");
    const b = await hashRemotionProject(root);
    expect(b).not.toBe(a);
    await writeFile(path.join(root, "public/music/new.m4a"), "x");
    expect(await hashRemotionProject(root)).not.toBe(b);
  });
});
