import type { Aspect } from "../props";

/** Where text goes in each format; sizes are in composition pixels (before any render scale). */
export type Layout = {
  marginX: number;
  /** Distance of the text block from the bottom: clear of the platforms' own bottom UI. */
  bottom: number;
  title: { maxWidth: number; maxLines: number; maxFontSize: number; minFontSize: number };
  subtitle: { maxWidth: number; maxLines: number; maxFontSize: number; minFontSize: number };
  endCard: { maxWidth: number; maxLines: number; maxFontSize: number; minFontSize: number };
  logoHeight: number;
};

export const LAYOUTS: Record<Aspect, Layout> = {
  "9:16": {
    marginX: 72,
    bottom: 400,
    // minFontSize × maxLines leaves room for a full-length title (100 CJK characters) uncut.
    title: { maxWidth: 936, maxLines: 5, maxFontSize: 112, minFontSize: 40 },
    subtitle: { maxWidth: 936, maxLines: 3, maxFontSize: 52, minFontSize: 30 },
    endCard: { maxWidth: 900, maxLines: 4, maxFontSize: 104, minFontSize: 48 },
    logoHeight: 120,
  },
  "16:9": {
    marginX: 120,
    bottom: 120,
    title: { maxWidth: 1560, maxLines: 3, maxFontSize: 104, minFontSize: 44 },
    subtitle: { maxWidth: 1560, maxLines: 2, maxFontSize: 52, minFontSize: 28 },
    endCard: { maxWidth: 1400, maxLines: 3, maxFontSize: 112, minFontSize: 48 },
    logoHeight: 110,
  },
};
