import { useEffect, useState } from "react";
import {
  AbsoluteFill,
  Html5Audio,
  Img,
  OffthreadVideo,
  Sequence,
  cancelRender,
  continueRender,
  delayRender,
  interpolate,
  staticFile,
  useCurrentFrame,
  useVideoConfig,
} from "remotion";
import { loadFontsFor } from "../fonts";
import type { ReelLayers } from "../base-layer";
import { BASE_LAYER } from "../base-layer";
import { DEFAULT_MUSIC_ID, MUSIC_CATALOG } from "../music";
import type { RenderInputProps } from "../props";
import { DEFAULT_MUSIC_VOLUME, baseClipFrames } from "../props";
import type { ReelFrame } from "../timeline";
import { reelFrame } from "../timeline";
import { FittedText } from "./FittedText";
import type { Layout } from "./layout";
import { LAYOUTS } from "./layout";

const SHADOW = "0 2px 4px rgba(0,0,0,0.55), 0 6px 24px rgba(0,0,0,0.45)";
const FADE_IN_SECONDS = 1;
const FADE_OUT_SECONDS = 1.5;

/**
 * What the composition draws. Renders (Remotion Lambda, the local renderer) pass the input props
 * of the contract, parsed with renderInputPropsSchema, so they always carry `baseVideoUrl`. The
 * web client's preview (@remotion/player) passes the chosen photo as `baseStillUrl` instead: the
 * still stands where the base clip will be, everything else is drawn by the same code. The
 * contract schema does not know `baseStillUrl`, so a render can never be asked for it.
 * The local renderer may add `layers: "overlay"` (not in the contract either): everything but the
 * base clip and the background behind it, on transparent; FFmpeg draws those from BASE_LAYER.
 */
export type ReelProps = (RenderInputProps | (Omit<RenderInputProps, "baseVideoUrl"> & { baseVideoUrl?: undefined; baseStillUrl: string })) & {
  layers?: ReelLayers;
};

type BaseFrame = Extract<ReelFrame, { part: "base" }>;
type EndFrame = Extract<ReelFrame, { part: "end" }>;

const FULL_BLEED = { width: "100%", height: "100%", objectFit: BASE_LAYER.fit } as const;

export const Reel: React.FC<ReelProps> = (props) => {
  const { title, subtitle, aspect, baseVideoDurationSeconds, logoUrl, endCardText } = props;
  const layout = LAYOUTS[aspect];
  const baseFrames = baseClipFrames(baseVideoDurationSeconds);
  const ready = useFonts([title, subtitle ?? "", endCardText ?? ""]);
  const overlayOnly = props.layers === "overlay";
  // Everything that moves, from one function of the frame (timeline.ts).
  const at = reelFrame(useCurrentFrame(), useVideoConfig().fps, baseVideoDurationSeconds);

  return (
    <AbsoluteFill style={overlayOnly ? undefined : { backgroundColor: BASE_LAYER.background }}>
      <Sequence durationInFrames={baseFrames} name="Base clip">
        {overlayOnly ? null : props.baseVideoUrl !== undefined ? (
          <OffthreadVideo src={props.baseVideoUrl} muted style={FULL_BLEED} />
        ) : (
          <Img src={props.baseStillUrl} alt="" style={FULL_BLEED} />
        )}
        <Scrim />
        {ready && at.part === "base" ? <Titles title={title} subtitle={subtitle} layout={layout} at={at} /> : null}
        {logoUrl && at.part === "base" ? <Logo src={logoUrl} layout={layout} opacity={at.logoOpacity} /> : null}
      </Sequence>
      <Sequence from={baseFrames} name="End card">
        {ready && at.part === "end" ? <EndCard text={endCardText || title} logoUrl={logoUrl} layout={layout} at={at} /> : null}
      </Sequence>
      <Music {...props} />
    </AbsoluteFill>
  );
};

