import { describe, expect, it } from "vitest";
import { jobParamsSchema, TEXT_LIMITS } from "@reelbridge/events";
import { SUBTITLE_MAX_GRAPHEMES, TITLE_MAX_GRAPHEMES, renderInputPropsSchema } from "@reelbridge/remotion/props";

// A job the upload API accepts must be renderable: otherwise it fails at the render step, after
// the generation was paid for.
describe("text limits", () => {
  it("the job contract and the composition agree on title and subtitle length", () => {
    expect(TEXT_LIMITS.title).toBe(TITLE_MAX_GRAPHEMES);
    expect(TEXT_LIMITS.subtitle).toBe(SUBTITLE_MAX_GRAPHEMES);
  });

  it("counts emoji families and accented letters as one character, like the composition", () => {
    const family = "👩‍👩‍👧‍👦";
    const title = family.repeat(TEXT_LIMITS.title);
    const job = { jobId: "01JD7X8Q2RZ4V6N3K5M9P1T0AB", title, subtitle: "", cameraPrompt: "", music: "sunrise", aspect: "9:16", durationSeconds: 6, owner: "a", createdAt: "2026-11-20T10:00:00.000Z" };
    expect(jobParamsSchema.safeParse(job).success).toBe(true);
    expect(jobParamsSchema.safeParse({ ...job, title: title + family }).success).toBe(false);
    expect(renderInputPropsSchema.shape.title.safeParse(title).success).toBe(true);
  });
});
