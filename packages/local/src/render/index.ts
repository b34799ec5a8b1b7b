export type { LocalRenderer, LocalRendererOptions, LocalRenderOptions, LocalRenderResult, RenderProgress, RenderTuning } from "./renderer";
export { createLocalRenderer, InvalidRenderInputError, RenderAbortedError, DEFAULT_BROWSER_EXECUTABLE, GOP_SIZE, LOCAL_RENDER_TUNING, REMOTION_DEFAULT_TUNING } from "./renderer";
export { ensureBundle, hashRemotionProject } from "./bundle-cache";
export type { MediaServer } from "./media-server";
export { startMediaServer, MediaNotAllowedError } from "./media-server";
