export * from "./ports";
export * from "./keys";
export * from "./errors";
export * from "./metadata";
export * from "./request";
export * from "./auth";
export * from "./content-disposition";
