/**
 * Client address masking for logs: enough of the address to tell networks
 * apart while investigating, never enough to identify a person.
 *
 * @module
 */

import { formatIp, maskBits, parseIp, unmapIpv4 } from "./ip.ts";

/**
 * Masks a client address for logging: IPv4 keeps its first two octets
 * (`203.0.113.45` → `203.0.0.0`), IPv6 keeps its first 48 bits
 * (`2001:db8:abcd:12::1` → `2001:db8:abcd::`). Text that is not an address
 * is replaced entirely.
 */
export function maskClientIp(address: string): string {
  // [SECURITY] Privacy: logs and dashboards never hold a full client address.
  const ip = parseIp(address);
  if (!ip) return "invalid";
  const plain = unmapIpv4(ip);
  return formatIp(maskBits(plain, plain.length === 4 ? 16 : 48));
}
