import { describe, expect, it } from "vitest";
import { endpoints } from "@reelbridge/functions/topology";
import { compileRoutes, localEndpointUrl, routeRequest } from "../../../src/runtime/routes";

const routes = compileRoutes(endpoints);

describe("local HTTP routes come from the topology's endpoints", () => {
  it("sends every declared route to its endpoint, under /api, with the path the handler sees", () => {
    for (const e of endpoints) {
      for (const r of e.routes) {
        const path = r.split(" ")[1]!.replace(/\{\w+\}/g, "01JD7X8Q2RZ4V6N3K5M9P1T0AB");
        expect(routeRequest(routes, `/api${path}`), `${e.name}: ${r}`).toEqual({ endpoint: e.name, fnPath: path });
      }
    }
  });

  it("serves the status API's HLS playlist route because the topology declares it", () => {
    expect(routeRequest(routes, "/api/jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AB/hls/index.m3u8")).toEqual({ endpoint: "status-api", fnPath: "/jobs/01JD7X8Q2RZ4V6N3K5M9P1T0AB/hls/index.m3u8" });
  });

  it("routes nothing that no endpoint declares", () => {
    for (const p of ["/api", "/api/", "/api/jobs/a/b", "/api/jobs/01J/hls/other.m3u8", "/uploads", "/api/uploads/x", "/api/remotion-webhook/../jobs", "/config.json"]) {
      expect(routeRequest(routes, p), p).toBeUndefined();
    }
    expect(routeRequest(routes, "/api/uploads/")).toEqual({ endpoint: "upload-api", fnPath: "/uploads/" });
  });

  it("gives out an endpoint's URL from its route (the render webhook Remotion posts to)", () => {
    expect(localEndpointUrl(routes, "http://127.0.0.1:5173/api", "render-webhook")).toBe("http://127.0.0.1:5173/api/remotion-webhook");
    expect(() => compileRoutes([{ name: "x", routes: ["/no-method"] }])).toThrow(/not "METHOD \/path"/);
  });
});
