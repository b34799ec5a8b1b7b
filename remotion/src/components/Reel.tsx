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
  spring,
  staticFile,
  useCurrentFrame,
  useVideoConfig,
} from "remotion";
import { loadFontsFor } from "../fonts";
import { DEFAULT_MUSIC_ID, MUSIC_CATALOG } from "../music";
import type { RenderInputProps } from "../props";
import { DEFAULT_MUSIC_VOLUME, baseClipFrames } from "../props";
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
 */
export type ReelProps = RenderInputProps | (Omit<RenderInputProps, "baseVideoUrl"> & { baseVideoUrl?: undefined; baseStillUrl: string });

const FULL_BLEED = { width: "100%", height: "100%", objectFit: "cover" } as const;

export const Reel: React.FC<ReelProps> = (props) => {
  const { title, subtitle, aspect, baseVideoDurationSeconds, logoUrl, endCardText } = props;
  const layout = LAYOUTS[aspect];
  const baseFrames = baseClipFrames(baseVideoDurationSeconds);
  const ready = useFonts([title, subtitle ?? "", endCardText ?? ""]);

  return (
    <AbsoluteFill style={{ backgroundColor: "black" }}>
      <Sequence durationInFrames={baseFrames} name="Base clip">
        {props.baseVideoUrl !== undefined ? <OffthreadVideo src={props.baseVideoUrl} muted style={FULL_BLEED} /> : <Img src={props.baseStillUrl} alt="" style={FULL_BLEED} />}
        <Scrim />
        {ready ? <Titles title={title} subtitle={subtitle} layout={layout} outFrame={baseFrames} /> : null}
        {logoUrl ? <Logo src={logoUrl} layout={layout} /> : null}
      </Sequence>
      <Sequence from={baseFrames} name="End card">
        {ready ? <EndCard text={endCardText || title} logoUrl={logoUrl} layout={layout} /> : null}
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

const Titles: React.FC<{ title: string; subtitle: string | undefined; layout: Layout; outFrame: number }> = ({ title, subtitle, layout, outFrame }) => {
  const frame = useCurrentFrame();
  const { fps } = useVideoConfig();
  const enter = (delay: number) => spring({ frame: frame - delay, fps, config: { damping: 200 }, durationInFrames: 18 });
  const exit = interpolate(frame, [outFrame - 8, outFrame], [1, 0], { extrapolateLeft: "clamp", extrapolateRight: "clamp" });
  const t = enter(4);
  const s = enter(12);
  return (
    <AbsoluteFill style={{ justifyContent: "flex-end", alignItems: "center", paddingBottom: layout.bottom, textAlign: "center", color: "white" }}>
      <div style={{ opacity: t * exit, transform: `translateY(${(1 - t) * 40}px)` }}>
        <FittedText text={title} {...layout.title} fontWeight={700} lineHeight={1.15} style={{ textShadow: SHADOW }} />
      </div>
      {subtitle ? (
        <div style={{ marginTop: 24, opacity: s * exit, transform: `translateY(${(1 - s) * 30}px)` }}>
          <FittedText text={subtitle} {...layout.subtitle} fontWeight={400} lineHeight={1.3} style={{ textShadow: SHADOW, color: "rgba(255,255,255,0.92)" }} />
        </div>
      ) : null}
    </AbsoluteFill>
  );
};

const Logo: React.FC<{ src: string; layout: Layout }> = ({ src, layout }) => {
  const frame = useCurrentFrame();
  const opacity = interpolate(frame, [0, 12], [0, 1], { extrapolateRight: "clamp" });
  return (
    <AbsoluteFill style={{ alignItems: "flex-end", padding: layout.marginX * 0.75 }}>
      <Img
        src={src}
        style={{ height: layout.logoHeight, maxWidth: "30%", objectFit: "contain", opacity, filter: "drop-shadow(0 2px 8px rgba(0,0,0,0.5))" }}
      />
    </AbsoluteFill>
  );
};

const EndCard: React.FC<{ text: string; logoUrl: string | undefined; layout: Layout }> = ({ text, logoUrl, layout }) => {
  const frame = useCurrentFrame();
  const { fps } = useVideoConfig();
  const opacity = interpolate(frame, [0, 10], [0, 1], { extrapolateRight: "clamp" });
  const pop = spring({ frame: frame - 4, fps, config: { damping: 14 }, durationInFrames: 24 });
  return (
    <AbsoluteFill
      style={{
        opacity,
        background: "radial-gradient(circle at 50% 40%, #2a3556 0%, #111726 70%)",
        justifyContent: "center",
        alignItems: "center",
        textAlign: "center",
        color: "white",
        gap: 48,
      }}
    >
      {logoUrl ? <Img src={logoUrl} style={{ height: layout.logoHeight * 1.4, maxWidth: "50%", objectFit: "contain" }} /> : null}
      <div style={{ transform: `scale(${0.85 + 0.15 * pop})` }}>
        <FittedText text={text} {...layout.endCard} fontWeight={700} lineHeight={1.15} style={{ textShadow: SHADOW }} />
      </div>
    </AbsoluteFill>
  );
};

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
