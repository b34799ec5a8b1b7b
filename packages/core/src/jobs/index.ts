export * from "./reducer";
export * from "./generated-video";
export * from "./summary";
export * from "./errors";
export * from "./memory";
export * from "./ledger";
export * from "./trust";
