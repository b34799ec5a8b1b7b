// Real text widths for the fit tests: the fonts that ship in public/fonts, shaped by HarfBuzz
// with the same per-character fallback order as FONT_STACK. No browser needed.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Blob, Buffer as HbBuffer, Face, Font, shape } from "harfbuzzjs";
import { decompress } from "wawoff2";
import type { Measure } from "../../src/fit-text";

const dir = path.resolve(import.meta.dirname, "../../public/fonts");

type Loaded = { font: Font; upem: number; unicodes: Set<number> };

const load = async (file: string): Promise<Loaded> => {
  const raw = readFileSync(path.join(dir, file));
  // Copy at once: the decompressor returns a view into its wasm memory, which the next call may move.
  const sfnt = file.endsWith(".woff2") ? Uint8Array.from(await decompress(raw)) : new Uint8Array(raw);
  const face = new Face(new Blob(sfnt));
  return { font: new Font(face), upem: face.upem, unicodes: new Set(face.collectUnicodes()) };
};

// The order of FONT_STACK (src/fonts.ts).
const stack: Loaded[] = [];
for (const file of ["NotoSans-Bold.woff2", "NotoSansArabic-Bold.woff2", "NotoSansHebrew-Bold.woff2", "NotoSansCJK-Bold.woff2", "NotoColorEmoji.ttf"]) {
  stack.push(await load(file));
}
const emoji = stack[4]!;

// ZWJ and the text/emoji variation selectors: they pick glyphs, they need none of their own.
const IGNORABLE = new Set([0x200d, 0xfe0e, 0xfe0f]);

const fontFor = (grapheme: string): Loaded | null => {
  const cps = [...grapheme].map((c) => c.codePointAt(0)!).filter((c) => !IGNORABLE.has(c));
  // Emoji presentation goes to the colour font, as in the browser.
  if (/\p{Extended_Pictographic}/u.test(grapheme) && cps.every((c) => emoji.unicodes.has(c))) return emoji;
  return stack.find((f) => cps.every((c) => f.unicodes.has(c))) ?? null;
};

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Characters no shipped font covers (the browser would draw tofu or a system font). */
export const uncovered = (text: string): string[] => Array.from(segmenter.segment(text), (s) => s.segment).filter((g) => g.trim() && !fontFor(g));

export const measure: Measure = (text, fontSize) => {
  const runs: { font: Loaded; text: string }[] = [];
  for (const { segment } of segmenter.segment(text)) {
    const font = fontFor(segment) ?? stack[0]!;
    const last = runs.at(-1);
    if (last && last.font === font) last.text += segment;
    else runs.push({ font, text: segment });
  }
  let width = 0;
  for (const run of runs) {
    const buffer = new HbBuffer();
    buffer.addText(run.text);
    buffer.guessSegmentProperties();
    shape(run.font.font, buffer);
    const advance = buffer.getGlyphPositions().reduce((n, p) => n + p.xAdvance, 0);
    width += (advance / run.font.upem) * fontSize;
  }
  return width;
};
