import type { StackContext } from "sst/constructs";

/** The browser client as a static site (packages/web). Filled in by the web client's issue. */
export function Web(_ctx: StackContext) {
  return {};
}