/** Holds the frame until the faces the texts need are loaded, so text is measured in them. */
const useFonts = (texts: string[]): boolean => {
  const key = texts.join("\u0000");
  const [ready, setReady] = useState(false);
  const [handle] = useState(() => delayRender("Loading the title fonts"));
  useEffect(() => {
    loadFontsFor(key.split("\u0000"))
      .then(() => {
        setReady(true);
        continueRender(handle);
      })
      .catch((err: unknown) => cancelRender(err));
  }, [key, handle]);
  return ready;
};

// Bottom gradient under the text (and a light one at the top for the logo): text stays legible
// over white, busy or moving footage.
const Scrim: React.FC = () => (
  <AbsoluteFill
    style={{
      background:
        "linear-gradient(to bottom, rgba(0,0,0,0.35) 0%, rgba(0,0,0,0) 16%, rgba(0,0,0,0) 38%, rgba(0,0,0,0.55) 62%, rgba(0,0,0,0.82) 100%)",
    }}
  />
);

const Titles: React.FC<{ title: string; subtitle: string | undefined; layout: Layout; at: BaseFrame }> = ({ title, subtitle, layout, at }) => (
  <AbsoluteFill style={{ justifyContent: "flex-end", alignItems: "center", paddingBottom: layout.bottom, textAlign: "center", color: "white" }}>
    <div style={{ opacity: at.title.opacity, transform: `translateY(${at.title.offsetY}px)` }}>
      <FittedText text={title} {...layout.title} fontWeight={700} lineHeight={1.15} style={{ textShadow: SHADOW }} />
    </div>
    {subtitle ? (
      <div style={{ marginTop: 24, opacity: at.subtitle.opacity, transform: `translateY(${at.subtitle.offsetY}px)` }}>
        <FittedText text={subtitle} {...layout.subtitle} fontWeight={400} lineHeight={1.3} style={{ textShadow: SHADOW, color: "rgba(255,255,255,0.92)" }} />
      </div>
    ) : null}
  </AbsoluteFill>
);

const Logo: React.FC<{ src: string; layout: Layout; opacity: number }> = ({ src, layout, opacity }) => (
  <AbsoluteFill style={{ alignItems: "flex-end", padding: layout.marginX * 0.75 }}>
    <Img
      src={src}
      style={{ height: layout.logoHeight, maxWidth: "30%", objectFit: "contain", opacity, filter: "drop-shadow(0 2px 8px rgba(0,0,0,0.5))" }}
    />
  </AbsoluteFill>
);

const EndCard: React.FC<{ text: string; logoUrl: string | undefined; layout: Layout; at: EndFrame }> = ({ text, logoUrl, layout, at }) => (
  <AbsoluteFill
    style={{
      opacity: at.opacity,
      background: "radial-gradient(circle at 50% 40%, #2a3556 0%, #111726 70%)",
      justifyContent: "center",
      alignItems: "center",
      textAlign: "center",
      color: "white",
      gap: 48,
    }}
  >
    {logoUrl ? <Img src={logoUrl} style={{ height: layout.logoHeight * 1.4, maxWidth: "50%", objectFit: "contain" }} /> : null}
    <div style={{ transform: `scale(${at.textScale})` }}>
      <FittedText text={text} {...layout.endCard} fontWeight={700} lineHeight={1.15} style={{ textShadow: SHADOW }} />
    </div>
  </AbsoluteFill>
);

const Music: React.FC<ReelProps> = ({ musicId, musicUrl, musicVolume }) => {
  const { durationInFrames, fps } = useVideoConfig();
  const src = musicUrl ?? staticFile(MUSIC_CATALOG[musicId ?? DEFAULT_MUSIC_ID].file);
  const level = musicVolume ?? DEFAULT_MUSIC_VOLUME;
  return (
    <Html5Audio
      src={src}
      loop
      // "extend": the curve gets the frame of the whole composition, not of the current loop.
      loopVolumeCurveBehavior="extend"
      volume={(f) =>
        level *
        Math.min(
          interpolate(f, [0, FADE_IN_SECONDS * fps], [0, 1], { extrapolateRight: "clamp" }),
          interpolate(f, [durationInFrames - FADE_OUT_SECONDS * fps, durationInFrames - 1], [1, 0], { extrapolateLeft: "clamp", extrapolateRight: "clamp" }),
        )
      }
    />
  );
};
