/**
 * Network allow and deny lists: which client addresses a listener serves.
 * Deny wins over allow; an empty allow list allows every address not
 * denied. IPv4 clients that reach an IPv6 socket (`::ffff:a.b.c.d`) are
 * matched against IPv4 networks.
 *
 * @module
 */

import { type Cidr, cidrContains, parseIp } from "./ip.ts";

/** Whether a client address may connect. */
export type AddressFilter = (ip: string) => boolean;

/** Lets every address through: the filter of a listener with neither list. */
export const ALLOW_ALL: AddressFilter = () => true;

/**
 * A filter from the two lists; {@linkcode ALLOW_ALL} when both are empty,
 * so the common case costs nothing per connection.
 *
 * @example
 * ```ts
 * const admits = addressFilter([parseCidr("10.0.0.0/8")!], [parseCidr("10.9.0.0/16")!]);
 * admits("10.1.2.3"); // true
 * admits("10.9.0.1"); // false: denied
 * admits("192.0.2.1"); // false: not allowed
 * ```
 */
export function addressFilter(allow: readonly Cidr[], deny: readonly Cidr[]): AddressFilter {
  if (allow.length === 0 && deny.length === 0) return ALLOW_ALL;
  return (text) => {
    const ip = parseIp(text);
    // [SECURITY] An address that cannot be read matches no network, so
    // where a list is kept it is refused rather than let through.
    if (!ip) return false;
    if (deny.some((n) => cidrContains(n, ip))) return false;
    return allow.length === 0 || allow.some((n) => cidrContains(n, ip));
  };
}
