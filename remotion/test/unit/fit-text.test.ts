import { describe, expect, it } from "vitest";
import { LAYOUTS } from "../../src/components/layout";
import { fitText, tokenize, wrap } from "../../src/fit-text";
import { DIMENSIONS, TITLE_MAX_GRAPHEMES } from "../../src/props";
import { measure, uncovered } from "./font-metrics";

// Widths come from the shipped fonts shaped by HarfBuzz, so "fits" means fits in the render.
const LINE_HEIGHT = 1.15;

const titles = {
  short: "Harbour",
  latin: "Golden hour over the old harbour, where the fishing boats come home after a long day at sea",
  oneLongWord: "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherungsanstaltsbeauftragter",
  chinese: "东京湾的黄昏，金色的光洒在平静的海面上，渔船缓缓归港，远处的灯塔亮起，城市的夜晚就此开始了，让人流连忘返",
  japanese: "港の夕暮れ、金色の光が静かな海面に広がり、漁船がゆっくりと帰ってくる。遠くの灯台に明かりがともる",
  korean: "항구의 황금빛 노을, 잔잔한 바다 위로 퍼지는 빛과 천천히 돌아오는 어선들, 멀리 등대에 불이 켜진다",
  arabic: "غروب الشمس الذهبي فوق الميناء القديم حيث تعود قوارب الصيد إلى ديارها بعد يوم طويل في البحر",
  hebrew: "שקיעה זהובה מעל הנמל הישן שבו סירות הדייגים חוזרות הביתה אחרי יום ארוך בים הפתוח",
  emoji: "Sunset 🌅 with the whole family 👨‍👩‍👧‍👦 on the beach 🏖️ and ice cream 🍦🍦🍦 for everyone 🎉",
  allCjk100: "港".repeat(TITLE_MAX_GRAPHEMES),
};

describe("fitText with the shipped fonts", () => {
  it("every test title is covered by a font that ships with the project", () => {
    for (const t of Object.values(titles)) expect(uncovered(t)).toEqual([]);
  });

  for (const aspect of ["9:16", "16:9"] as const) {
    const box = LAYOUTS[aspect].title;
    const frame = DIMENSIONS[aspect];
    it.each(Object.entries(titles))(`${aspect}: the %s title stays inside the frame`, (_, text) => {
      const fit = fitText({ text, ...box, measure });
      expect(fit.lines.length).toBeGreaterThan(0);
      expect(fit.lines.length).toBeLessThanOrEqual(box.maxLines);
      expect(fit.fontSize).toBeGreaterThanOrEqual(box.minFontSize);
      expect(fit.fontSize).toBeLessThanOrEqual(box.maxFontSize);
      for (const line of fit.lines) expect(measure(line, fit.fontSize)).toBeLessThanOrEqual(box.maxWidth);
      // Horizontally inside the margins, vertically inside the frame above the bottom inset.
      expect(box.maxWidth + 2 * LAYOUTS[aspect].marginX).toBeLessThanOrEqual(frame.width);
      expect(fit.lines.length * fit.fontSize * LINE_HEIGHT + LAYOUTS[aspect].bottom).toBeLessThan(frame.height * 0.75);
      // Titles within the schema's length bound are never cut.
      expect(fit.truncated).toBe(false);
      expect(fit.lines.join("").replace(/\s/g, "")).toBe(text.replace(/\s/g, ""));
    });
  }

  it("shrinks long titles and keeps short ones large", () => {
    const box = LAYOUTS["9:16"].title;
    const short = fitText({ text: titles.short, ...box, measure });
    expect(short.fontSize).toBe(box.maxFontSize);
    for (const t of [titles.latin, titles.chinese, titles.arabic, titles.hebrew]) {
      expect(fitText({ text: t, ...box, measure }).fontSize).toBeLessThan(box.maxFontSize);
    }
  });

  it("cuts what can never fit with an ellipsis, still inside the box", () => {
    const box = LAYOUTS["16:9"].title;
    const fit = fitText({ text: titles.allCjk100, ...box, maxLines: 1, measure });
    expect(fit.truncated).toBe(true);
    expect(fit.lines).toHaveLength(1);
    expect(fit.lines[0]!.endsWith("…")).toBe(true);
    expect(measure(fit.lines[0]!, fit.fontSize)).toBeLessThanOrEqual(box.maxWidth);
  });
});

describe("line breaking", () => {
  it("breaks between words, between CJK characters, and around emoji, never inside a grapheme", () => {
    expect(tokenize("Hello  world")).toEqual(["Hello", " ", "world"]);
    expect(tokenize("東京タワー")).toEqual(["東", "京", "タ", "ワ", "ー"]);
    expect(tokenize("Hi👨‍👩‍👧‍👦there")).toEqual(["Hi", "👨‍👩‍👧‍👦", "there"]);
  });

  it("keeps right-to-left words whole and in logical order", () => {
    const lines = wrap(titles.hebrew, 80, 500, measure);
    expect(lines.join(" ")).toBe(titles.hebrew);
    for (const line of lines) expect(measure(line, 80)).toBeLessThanOrEqual(500);
  });
});
