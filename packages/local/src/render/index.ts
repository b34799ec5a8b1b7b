export type { LocalRenderer, LocalRendererOptions, LocalRenderOptions, LocalRenderResult, RenderProgress } from "./renderer";
export { createLocalRenderer, InvalidRenderInputError, RenderAbortedError, DEFAULT_BROWSER_EXECUTABLE, GOP_SIZE } from "./renderer";
export { ensureBundle, hashRemotionProject } from "./bundle-cache";
export type { MediaServer } from "./media-server";
export { startMediaServer, MediaNotAllowedError } from "./media-server";
