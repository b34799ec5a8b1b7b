// @remotion/renderer as this package resolves it, for callers outside the package (bench/) that
// compare the local renderer with bare Remotion calls; pnpm does not hoist it to the root.
export { makeCancelSignal, openBrowser, renderMedia, selectComposition } from "@remotion/renderer";
