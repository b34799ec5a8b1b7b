import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config";
import { musicOptions } from "../../src/music";
import { jobSteps } from "../../src/steps";

const states = (s: ReturnType<typeof jobSteps>) => s.map((x) => `${x.id}:${x.state}`);

describe("jobSteps", () => {
  it("marks the step in progress from the status", () => {
    expect(states(jobSteps({ status: "uploaded", timeline: [] }))).toEqual(["upload:done", "base:current", "render:pending", "package:pending"]);
    expect(states(jobSteps({ status: "rendering", timeline: [] }))).toEqual(["upload:done", "base:done", "render:current", "package:pending"]);
    expect(states(jobSteps({ status: "completed", timeline: [] }))).toEqual(["upload:done", "base:done", "render:done", "package:done"]);
  });

  it("says the photo is being animated while it is generating, and not before", () => {
    const base = (job: Parameters<typeof jobSteps>[0]) => jobSteps(job).find((s) => s.id === "base")!;
    expect(base({ status: "uploaded", timeline: [] })).toEqual({ id: "base", label: "Animate the photo", state: "current" });
    expect(base({ status: "generating", timeline: [] })).toEqual({ id: "base", label: "Animating the photo", state: "current" });
    expect(states(jobSteps({ status: "generating", timeline: [] }))).toEqual(["upload:done", "base:current", "render:pending", "package:pending"]);
    // A status API older than the status: the event on the timeline says the same.
    const timeline = [{ type: "VideoBaseStarted", time: "2026-01-01T00:00:00Z", summary: "" }];
    expect(base({ status: "uploaded", timeline }).label).toBe("Animating the photo");
    expect(base({ status: "generated", timeline })).toEqual({ id: "base", label: "Photo animated", state: "done" });
  });

  it("labels the later steps in progress only once they are under way", () => {
    const labels = (status: Parameters<typeof jobSteps>[0]["status"]) => jobSteps({ status, timeline: [] }).map((s) => s.label);
    expect(labels("generated")).toEqual(["Photo uploaded", "Photo animated", "Render the branded video", "Prepare streaming, clips and poster"]);
    expect(labels("rendering")).toEqual(["Photo uploaded", "Photo animated", "Rendering the branded video", "Prepare streaming, clips and poster"]);
    expect(labels("rendered")).toEqual(["Photo uploaded", "Photo animated", "Branded video rendered", "Preparing streaming, clips and poster"]);
  });

  it("marks the step that failed, keeping what finished before it", () => {
    const timeline = [{ type: "VideoBaseReady", time: "2026-01-01T00:00:00Z", summary: "" }];
    expect(states(jobSteps({ status: "failed", timeline, failure: { code: "RenderError", message: "x", type: "RenderFailed" } }))).toEqual([
      "upload:done",
      "base:done",
      "render:failed",
      "package:pending",
    ]);
    expect(states(jobSteps({ status: "failed", timeline: [], failure: { code: "InvalidImage", message: "x" } }))).toEqual(["upload:done", "base:failed", "render:pending", "package:pending"]);
    // A generation that started and then failed is the animation step's failure, under its plain label.
    const started = [{ type: "VideoBaseStarted", time: "2026-01-01T00:00:00Z", summary: "" }];
    expect(jobSteps({ status: "failed", timeline: started, failure: { code: "GenerationFailed", message: "x", type: "VideoBaseFailed" } })[1]).toEqual({
      id: "base",
      label: "Animate the photo",
      state: "failed",
    });
  });
});

describe("resolveConfig", () => {
  it("prefers /config.json, then the build's values, then /api; strips trailing slashes", () => {
    expect(resolveConfig({ apiBase: "http://127.0.0.1:5173/api/" }, {})).toEqual({ uploadApi: "http://127.0.0.1:5173/api", statusApi: "http://127.0.0.1:5173/api" });
    expect(resolveConfig(undefined, { VITE_UPLOAD_API: "https://u.lambda-url.us-east-1.on.aws/", VITE_STATUS_API: "https://s.lambda-url.us-east-1.on.aws/" })).toEqual({
      uploadApi: "https://u.lambda-url.us-east-1.on.aws",
      statusApi: "https://s.lambda-url.us-east-1.on.aws",
    });
    expect(resolveConfig("<!doctype html>", {})).toEqual({ uploadApi: "/api", statusApi: "/api" });
    // The jobs API (re-render, cancel) has its own Function URL when deployed; locally it shares the base.
    expect(resolveConfig(undefined, { VITE_STATUS_API: "https://s.example/", VITE_JOBS_API: "https://j.example/" })).toMatchObject({ statusApi: "https://s.example", jobsApi: "https://j.example" });
  });

  it("ignores deploy-time placeholders that were never replaced", () => {
    expect(resolveConfig({}, { VITE_UPLOAD_API: "{{ VITE_UPLOAD_API }}", VITE_API_BASE: "/x" }).uploadApi).toBe("/x");
  });
});

describe("musicOptions", () => {
  it("lists the project's catalog with the default first", () => {
    const opts = musicOptions();
    expect(opts.length).toBeGreaterThan(0);
    expect(opts[0]).toEqual({ id: "sunrise", title: "Sunrise" });
  });

  it("falls back gracefully when the catalog's shape changes", () => {
    expect(musicOptions({ MUSIC_IDS: ["a", "b"] })).toEqual([{ id: "a", title: "a" }, { id: "b", title: "b" }]);
    expect(musicOptions({})).toEqual([{ id: "sunrise", title: "Sunrise" }]);
  });
});
