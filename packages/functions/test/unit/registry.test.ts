import { describe, expect, it } from "vitest";
import { HANDLER_MODULES } from "../../src/registry";
import { ALL_FEATURES, endpoints, schedules, subscriptions } from "../../src/topology";

describe("the handler registry covers the topology", () => {
  // Every subscription that may exist on some stage (topology `requires`).
  const functions = [...subscriptions({ mediaBucket: "b", features: ALL_FEATURES }), ...endpoints, ...schedules];

  it("has exactly one module per function of the topology, under its name", () => {
    expect(Object.keys(HANDLER_MODULES).sort()).toEqual(functions.map((f) => f.name).sort());
  });

  it.each(functions.map((f) => [f.name, f] as const))("%s: the module the topology's handler path names, with buildDeps and createHandler", async (name, f) => {
    const mod = HANDLER_MODULES[name]!;
    expect(mod.NAME).toBe(name);
    expect(typeof mod.buildDeps).toBe("function");
    expect(typeof mod.createHandler).toBe("function");
    // packages/functions/src/ltx.handler → ../../src/ltx: the same module object stacks/ deploys.
    const file = /^packages\/functions\/src\/([\w-]+)\.handler$/.exec(f.handler)?.[1];
    expect(file, f.handler).toBeDefined();
    const deployed = (await import(`../../src/${file}.ts`)) as { NAME: string; handler: unknown };
    expect(deployed.NAME).toBe(name);
    expect(typeof deployed.handler).toBe("function");
  });
});
