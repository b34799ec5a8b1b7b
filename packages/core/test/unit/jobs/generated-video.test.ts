import { describe, expect, it } from "vitest";
import { slugify, videoFilename } from "../../../src/jobs";

describe("videoFilename", () => {
  it.each([
    ["Lisbon at golden hour", "lisbon-at-golden-hour"],
    ["Café à Paris — été 2026", "cafe-a-paris-ete-2026"],
    ["Straße in Łódź, Ærø", "strasse-in-lodz-aero"],
    ["東京の夜", "video"],
    ["🎉🎉", "video"],
    ["مرحبا بالعالم", "video"],
    ["../../etc/passwd", "etc-passwd"],
    ["  Ｆｕｌｌｗｉｄｔｈ  ", "fullwidth"],
    ["a".repeat(59) + " bcd", "a".repeat(59)],
  ])("%s → %s", (title, slug) => {
    expect(slugify(title)).toBe(slug);
    expect(videoFilename(title, "01JD7X8Q2RZ4V6N3K5M9P1T0AB")).toBe(`${slug}-01JD7X8Q2RZ4V6N3K5M9P1T0AB.mp4`);
  });
});
