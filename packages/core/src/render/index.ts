export * from "./ports";
export * from "./payload";
export * from "./record";
export * from "./signature";
export * from "./outcome";
export { createMemoryRenderIndex } from "./memory-render-index";
export * from "./geometry";
