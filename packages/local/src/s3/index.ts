export * from "./server";
export * from "./policy";
export * from "./errors";
export * from "./events";
