export type Playback = "hls.js" | "native" | "mp4";

export interface Player {
  playback: Playback;
  destroy(): void;
}

/**
 * Plays the job's HLS rendition with hls.js where Media Source Extensions exist (Chromium,
 * Firefox, desktop Safari), with the browser's own HLS where they do not (iOS Safari before
 * ManagedMediaSource), and falls back to the MP4 if neither works or the stream fails.
 * hls.js (light build, ~370 KB) is loaded only when a video is shown.
 */
export async function attachPlayer(video: HTMLVideoElement, src: { hls?: string | undefined; mp4?: string | undefined; accessToken?: () => string | undefined }): Promise<Player> {
  const useMp4 = (): Player => {
    if (src.mp4) video.src = src.mp4;
    video.dataset.playback = "mp4";
    return { playback: "mp4", destroy: () => video.removeAttribute("src") };
  };
  if (!src.hls) return useMp4();

  const { default: Hls } = await import("hls.js/light");
  if (Hls.isSupported()) {
    // On stages with JWT auth the playlist comes from the status API, which wants the bearer
    // token; the segments are presigned storage URLs, which must not get it.
    const playlistOrigin = new URL(src.hls, location.href).origin;
    const hls = new Hls({
      enableWorker: true,
      lowLatencyMode: false,
      xhrSetup: (xhr, url) => {
        const token = src.accessToken?.();
        if (token && new URL(url, location.href).origin === playlistOrigin && /\/jobs\//.test(new URL(url, location.href).pathname)) xhr.setRequestHeader("authorization", `Bearer ${token}`);
      },
    });
    let fellBack = false;
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal || fellBack) return;
      // A network or decode failure the stream cannot recover from: the MP4 is the same video.
      fellBack = true;
      hls.destroy();
      useMp4();
    });
    hls.loadSource(src.hls);
    hls.attachMedia(video);
    video.dataset.playback = "hls.js";
    return { playback: "hls.js", destroy: () => hls.destroy() };
  }
  if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = src.hls;
    video.addEventListener("error", () => { if (video.dataset.playback === "native") useMp4(); }, { once: true });
    video.dataset.playback = "native";
    return { playback: "native", destroy: () => video.removeAttribute("src") };
  }
  return useMp4();
}
