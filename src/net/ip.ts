/**
 * IP address parsing, formatting and CIDR matching, written out by hand so the
 * SSRF check, log masking and client grouping agree on one reading of an
 * address (the WHATWG URL parser, `inet_aton` and friends all differ on corner
 * cases such as `0x7f.1` or zone identifiers).
 *
 * @module
 */

/** An address as its raw bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

const IPV4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses a dotted-quad IPv4 or an RFC 4291 IPv6 address. Brackets (`[::1]`)
 * and an IPv6 zone (`fe80::1%eth0`) are accepted and dropped. Anything else,
 * including the legacy forms `127.1` and `0x7f.0.0.1`, is not an address.
 *
 * @example
 * ```ts
 * parseIp("10.0.0.1"); // Uint8Array [10, 0, 0, 1]
 * parseIp("::1")?.length; // 16
 * parseIp("example.com"); // undefined
 * ```
 */
export function parseIp(text: string): IpBytes | undefined {
  let s = text;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (s.includes(":")) return parseIpv6(s);
  return parseIpv4(s);
}

function parseIpv4(s: string): IpBytes | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!IPV4_PART.test(part)) return undefined;
    out[i] = Number(part);
  }
  return out;
}

function parseIpv6(input: string): IpBytes | undefined {
  const zone = input.indexOf("%");
  const s = zone >= 0 ? input.slice(0, zone) : input;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (HEX_GROUP.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // An embedded IPv4 may only end the address, never sit before a "::".
  if (halves.length === 2 && halves[0]!.includes(".")) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((group, i) => {
    out[i * 2] = group >> 8;
    out[i * 2 + 1] = group & 0xff;
  });
  return out;
}

/** True for `::ffff:a.b.c.d`, an IPv4 address carried in IPv6 form. */
export function isIpv4Mapped(ip: IpBytes): boolean {
  if (ip.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** The plain IPv4 bytes of an IPv4-mapped IPv6 address; other addresses unchanged. */
export function unmapIpv4(ip: IpBytes): IpBytes {
  return isIpv4Mapped(ip) ? ip.slice(12) : ip;
}

/**
 * Formats an address canonically: dotted quad for IPv4, RFC 5952 for IPv6
 * (lower case, the longest run of two or more zero groups as `::`, and
 * `::ffff:a.b.c.d` for IPv4-mapped addresses).
 */
export function formatIp(ip: IpBytes): string {
  if (ip.length === 4) return ip.join(".");
  // RFC 5952 §5: an IPv4-mapped address keeps its dotted quad.
  if (isIpv4Mapped(ip)) return `::ffff:${ip.slice(12).join(".")}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip[i]! << 8) | ip[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** A network in CIDR notation. */
export interface Cidr {
  /** The network address, with host bits cleared. */
  readonly network: IpBytes;
  /** Prefix length in bits. */
  readonly prefix: number;
}

/**
 * Parses `10.0.0.0/8` or `fd00::/8`. A bare address is a single-host network
 * (`/32` or `/128`).
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const bits = ip.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > bits) return undefined;
  }
  return { network: maskBits(ip, prefix), prefix };
}

/** Keeps the first `prefix` bits of `ip` and zeroes the rest. */
export function maskBits(ip: IpBytes, prefix: number): IpBytes {
  const out = new Uint8Array(ip.length);
  for (let i = 0; i < ip.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = ip[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/**
 * True when `ip` lies inside `cidr`. IPv4-mapped IPv6 addresses match IPv4
 * networks, so `::ffff:10.0.0.1` is inside `10.0.0.0/8`.
 */
export function cidrContains(cidr: Cidr, ip: IpBytes): boolean {
  const addr = cidr.network.length === 4 ? unmapIpv4(ip) : ip;
  if (addr.length !== cidr.network.length) return false;
  const masked = maskBits(addr, cidr.prefix);
  for (let i = 0; i < masked.length; i++) if (masked[i] !== cidr.network[i]) return false;
  return true;
}

/** Formats a `Cidr` back to text. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.network)}/${cidr.prefix}`;
}
