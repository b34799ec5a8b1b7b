import { describe, expect, it } from "vitest";
import {
  COMPOSITIONS,
  DIMENSIONS,
  FPS,
  TITLE_MAX_GRAPHEMES,
  compositionIdFor,
  durationInFrames,
  graphemeLength,
  renderInputPropsSchema,
} from "../../src/props";

const valid = {
  title: "Golden hour over the harbour",
  subtitle: "A still photo, brought to life",
  aspect: "9:16",
  baseVideoUrl: "https://media.example.com/jobs/01J/base.mp4?X-Amz-Signature=abc",
  baseVideoDurationSeconds: 5,
  musicId: "sunrise",
};

const parse = (over: Record<string, unknown>) => renderInputPropsSchema.safeParse({ ...valid, ...over });

describe("render input props", () => {
  it("accepts a complete job", () => {
    expect(parse({ logoUrl: "https://cdn.example.com/logo.png", endCardText: "Book now", musicVolume: 0.4 }).success).toBe(true);
  });

  it("rejects an aspect without a composition", () => {
    for (const aspect of ["1:1", "4:5", "16:10", "", undefined]) expect(parse({ aspect }).success).toBe(false);
  });

  it.each([
    ["Chinese", "东京湾的黄昏，金色的光洒在海面上"],
    ["Japanese", "港の夕暮れ、金色の光"],
    ["Korean", "항구의 황금빛 노을"],
    ["Arabic", "غروب الشمس الذهبي فوق الميناء"],
    ["Hebrew", "שקיעה זהובה מעל הנמל"],
    ["emoji", "Sunset 🌅 with the family 👨‍👩‍👧‍👦 🇯🇵"],
    ["mixed RTL and LTR", "Welcome to تل أبيب 2025"],
  ])("accepts %s titles", (_, title) => {
    const r = parse({ title, subtitle: title });
    expect(r.success).toBe(true);
  });

  it("counts characters as people see them: 100 family emoji fit, 101 do not", () => {
    const family = "👨‍👩‍👧‍👦";
    expect(graphemeLength(family)).toBe(1);
    expect(parse({ title: family.repeat(TITLE_MAX_GRAPHEMES) }).success).toBe(true);
    expect(parse({ title: family.repeat(TITLE_MAX_GRAPHEMES + 1) }).success).toBe(false);
    expect(parse({ title: "あ".repeat(TITLE_MAX_GRAPHEMES + 1) }).success).toBe(false);
  });

  it("bounds the texts: no empty title, no overlong subtitle or end card", () => {
    expect(parse({ title: "" }).success).toBe(false);
    expect(parse({ title: "   " }).success).toBe(false);
    expect(parse({ subtitle: "x".repeat(161) }).success).toBe(false);
    expect(parse({ endCardText: "x".repeat(61) }).success).toBe(false);
  });

  it("trims texts and refuses control characters and line breaks", () => {
    const r = parse({ title: "  Harbour  " });
    expect(r.success && r.data.title).toBe("Harbour");
    expect(parse({ title: "two\nlines" }).success).toBe(false);
    expect(parse({ title: "bell\u0007" }).success).toBe(false);
  });

  it("takes media only from http(s) URLs or paths inside the bundle", () => {
    expect(parse({ baseVideoUrl: "http://127.0.0.1:4000/m/abc/base.mp4" }).success).toBe(true);
    expect(parse({ baseVideoUrl: "/public/sample/base.mp4" }).success).toBe(true);
    for (const bad of ["file:///etc/passwd", "javascript:alert(1)", "//evil.example/x.mp4", "/public/../../etc/passwd", "base.mp4", ""]) {
      expect(parse({ baseVideoUrl: bad }).success, bad).toBe(false);
    }
    expect(parse({ musicUrl: "ftp://x/y.mp3" }).success).toBe(false);
    expect(parse({ logoUrl: "data:image/png;base64,AAAA" }).success).toBe(false);
  });

  it("only knows the catalog's music and sane volumes and durations", () => {
    expect(parse({ musicId: "pulse" }).success).toBe(true);
    expect(parse({ musicId: "despacito" }).success).toBe(false);
    expect(parse({ musicVolume: 1.5 }).success).toBe(false);
    expect(parse({ baseVideoDurationSeconds: 0 }).success).toBe(false);
    expect(parse({ baseVideoDurationSeconds: 600 }).success).toBe(false);
  });
});

describe("compositions", () => {
  it("names one composition per aspect with its frame size", () => {
    expect(compositionIdFor("9:16")).toBe(COMPOSITIONS["9:16"]);
    expect(DIMENSIONS["9:16"]).toEqual({ width: 1080, height: 1920 });
    expect(DIMENSIONS["16:9"]).toEqual({ width: 1920, height: 1080 });
  });

  it("lasts as long as the base clip plus a 2-second end card", () => {
    expect(durationInFrames(5)).toBe(5 * FPS + 2 * FPS);
    expect(durationInFrames(4.01)).toBe(121 + 60);
  });
});
