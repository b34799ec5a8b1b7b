import type { Endpoint } from "@reelbridge/functions/topology";

/**
 * The local runtime's HTTP routing, read from the topology's `endpoints[].routes` (one
 * definition: the routes a handler serves are declared once, next to it). Offline, every endpoint
 * is mounted under LOCAL_API_PREFIX on the runtime's one server; in AWS each has a Function URL of
 * its own. As with a Function URL, the handler gets every method on its paths and answers 405 or
 * a preflight itself: only the path decides where a request goes.
 */
export const LOCAL_API_PREFIX = "/api";

export interface LocalRoute {
  endpoint: string;
  method: string;
  /** "/jobs/{jobId}" */
  template: string;
  pattern: RegExp;
}

export function compileRoutes(list: readonly Pick<Endpoint, "name" | "routes">[]): LocalRoute[] {
  return list.flatMap((e) =>
    e.routes.map((r) => {
      const [method, template] = r.split(" ") as [string, string];
      if (!method || !template?.startsWith("/")) throw new Error(`endpoint ${e.name}: route "${r}" is not "METHOD /path"`);
      const source = template
        .split("/")
        .map((seg) => (/^\{\w+\}$/.test(seg) ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      return { endpoint: e.name, method, template, pattern: new RegExp(`^${source}/?$`) };
    }),
  );
}

/** The endpoint that serves `path` (the request's path on the runtime's server), and the path its handler sees. */
export function routeRequest(routes: readonly LocalRoute[], path: string): { endpoint: string; fnPath: string } | undefined {
  if (path !== LOCAL_API_PREFIX && !path.startsWith(`${LOCAL_API_PREFIX}/`)) return undefined;
  const fnPath = path.slice(LOCAL_API_PREFIX.length) || "/";
  const hit = routes.find((r) => r.pattern.test(fnPath));
  return hit ? { endpoint: hit.endpoint, fnPath } : undefined;
}

/**
 * The URL another function is given for an endpoint it `reaches` (endpointUrlEnv in AWS): the
 * runtime's API base plus the endpoint's first route without parameters.
 */
export function localEndpointUrl(routes: readonly LocalRoute[], apiBase: string, endpoint: string): string {
  const route = routes.find((r) => r.endpoint === endpoint && !r.template.includes("{"));
  if (!route) throw new Error(`endpoint ${endpoint} has no route without parameters to give out as its URL`);
  return `${apiBase}${route.template}`;
}
