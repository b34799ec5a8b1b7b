import { measureText } from "@remotion/layout-utils";
import type { CSSProperties } from "react";
import { useMemo } from "react";
import type { Measure } from "../fit-text";
import { fitText } from "../fit-text";
import { FONT_STACK } from "../fonts";

type Props = {
  text: string;
  maxWidth: number;
  maxLines: number;
  maxFontSize: number;
  minFontSize: number;
  fontWeight: 400 | 700;
  lineHeight?: number;
  style?: CSSProperties;
};

// Room for sub-pixel differences between measuring a line and painting it.
const SAFETY = 1.03;

/**
 * Text wrapped and sized by fitText with the browser's own measurements; each line is its own
 * element with `white-space: pre`, so what was measured is exactly what is painted, and each
 * line takes its direction from its content (RTL titles read right to left).
 */
export const FittedText: React.FC<Props> = ({ text, maxWidth, maxLines, maxFontSize, minFontSize, fontWeight, lineHeight = 1.2, style }) => {
  const fit = useMemo(() => {
    const measure: Measure = (t, fontSize) =>
      measureText({ text: t, fontFamily: FONT_STACK, fontSize, fontWeight, validateFontIsLoaded: false }).width * SAFETY;
    return fitText({ text, maxWidth, maxLines, maxFontSize, minFontSize, measure });
  }, [text, maxWidth, maxLines, maxFontSize, minFontSize, fontWeight]);

  return (
    <div style={{ fontFamily: FONT_STACK, fontWeight, fontSize: fit.fontSize, lineHeight, maxWidth, ...style }}>
      {fit.lines.map((line, i) => (
        <div key={i} dir="auto" style={{ whiteSpace: "pre", unicodeBidi: "plaintext" }}>
          {line}
        </div>
      ))}
    </div>
  );
};
