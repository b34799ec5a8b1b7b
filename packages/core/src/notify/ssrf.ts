import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { LookupAddress } from "node:dns";

/**
 * SSRF guard for outgoing webhooks (Standard Webhooks: "SSRF protection").
 *
 * A callback URL comes from whoever uploaded the photo, so the notifier must never be turned
 * into a proxy to the VPC, the host or the instance metadata service. Three layers:
 *   1. the URL: http(s) only, https only where required (AWS stages), no credentials;
 *   2. IP literals in the URL are checked directly (Node never calls `lookup` for them);
 *   3. host names are checked on the addresses they resolve to AT CONNECT TIME, inside the
 *      socket's own `lookup`, so a name that resolves to a public address when checked and to
 *      169.254.169.254 when connecting (DNS rebinding) still cannot be reached.
 * Every resolved address must be allowed: one private address among public ones blocks the URL.
 */

export interface EndpointPolicy {
  /** AWS stages: only https URLs. */
  requireHttps: boolean;
  /**
   * Local runtime and tests only: allow loopback addresses (127.0.0.0/8, ::1) so the notifier can
   * reach a receiver on the same machine. Every other blocked range stays blocked.
   */
  allowPrivateForLocal?: boolean;
}

export class UnsafeEndpointError extends Error {
  readonly code = "UnsafeEndpoint";
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = "UnsafeEndpointError";
  }
}

/** Resolves a host name to every address it has (the shape of dns.lookup with `all: true`). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

// ---- address ranges -------------------------------------------------------------------------

type Range = { base: bigint; bits: number; label: string };

const v4 = (cidr: string, label: string): Range => {
  const [addr, bits] = cidr.split("/");
  return { base: ipv4ToBigInt(addr!), bits: Number(bits), label };
};
const v6 = (cidr: string, label: string): Range => {
  const [addr, bits] = cidr.split("/");
  return { base: ipv6ToBigInt(addr!), bits: Number(bits), label };
};

const BLOCKED_V4: Range[] = [
  v4("0.0.0.0/8", "this network"),
  v4("10.0.0.0/8", "private"),
  v4("100.64.0.0/10", "carrier-grade NAT"),
  v4("127.0.0.0/8", "loopback"),
  v4("169.254.0.0/16", "link-local / cloud metadata"),
  v4("172.16.0.0/12", "private"),
  v4("192.0.0.0/24", "IETF protocol assignments"),
  v4("192.0.2.0/24", "documentation"),
  v4("192.168.0.0/16", "private"),
  v4("198.18.0.0/15", "benchmarking"),
  v4("198.51.100.0/24", "documentation"),
  v4("203.0.113.0/24", "documentation"),
  v4("224.0.0.0/4", "multicast"),
  v4("240.0.0.0/4", "reserved"),
  v4("255.255.255.255/32", "broadcast"),
];

const BLOCKED_V6: Range[] = [
  v6("::/128", "unspecified"),
  v6("::1/128", "loopback"),
  v6("64:ff9b::/96", "NAT64"),
  v6("64:ff9b:1::/48", "NAT64 local-use"),
  v6("100::/64", "discard-only"),
  v6("2001:db8::/32", "documentation"),
  v6("fc00::/7", "unique local"),
  v6("fe80::/10", "link-local"),
  v6("fec0::/10", "site-local"),
  v6("ff00::/8", "multicast"),
  // The EC2 instance metadata service's IPv6 address (inside fc00::/7 already; named for the message).
  v6("fd00:ec2::254/128", "cloud metadata"),
];

const LOOPBACK_V4 = v4("127.0.0.0/8", "loopback");
const LOOPBACK_V6 = v6("::1/128", "loopback");

function inRange(value: bigint, width: number, r: Range): boolean {
  const shift = BigInt(width - r.bits);
  return value >> shift === r.base >> shift;
}

function ipv4ToBigInt(ip: string): bigint {
  return ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part) & 255), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let s = ip.toLowerCase();
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  // Embedded dotted IPv4 (::ffff:1.2.3.4, 64:ff9b::1.2.3.4).
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = ipv4ToBigInt(dotted[1]!);
    s = s.slice(0, -dotted[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const headParts = head ? head.split(":").filter(Boolean) : [];
  const tailParts = tail ? tail.split(":").filter(Boolean) : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(Math.max(0, missing)).fill("0"), ...tailParts];
  return parts.reduce((acc, p) => (acc << 16n) | BigInt(parseInt(p, 16) & 0xffff), 0n);
}

/**
 * Why an address may not be contacted, or undefined when it may. IPv4-mapped IPv6
 * (::ffff:a.b.c.d) and IPv4-compatible forms are judged as the IPv4 address they carry.
 */
