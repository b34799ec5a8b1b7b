export * from "./errors";
export * from "./ports";
export * from "./publish";
export * from "./logger";
