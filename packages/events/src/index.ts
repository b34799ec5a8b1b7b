export * from "./job";
export * from "./reasons";
export * from "./cost";
export * from "./envelope";
export * from "./s3";
export * from "./events";
export * from "./patterns";
export * from "./json-schema";
