export * from "./ssrf";
export * from "./http";
export * from "./webhook";
export * from "./links";
