import { describe, expect, it } from "vitest";
import { blockedReason, checkEndpointUrl, guardedLookup, resolveSafely, UnsafeEndpointError } from "../../../src/notify/ssrf";

const aws = { requireHttps: true };

describe("blockedReason", () => {
  it.each([
    ["0.1.2.3"],
    ["10.0.0.1"],
    ["100.64.0.1"],
    ["127.0.0.1"],
    ["127.255.255.254"],
    ["169.254.169.254"],
    ["172.16.0.1"],
    ["172.31.255.255"],
    ["192.0.0.8"],
    ["192.168.1.1"],
    ["198.18.0.1"],
    ["224.0.0.1"],
    ["240.0.0.1"],
    ["255.255.255.255"],
    ["::1"],
    ["::"],
    ["fc00::1"],
    ["fd12:3456::1"],
    ["fe80::1%eth0"],
    ["fd00:ec2::254"],
    ["ff02::1"],
    ["64:ff9b::a9fe:a9fe"],
    ["::ffff:127.0.0.1"],
    ["::ffff:7f00:1"],
    ["::ffff:169.254.169.254"],
    ["::ffff:10.1.2.3"],
  ])("blocks %s", (ip) => {
    expect(blockedReason(ip)).toBeDefined();
  });

  it.each([["93.184.216.34"], ["8.8.8.8"], ["172.32.0.1"], ["100.128.0.1"], ["2606:4700:4700::1111"], ["::ffff:8.8.8.8"]])("allows public %s", (ip) => {
    expect(blockedReason(ip)).toBeUndefined();
  });

  it("allowPrivateForLocal opens loopback only, never metadata or private ranges", () => {
    const local = { allowPrivateForLocal: true };
    expect(blockedReason("127.0.0.1", local)).toBeUndefined();
    expect(blockedReason("::1", local)).toBeUndefined();
    expect(blockedReason("::ffff:127.0.0.1", local)).toBeUndefined();
    expect(blockedReason("169.254.169.254", local)).toBeDefined();
    expect(blockedReason("10.0.0.1", local)).toBeDefined();
    expect(blockedReason("fd00:ec2::254", local)).toBeDefined();
  });
});

describe("checkEndpointUrl", () => {
  it("requires https on AWS stages", () => {
    expect(() => checkEndpointUrl("http://hooks.example.com/x", aws)).toThrow(/https/);
    expect(checkEndpointUrl("https://hooks.example.com/x", aws).host).toBe("hooks.example.com");
    expect(checkEndpointUrl("http://hooks.example.com/x", { requireHttps: false }).protocol).toBe("http:");
  });

  it.each([
    ["https://169.254.169.254/latest/meta-data/"],
    ["https://[::1]/hook"],
    ["https://[::ffff:127.0.0.1]/hook"],
    ["https://[fd00:ec2::254]/"],
    ["https://2130706433/"],
    ["https://0x7f.0.0.1/"],
    ["https://10.0.0.5:8443/"],
    ["ftp://hooks.example.com/"],
    ["file:///etc/passwd"],
    ["https://user:pass@hooks.example.com/"],
    ["not a url"],
  ])("refuses %s before any DNS or socket", (url) => {
    expect(() => checkEndpointUrl(url, aws)).toThrow(UnsafeEndpointError);
  });
});

describe("resolveSafely / guardedLookup", () => {
  const resolver = (map: Record<string, string[]>) => async (host: string) =>
    (map[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

  it("refuses a name when any of its addresses is blocked", async () => {
    const r = resolver({ "mixed.example": ["93.184.216.34", "10.0.0.7"], "ok.example": ["93.184.216.34", "2606:4700::1"] });
    await expect(resolveSafely("mixed.example", aws, r)).rejects.toThrow(/10\.0\.0\.7/);
    await expect(resolveSafely("ok.example", aws, r)).resolves.toHaveLength(2);
  });

  it("answers net's lookup contract (single and all) and fails with UnsafeEndpointError", async () => {
    const lookup = guardedLookup(aws, resolver({ "ok.example": ["93.184.216.34", "2606:4700::1"], "meta.example": ["169.254.169.254"] }));
    const call = (host: string, options: object) =>
      new Promise<{ err: unknown; address: unknown; family?: number }>((resolve) => lookup(host, options, (err, address, family) => resolve({ err, address, family })));
    expect(await call("ok.example", {})).toEqual({ err: null, address: "93.184.216.34", family: 4 });
    expect(await call("ok.example", { family: 6 })).toEqual({ err: null, address: "2606:4700::1", family: 6 });
    expect((await call("ok.example", { all: true })).address).toHaveLength(2);
    expect((await call("meta.example", { all: true })).err).toBeInstanceOf(UnsafeEndpointError);
  });
});