export function blockedReason(address: string, policy: Pick<EndpointPolicy, "allowPrivateForLocal"> = {}): string | undefined {
  const family = isIP(address);
  if (family === 4) {
    const n = ipv4ToBigInt(address);
    if (policy.allowPrivateForLocal && inRange(n, 32, LOOPBACK_V4)) return undefined;
    return BLOCKED_V4.find((r) => inRange(n, 32, r))?.label;
  }
  if (family === 6) {
    const n = ipv6ToBigInt(address);
    // ::ffff:0:0/96 (mapped) and ::/96 (deprecated compatible, excluding :: and ::1 handled below).
    if (n >> 32n === 0xffffn || (n >> 32n === 0n && n > 1n)) {
      const inner = n & 0xffffffffn;
      return blockedReason([24n, 16n, 8n, 0n].map((s) => String((inner >> s) & 255n)).join("."), policy);
    }
    if (policy.allowPrivateForLocal && inRange(n, 128, LOOPBACK_V6)) return undefined;
    return BLOCKED_V6.find((r) => inRange(n, 128, r))?.label;
  }
  return "not an IP address";
}

// ---- URLs -----------------------------------------------------------------------------------

/** The host part of a URL as an address or name (IPv6 literals without their brackets). */
export function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Checks what can be checked without DNS: scheme, credentials, IP literals. Throws
 * UnsafeEndpointError; returns the parsed URL.
 */
export function checkEndpointUrl(raw: string, policy: EndpointPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeEndpointError("endpoint is not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UnsafeEndpointError(`endpoint scheme ${url.protocol} is not allowed`);
  if (policy.requireHttps && url.protocol !== "https:") throw new UnsafeEndpointError("endpoint must use https on this stage");
  if (url.username || url.password) throw new UnsafeEndpointError("endpoint URL must not carry credentials");
  const host = hostOf(url);
  if (!host) throw new UnsafeEndpointError("endpoint has no host");
  if (isIP(host)) {
    const why = blockedReason(host, policy);
    if (why) throw new UnsafeEndpointError(`endpoint address ${host} is ${why}`);
  }
  return url;
}

/** Resolves a host and checks every address; throws UnsafeEndpointError if any is blocked. */
export async function resolveSafely(hostname: string, policy: EndpointPolicy, resolver: Resolver = systemResolver): Promise<LookupAddress[]> {
  if (isIP(hostname)) {
    const why = blockedReason(hostname, policy);
    if (why) throw new UnsafeEndpointError(`endpoint address ${hostname} is ${why}`);
    return [{ address: hostname, family: isIP(hostname) }];
  }
  const addresses = await resolver(hostname);
  if (addresses.length === 0) throw Object.assign(new Error(`${hostname} has no addresses`), { code: "ENOTFOUND" });
  for (const a of addresses) {
    const why = blockedReason(a.address, policy);
    if (why) throw new UnsafeEndpointError(`${hostname} resolves to ${a.address}, which is ${why}`);
  }
  return addresses;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls/http(s) connect options that resolves through `resolver` and refuses
 * blocked addresses: the check happens on the very addresses the socket then connects to.
 */
export function guardedLookup(policy: EndpointPolicy, resolver: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean; family?: number | string } | number | undefined, callback: LookupCallback): void => {
    resolveSafely(hostname, policy, resolver).then(
      (addresses) => {
        const opts = typeof options === "object" && options !== null ? options : {};
        const family = typeof opts.family === "number" ? opts.family : Number(opts.family) || 0;
        const usable = family ? addresses.filter((a) => a.family === family) : addresses;
        if (usable.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: "ENOTFOUND" }), "", 0);
          return;
        }
        if (opts.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, "", 0),
    );
  };
}
