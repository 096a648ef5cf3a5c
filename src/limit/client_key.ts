/**
 * Which bucket a client draws from. The key comes from the socket peer
 * address alone, never from a header such as `X-Forwarded-For`, which any
 * client can write.
 *
 * @module
 */

import { formatCidr, formatIp, type IpBytes, isIpv4Mapped, maskBits, parseIp } from "../net/mod.ts";

/** The IPv6 prefix length clients are grouped by unless configured otherwise. */
export const DEFAULT_IPV6_PREFIX = 64;

/**
 * The bucket key for a peer address.
 *
 * - IPv4, and IPv4-mapped IPv6 (`::ffff:10.0.0.1`): the IPv4 address itself,
 *   so one client reaching a dual-stack socket both ways shares one bucket.
 * - IPv6: the `/ipv6Prefix` network in canonical text (`2001:db8::/64`). An
 *   end site usually gets a whole /64 (RFC 6177), so one attacker could
 *   otherwise rotate through 2^64 addresses and never be limited.
 * - Anything else: the text as given, so a malformed address is still
 *   limited instead of crashing or sharing someone else's bucket.
 *
 * @example
 * ```ts
 * clientKey("203.0.113.7", 64); // "203.0.113.7"
 * clientKey("::ffff:203.0.113.7", 64); // "203.0.113.7"
 * clientKey("2001:db8:1:2:aaaa::1", 64); // "2001:db8:1:2::/64"
 * ```
 */
export function clientKey(ip: string, ipv6Prefix: number): string {
  return keyOfParsed(ip, parseIp(ip), ipv6Prefix);
}

/** {@linkcode clientKey} for an address already parsed (`bytes` undefined: not an address). */
export function keyOfParsed(ip: string, bytes: IpBytes | undefined, ipv6Prefix: number): string {
  if (!bytes) return ip;
  if (bytes.length === 4) return formatIp(bytes);
  // [SECURITY] Limit evasion: one IPv6 site owns a whole /64 (or more), so
  // its addresses share one bucket, or it could rotate through 2^64 of them.
  if (isIpv4Mapped(bytes)) return formatIp(bytes.subarray(12));
  return formatCidr({ network: maskBits(bytes, ipv6Prefix), prefix: ipv6Prefix });
}
