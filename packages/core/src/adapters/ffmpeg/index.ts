export * from "./offline-generator";
export * from "./segmenter";
export { defaultFfmpegPath, defaultFfprobePath } from "./run";
