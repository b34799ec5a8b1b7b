// Fonts ship in public/fonts (see public/fonts/OFL.txt) and load from the bundle: a render never
// fetches a font. Family names carry a "Reel" prefix so the machine's installed fonts can never
// stand in for a missing bundled one and hide the gap until a render on Lambda.
import { loadFont } from "@remotion/fonts";
import { staticFile } from "remotion";

type Face = { family: string; file: string; weight: string; needed: RegExp };

const ANY = /[\s\S]/;
const ARABIC = /\p{Script=Arabic}/u;
const HEBREW = /\p{Script=Hebrew}/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303F\uFF00-\uFFEF]/u;
const EMOJI = /\p{Extended_Pictographic}/u;

const faces: Face[] = [
  { family: "Reel Sans", file: "fonts/NotoSans-Bold.woff2", weight: "700", needed: ANY },
  { family: "Reel Sans", file: "fonts/NotoSans-Regular.woff2", weight: "400", needed: ANY },
  { family: "Reel Arabic", file: "fonts/NotoSansArabic-Bold.woff2", weight: "700", needed: ARABIC },
  { family: "Reel Arabic", file: "fonts/NotoSansArabic-Regular.woff2", weight: "400", needed: ARABIC },
  { family: "Reel Hebrew", file: "fonts/NotoSansHebrew-Bold.woff2", weight: "700", needed: HEBREW },
  { family: "Reel Hebrew", file: "fonts/NotoSansHebrew-Regular.woff2", weight: "400", needed: HEBREW },
  // One CJK weight keeps the repository small; the regular subtitle uses it too.
  { family: "Reel CJK", file: "fonts/NotoSansCJK-Bold.woff2", weight: "400 700", needed: CJK },
  { family: "Reel Emoji", file: "fonts/NotoColorEmoji.ttf", weight: "400 700", needed: EMOJI },
];

/** Per-character fallback order: Latin/Greek/Cyrillic, Arabic, Hebrew, CJK, then emoji. */
export const FONT_STACK = '"Reel Sans", "Reel Arabic", "Reel Hebrew", "Reel CJK", "Reel Emoji", sans-serif';

const loaded = new Map<string, Promise<void>>();

/**
 * Loads the faces that `texts` need (the 4 MB CJK and 11 MB emoji faces only when used), once
 * per page; resolves when all are ready. loadFont also holds the frame with delayRender.
 */
export const loadFontsFor = (texts: string[]): Promise<void> => {
  const all = texts.join(" ");
  const pending = faces
    .filter((f) => f.needed.test(all))
    .map((f) => {
      let p = loaded.get(f.file);
      if (!p) {
        p = loadFont({ family: f.family, url: staticFile(f.file), weight: f.weight });
        loaded.set(f.file, p);
      }
      return p;
    });
  return Promise.all(pending).then(() => undefined);
};
