export * from "./contract";
export * from "./generator";
export * from "./mp4-info";
