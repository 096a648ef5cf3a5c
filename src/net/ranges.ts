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
  return undefined;
}
