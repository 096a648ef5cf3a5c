/**
 * Special-purpose address ranges (RFC 6890 and the cloud metadata endpoints)
 * and the question the SSRF check asks of every backend address: is this a
 * place a reverse proxy should never be pointed at?
 *
 * @module
 */

import { type Cidr, cidrContains, type IpBytes, parseCidr, unmapIpv4 } from "./ip.ts";

/** Why an address is not a public unicast address. */
export type AddressClass =
  | "loopback"
  | "private"
  | "link-local"
  | "metadata"
  | "unspecified"
  | "shared"
  | "unique-local"
  | "multicast"
  | "reserved";

const RANGES: ReadonlyArray<readonly [string, AddressClass]> = [
  // Cloud instance metadata services come first so they are named as such
  // rather than as the link-local or private range they live in.
  ["169.254.169.254/32", "metadata"], // AWS, GCP, Azure, OpenStack
  ["fd00:ec2::254/128", "metadata"], // AWS over IPv6
  ["100.100.100.200/32", "metadata"], // Alibaba Cloud
  ["0.0.0.0/8", "unspecified"], // RFC 1122 "this network"
  ["127.0.0.0/8", "loopback"],
  ["10.0.0.0/8", "private"], // RFC 1918
  ["172.16.0.0/12", "private"],
  ["192.168.0.0/16", "private"],
  ["100.64.0.0/10", "shared"], // RFC 6598 carrier-grade NAT
  ["169.254.0.0/16", "link-local"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"], // includes 255.255.255.255
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["64:ff9b:1::/48", "private"], // RFC 8215 local-use NAT64
  ["fc00::/7", "unique-local"], // RFC 4193
  ["fe80::/10", "link-local"],
  ["ff00::/8", "multicast"],
];

const PARSED: ReadonlyArray<readonly [Cidr, AddressClass]> = RANGES.map((
  [text, cls],
) => [parseCidr(text)!, cls]);

/**
 * Names the special-purpose range `ip` belongs to, or `undefined` for an
 * ordinary public unicast address. IPv4-mapped IPv6 addresses are judged as
 * the IPv4 address they carry.
 *
 * @example
 * ```ts
 * classifyAddress(parseIp("169.254.169.254")!); // "metadata"
 * classifyAddress(parseIp("::ffff:127.0.0.1")!); // "loopback"
 * classifyAddress(parseIp("93.184.216.34")!); // undefined
 * ```
 */
export function classifyAddress(ip: IpBytes): AddressClass | undefined {
  const addr = unmapIpv4(ip);
  for (const [cidr, cls] of PARSED) if (cidrContains(cidr, addr)) return cls;
  const inner = embeddedIpv4(addr);
  return inner ? classifyAddress(inner) : undefined;
}

const NAT64 = parseCidr("64:ff9b::/96")!;
const SIX_TO_FOUR = parseCidr("2002::/16")!;
const COMPATIBLE = parseCidr("::/96")!;

/**
 * The IPv4 address an IPv6 address carries and would deliver to: NAT64
 * (`64:ff9b::a.b.c.d`, RFC 6052), 6to4 (`2002:aabb:ccdd::`, RFC 3056) and
 * the deprecated IPv4-compatible form (`::a.b.c.d`). Without this,
 * `64:ff9b::a9fe:a9fe` would pass for a public address while reaching
 * 169.254.169.254.
 */
function embeddedIpv4(ip: IpBytes): IpBytes | undefined {
  if (ip.length !== 16) return undefined;
  if (cidrContains(NAT64, ip) || cidrContains(COMPATIBLE, ip)) return ip.slice(12);
  if (cidrContains(SIX_TO_FOUR, ip)) return ip.slice(2, 6);
  return undefined;
}
