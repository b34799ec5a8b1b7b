import { Player } from "@remotion/player";
import type { CallbackListener, PlayerRef } from "@remotion/player";
import { Reel } from "@reelbridge/remotion/reel";
import type { ReelProps } from "@reelbridge/remotion/reel";
import { createRef } from "react";
import { createRoot } from "react-dom/client";
import { previewGeometry } from "./props";

/**
 * The live preview: @remotion/player playing the composition the renderer and Remotion Lambda
 * render (remotion/src/components/Reel.tsx, the same module), with the props of the form.
 * Loaded on demand (React and Remotion are most of its weight), so the form is usable at once.
 */
export interface Preview {
  update(props: ReelProps): void;
  /** Shows frame `frame` and pauses. */
  seekTo(frame: number): void;
  /** Plays from the current frame or pauses; resolves to whether it is playing now. */
  toggle(): boolean;
  pause(): void;
  setMuted(muted: boolean): void;
  /** Frame changes (playing or seeking). */
  onFrame(listener: (frame: number) => void): () => void;
  /** Playing started or stopped (also at the end, or by a click on the video). */
  onPlaying(listener: (playing: boolean) => void): () => void;
  destroy(): void;
}

export function mountPreview(container: HTMLElement, initial: ReelProps): Preview {
  const root = createRoot(container);
  const ref = createRef<PlayerRef>();
  const frameListeners = new Set<(frame: number) => void>();
  const playingListeners = new Set<(playing: boolean) => void>();
  let attached: PlayerRef | null = null;
  const onFrame: CallbackListener<"frameupdate"> = (e) => frameListeners.forEach((l) => l(e.detail.frame));
  const onSeeked: CallbackListener<"seeked"> = (e) => frameListeners.forEach((l) => l(e.detail.frame));
  const onPlay = () => playingListeners.forEach((l) => l(true));
  const onPause = () => playingListeners.forEach((l) => l(false));
  const attach = () => {
    if (ref.current === attached) return;
    attached?.removeEventListener("frameupdate", onFrame);
    attached?.removeEventListener("seeked", onSeeked);
    attached?.removeEventListener("play", onPlay);
    attached?.removeEventListener("pause", onPause);
    attached = ref.current;
    attached?.addEventListener("frameupdate", onFrame);
    attached?.addEventListener("seeked", onSeeked);
    attached?.addEventListener("play", onPlay);
    attached?.addEventListener("pause", onPause);
  };

  const render = (props: ReelProps) => {
    const g = previewGeometry(props);
    root.render(
      <Player
        ref={(p) => {
          ref.current = p;
          attach();
        }}
        component={Reel}
        inputProps={props}
        durationInFrames={g.durationInFrames}
        fps={g.fps}
        compositionWidth={g.width}
        compositionHeight={g.height}
        // The page's own controls (labelled buttons and a slider, outside the frame): Remotion's
        // overlay stays on the frame while paused, where it would hide what will be rendered.
        controls={false}
        loop
        clickToPlay
        acknowledgeRemotionLicense
        errorFallback={({ error }) => <p className="field-error">The preview failed: {error.message}</p>}
        style={{ width: "100%", aspectRatio: `${g.width} / ${g.height}` }}
      />,
    );
  };
  render(initial);
  return {
    update: render,
    seekTo(frame) {
      ref.current?.pause();
      ref.current?.seekTo(frame);
    },
    toggle() {
      const p = ref.current;
      if (!p) return false;
      if (p.isPlaying()) p.pause();
      else p.play();
      return p.isPlaying();
    },
    pause: () => ref.current?.pause(),
    setMuted(muted) {
      if (muted) ref.current?.mute();
      else ref.current?.unmute();
    },
    onPlaying(listener) {
      playingListeners.add(listener);
      return () => playingListeners.delete(listener);
    },
    onFrame(listener) {
      frameListeners.add(listener);
      return () => frameListeners.delete(listener);
    },
    destroy() {
      root.unmount();
    },
  };
}
