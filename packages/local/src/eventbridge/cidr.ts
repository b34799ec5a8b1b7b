/**
 * IPv4 / IPv6 parsing for the `cidr` filter (AWS: "IP address matching", content filtering doc).
 * Addresses are turned into byte arrays so a CIDR test is a prefix compare on bits.
 */

export interface CidrRange {
  bytes: Uint8Array;
  prefixBits: number;
}

export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function parseIPv6(s: string): Uint8Array | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  let head = s;
  let tail4: Uint8Array | undefined;
  // An embedded IPv4 tail, e.g. ::ffff:10.0.0.1
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.indexOf(".", lastColon) > lastColon) {
    tail4 = parseIPv4(s.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = s.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = head.indexOf("::");
  if (dbl !== head.lastIndexOf("::")) return undefined;
  const groups: string[] = [];
  if (dbl >= 0) {
    const left = head.slice(0, dbl);
    const right = head.slice(dbl + 2);
    const l = left === "" ? [] : left.split(":");
    const r = right === "" ? [] : right.split(":");
    const missing = 8 - l.length - r.length;
    if (missing < 1) return undefined;
    groups.push(...l, ...Array<string>(missing).fill("0"), ...r);
  } else {
    groups.push(...head.split(":"));
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

export function parseIP(s: string): Uint8Array | undefined {
  return s.includes(":") ? parseIPv6(s) : parseIPv4(s);
}

/** Parses "a.b.c.d/n" or "x:y::/n"; undefined when malformed. */
export function parseCidr(s: string): CidrRange | undefined {
  const slash = s.indexOf("/");
  if (slash < 0 || slash !== s.lastIndexOf("/")) return undefined;
  const bytes = parseIP(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (!bytes || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const prefixBits = Number(bitsText);
  if (prefixBits > bytes.length * 8) return undefined;
  return { bytes, prefixBits };
}

export function cidrContains(range: CidrRange, ip: string): boolean {
  const b = parseIP(ip);
  if (!b || b.length !== range.bytes.length) return false;
  let bits = range.prefixBits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}
