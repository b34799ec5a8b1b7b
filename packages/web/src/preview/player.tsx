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
  pause(): void;
  /** Frame changes (playing or seeking). */
  onFrame(listener: (frame: number) => void): () => void;
  destroy(): void;
}

export function mountPreview(container: HTMLElement, initial: ReelProps): Preview {
  const root = createRoot(container);
  const ref = createRef<PlayerRef>();
  const frameListeners = new Set<(frame: number) => void>();
  let attached: PlayerRef | null = null;
  const onFrame: CallbackListener<"frameupdate"> = (e) => frameListeners.forEach((l) => l(e.detail.frame));
  const attach = () => {
    if (ref.current === attached) return;
    attached?.removeEventListener("frameupdate", onFrame);
    attached = ref.current;
    attached?.addEventListener("frameupdate", onFrame);
    attached?.addEventListener("seeked", (e) => frameListeners.forEach((l) => l(e.detail.frame)));
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
        controls
        loop
        clickToPlay
        doubleClickToFullscreen
        spaceKeyToPlayOrPause
        showVolumeControls
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
    pause: () => ref.current?.pause(),
    onFrame(listener) {
      frameListeners.add(listener);
      return () => frameListeners.delete(listener);
    },
    destroy() {
      root.unmount();
    },
  };
}
