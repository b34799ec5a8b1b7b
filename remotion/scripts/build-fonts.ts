// Builds remotion/public/fonts from the Debian Noto packages (fonts-noto-core, fonts-noto-cjk,
// fonts-noto-color-emoji), so renders never fetch a font. Run: pnpm --filter @reelbridge/remotion fonts
// The CJK face is subset to the characters of GB2312, Big5 level 1, JIS X 0208 and KS X 1001
// (what titles realistically use) to keep the repository small; everything is WOFF2.
import { mkdir, readFile, writeFile, copyFile } from "node:fs/promises";
import path from "node:path";
import subsetFont from "subset-font";

const out = path.resolve(import.meta.dirname, "../public/fonts");
const core = "/usr/share/fonts/truetype/noto";
const cjk = "/usr/share/fonts/opentype/noto";

const range = (from: number, to: number): string => {
  let s = "";
  for (let c = from; c <= to; c++) s += String.fromCodePoint(c);
  return s;
};

// Every character a legacy double-byte charset can encode, decoded with the WHATWG decoders in Node.
const charset = (encoding: string, lead: [number, number], trail: [number, number]): string => {
  const decoder = new TextDecoder(encoding, { fatal: false });
  let s = "";
  for (let a = lead[0]; a <= lead[1]; a++) {
    for (let b = trail[0]; b <= trail[1]; b++) {
      const ch = decoder.decode(new Uint8Array([a, b]));
      if (ch.length > 0 && !ch.includes("\uFFFD")) s += ch;
    }
  }
  return s;
};

const cjkText = [
  range(0x20, 0x7e),
  range(0x3000, 0x30ff), // CJK punctuation, hiragana, katakana
  range(0x3130, 0x318f), // Hangul compatibility jamo
  range(0xff00, 0xffef), // half/fullwidth forms
  charset("gbk", [0xa1, 0xf7], [0xa1, 0xfe]), // GB2312
  charset("big5", [0xa4, 0xc6], [0x40, 0xfe]), // Big5 level 1
  charset("euc-jp", [0xa1, 0xfe], [0xa1, 0xfe]), // JIS X 0208
  charset("euc-kr", [0xa1, 0xfe], [0xa1, 0xfe]), // KS X 1001
].join("");

const jobs: { from: string; to: string; text?: string }[] = [
  { from: `${core}/NotoSans-Bold.ttf`, to: "NotoSans-Bold.woff2" },
  { from: `${core}/NotoSans-Regular.ttf`, to: "NotoSans-Regular.woff2" },
  { from: `${core}/NotoSansArabic-Bold.ttf`, to: "NotoSansArabic-Bold.woff2" },
  { from: `${core}/NotoSansArabic-Regular.ttf`, to: "NotoSansArabic-Regular.woff2" },
  { from: `${core}/NotoSansHebrew-Bold.ttf`, to: "NotoSansHebrew-Bold.woff2" },
  { from: `${core}/NotoSansHebrew-Regular.ttf`, to: "NotoSansHebrew-Regular.woff2" },
  // Face 0 of the collection is "Noto Sans CJK JP"; it carries Han, kana and Hangul.
  { from: `${cjk}/NotoSansCJK-Bold.ttc`, to: "NotoSansCJK-Bold.woff2", text: cjkText },
];

// Extracts one face of a TrueType/OpenType collection as a standalone sfnt (the subsetter reads
// only single fonts): copy the face's table directory and its tables, rewriting the offsets.
const extractFace = (ttc: Buffer, index: number): Buffer => {
  if (ttc.toString("ascii", 0, 4) !== "ttcf") return ttc;
  const dir = ttc.readUInt32BE(12 + 4 * index);
  const numTables = ttc.readUInt16BE(dir + 4);
  const headerSize = 12 + 16 * numTables;
  const tables = Array.from({ length: numTables }, (_, i) => {
    const rec = dir + 12 + 16 * i;
    return { rec, offset: ttc.readUInt32BE(rec + 8), length: ttc.readUInt32BE(rec + 12) };
  });
  const size = headerSize + tables.reduce((n, t) => n + ((t.length + 3) & ~3), 0);
  const font = Buffer.alloc(size);
  ttc.copy(font, 0, dir, dir + 12);
  let cursor = headerSize;
  tables.forEach((t, i) => {
    ttc.copy(font, 12 + 16 * i, t.rec, t.rec + 16);
    font.writeUInt32BE(cursor, 12 + 16 * i + 8);
    ttc.copy(font, cursor, t.offset, t.offset + t.length);
    cursor += (t.length + 3) & ~3;
  });
  return font;
};

await mkdir(out, { recursive: true });
for (const job of jobs) {
  const src = extractFace(await readFile(job.from), 0);
  const data = job.text
    ? // Hinting off: with hints, harfbuzz's CFF subsetter overflows on ~15k CJK glyphs.
      await subsetFont(src, job.text, { targetFormat: "woff2", noHinting: true })
    : await subsetFont(src, "", { targetFormat: "woff2", keepAllGlyphs: true });
  await writeFile(path.join(out, job.to), data);
  console.log(`${job.to}: ${(data.byteLength / 1024).toFixed(0)} KiB`);
}
// Colour emoji are PNG strikes (CBDT); WOFF2 gains nothing on them, so the TTF ships as is.
await copyFile(`${core}/NotoColorEmoji.ttf`, path.join(out, "NotoColorEmoji.ttf"));
console.log("NotoColorEmoji.ttf copied");
