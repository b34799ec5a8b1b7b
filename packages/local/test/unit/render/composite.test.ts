// The composite's plan (which overlays are captured, how often each is written) and its FFmpeg
// graph (decision 0016). The rendered result is compared with Remotion's own render in
// test/integration/render/render-tuning.test.ts.
import { describe, expect, it } from "vitest";
import { reelFrame } from "@reelbridge/remotion/timeline";
import { FPS, durationInFrames } from "@reelbridge/remotion/props";
import { compositeArgs, compositeGraph, overlayRuns } from "../../../src/render/composite";

describe("overlay runs", () => {
  it("cover every frame of a 6 s job once, in order, capturing about 70 of its 240 overlays", () => {
    const total = durationInFrames(6);
    const runs = overlayRuns(total, FPS, 6);
    expect(total).toBe(240);
    let next = 0;
    for (const run of runs) {
      expect(run.frame).toBe(next);
      expect(run.frames).toBeGreaterThan(0);
      next += run.frames;
    }
    expect(next).toBe(total);
    expect(runs.length).toBeGreaterThan(40);
    expect(runs.length).toBeLessThan(90);
  });

  it("group only frames that draw the same, and start a run wherever anything moves", () => {
    const runs = overlayRuns(durationInFrames(6), FPS, 6);
    const state = (f: number) => JSON.stringify(reelFrame(f, FPS, 6));
    for (const { frame, frames } of runs) {
      for (let f = frame + 1; f < frame + frames; f++) expect(state(f)).toBe(state(frame));
      if (frame > 0) expect(state(frame)).not.toBe(state(frame - 1));
    }
    // The titles come in (frames 4–30), stand, go out over the clip's last frames (173–179);
    // the end card fades and pops in from frame 180: each of those frames is its own capture.
    const starts = new Set(runs.map((r) => r.frame));
    for (const f of [5, 20, 173, 179, 180, 185, 200]) expect(starts.has(f)).toBe(true);
    expect(runs.find((r) => r.frame <= 100 && r.frame + r.frames > 100)!.frames).toBeGreaterThan(100);
  });
});

describe("composite graph", () => {
  const spec = { baseClip: "/clips/base.mp4", width: 1080, height: 1920, fps: 30, baseFrames: 180, totalFrames: 240, encoder: { preset: "veryfast", crf: 18, gopSize: 60 } };

  it("covers the frame with the clip (object-fit cover), holds its last frame, cuts it at the end card and puts black under the rest", () => {
    const graph = compositeGraph(spec);
    expect(graph).toContain("scale=1080:1920:force_original_aspect_ratio=increase");
    expect(graph).toContain("crop=1080:1920");
    expect(graph).toContain("tpad=stop_mode=clone:stop=-1,trim=end_frame=180");
    expect(graph).toContain("color=c=black:s=1080x1920:r=30,trim=end_frame=60");
    expect(graph).toContain("concat=n=2");
    // Full range, as Remotion's renders are.
    expect(graph).toMatch(/overlay=0:0[^;]*,format=yuvj420p\[v\]$/);
  });

  it("has no background segment when the clip fills the whole composition", () => {
    const graph = compositeGraph({ ...spec, baseFrames: 240 });
    expect(graph).not.toContain("color=");
    expect(graph).not.toContain("concat");
  });

  it("encodes with the render's x264 settings and a keyframe exactly every gopSize frames", () => {
    const args = compositeArgs(spec, "/out/video.mp4");
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    expect(at("-preset")).toBe("veryfast");
    expect(at("-crf")).toBe("18");
    expect(at("-g")).toBe("60");
    expect(at("-keyint_min")).toBe("60");
    expect(at("-sc_threshold")).toBe("0");
    expect(at("-frames:v")).toBe("240");
    expect(args.at(-1)).toBe("/out/video.mp4");
    expect(compositeArgs({ ...spec, encoder: { ...spec.encoder, preset: null } }, "/o.mp4")).not.toContain("-preset");
  });
});
