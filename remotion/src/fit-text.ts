// Wraps and sizes a text block so it stays inside a box, for any script. Pure: the caller passes
// `measure` (the composition uses the browser's own text layout; tests use real font metrics).
// The result is rendered one element per line, so the browser never re-wraps what we measured.

/** Width in px of `text` set at `fontSize` px. */
export type Measure = (text: string, fontSize: number) => number;

export type FitOptions = {
  text: string;
  maxWidth: number;
  maxLines: number;
  maxFontSize: number;
  minFontSize: number;
  measure: Measure;
};

export type FitResult = { fontSize: number; lines: string[]; truncated: boolean };

const graphemes = (s: string): string[] =>
  Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(s), (g) => g.segment);

// Scripts written without spaces may break between any two characters (as CSS does by default);
// emoji are their own break opportunities too.
const BREAK_ANYWHERE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303F\uFF00-\uFFEF\p{Extended_Pictographic}]/u;

/** Tokens: runs of "word" characters, single break-anywhere graphemes, and single spaces. */
export const tokenize = (text: string): string[] => {
  const tokens: string[] = [];
  let word = "";
  const flush = () => {
    if (word) tokens.push(word);
    word = "";
  };
  for (const g of graphemes(text.replace(/\s+/g, " ").trim())) {
    if (g === " ") {
      flush();
      tokens.push(" ");
    } else if (BREAK_ANYWHERE.test(g)) {
      flush();
      tokens.push(g);
    } else {
      word += g;
    }
  }
  flush();
  return tokens;
};

/** Greedy line breaking at `fontSize`; a token wider than the box is split between graphemes. */
export const wrap = (text: string, fontSize: number, maxWidth: number, measure: Measure): string[] => {
  const lines: string[] = [];
  let line = "";
  const fits = (s: string) => measure(s, fontSize) <= maxWidth;
  const push = () => {
    if (line.trim()) lines.push(line.trim());
    line = "";
  };
  for (const token of tokenize(text)) {
    if (token === " ") {
      if (line) line += " ";
      continue;
    }
    if (fits(line + token)) {
      line += token;
      continue;
    }
    push();
    if (fits(token)) {
      line = token;
      continue;
    }
    for (const g of graphemes(token)) {
      if (line && !fits(line + g)) push();
      line += g;
    }
  }
  push();
  return lines;
};

const ELLIPSIS = "…";

/**
 * The largest font size (integer px, binary search) at which `text` wraps into at most
 * `maxLines` lines of at most `maxWidth`. If even `minFontSize` needs more lines, the text is
 * cut to `maxLines` with an ellipsis so that nothing leaves the box.
 */
export const fitText = ({ text, maxWidth, maxLines, maxFontSize, minFontSize, measure }: FitOptions): FitResult => {
  const fitsAt = (size: number) => {
    const lines = wrap(text, size, maxWidth, measure);
    return lines.length <= maxLines && lines.every((l) => measure(l, size) <= maxWidth) ? lines : null;
  };
  let lo = Math.ceil(minFontSize);
  let hi = Math.floor(maxFontSize);
  const atMin = fitsAt(lo);
  if (!atMin) {
    const lines = wrap(text, lo, maxWidth, measure).slice(0, maxLines);
    let last = lines[lines.length - 1] ?? "";
    const g = graphemes(last);
    while (g.length > 0 && measure(g.join("").trimEnd() + ELLIPSIS, lo) > maxWidth) g.pop();
    last = g.join("").trimEnd() + ELLIPSIS;
    lines[lines.length - 1] = last;
    return { fontSize: lo, lines, truncated: true };
  }
  let best = { size: lo, lines: atMin };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const lines = fitsAt(mid);
    if (lines) {
      best = { size: mid, lines };
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return { fontSize: best.size, lines: best.lines, truncated: false };
};
