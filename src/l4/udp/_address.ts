/**
 * The address rules of the UDP relay: how listener and backend addresses
 * are read and written, where a session's socket binds, and the permission
 * each needs. No socket is opened here (`socket.ts` does that).
 *
 * @module
 */

import { formatIp, parseIp } from "../../net/mod.ts";

/**
 * The largest UDP payload over IPv4: 65,535 − 8 (UDP header) − 20 (IPv4
 * header), RFC 768 and RFC 791. IPv6 could carry 20 bytes more, but a
 * datagram the relay accepts must fit whichever family the other side uses.
 */
export const MAX_UDP_PAYLOAD = 65_507;

/** A host and port, the host without IPv6 brackets. */
export interface HostPort {
  /** Host name or address, `::1` rather than `[::1]`. */
  readonly hostname: string;
  /** Port number. */
  readonly port: number;
}

/**
 * Splits `host:port` (`[v6]:port` for IPv6) the way backend addresses are read.
 *
 * @throws {TypeError} when there is no port, or the text is no address
 */
export function splitHostPort(address: string): HostPort {
  const url = new URL(`udp://${address}`);
  if (url.port === "") throw new TypeError(`"${address}" has no port: write host:port`);
  return { hostname: unbracket(url.hostname), port: Number(url.port) };
}

/** Where an L4 backend is, from its `tcp://host:port` URL (the pool's; the scheme means nothing here). */
export function backendAt(url: URL): HostPort {
  return { hostname: unbracket(url.hostname), port: Number(url.port) };
}

/** An IPv6 literal as sockets take it: `[::1]` → `::1`. */
export function unbracket(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, "$1");
}

/** Whether a host is an IPv6 literal (a host name is resolved to an IPv4 address). */
export function isIpv6(hostname: string): boolean {
  return hostname.includes(":");
}

/**
 * An IP literal in the form the runtime reports the sender of a datagram
 * in (dotted quad, RFC 5952 for IPv6), so the two compare as strings;
 * `undefined` for a host name, which must be resolved first.
 *
 * @example
 * ```ts
 * canonicalIp("0:0::1"); // "::1"
 * canonicalIp("dns.internal"); // undefined
 * ```
 */
export function canonicalIp(hostname: string): string | undefined {
  const bytes = parseIp(hostname);
  return bytes && formatIp(bytes);
}

/**
 * Throws unless `--allow-net` covers `host:port`. Binding a socket or
 * sending without it fails anyway; asking first refuses a listener or a
 * reload at once, naming the address and the flag, instead of failing each
 * session at its first datagram. The relay asks at start for the listener,
 * each backend and the address a session's socket binds to
 * ({@linkcode sessionAddressFor}).
 *
 * @throws {Deno.errors.NotCapable} naming the address and the flag
 */
export function requireNet(at: HostPort, why: string): void {
  const host = formatHostPort(at);
  if (Deno.permissions.querySync({ name: "net", host }).state === "granted") return;
  throw new Deno.errors.NotCapable(`udp ${why} needs net access to ${host}: run with --allow-net`);
}

/**
 * Where a session's socket for a backend at `hostname` is bound, on an
 * ephemeral port: the loopback address of its family for a loopback
 * backend, else any address (`0.0.0.0`, `::` for an IPv6 backend; a host
 * name counts as IPv4, and is not known to be loopback before it resolves).
 *
 * [SECURITY] A session's port relays whatever its backend sends to the
 * client: bound to loopback, only processes on this host can reach it at
 * all, and the stray filter (`upstream.ts`) guards the rest.
 *
 * @example
 * ```ts
 * sessionAddressFor("127.0.0.1"); // { hostname: "127.0.0.1", port: 0 }
 * sessionAddressFor("10.0.0.7"); // { hostname: "0.0.0.0", port: 0 }
 * sessionAddressFor("::1"); // { hostname: "::1", port: 0 }
 * ```
 */
export function sessionAddressFor(hostname: string): HostPort {
  const ip = canonicalIp(hostname);
  if (ip === "::1") return { hostname: "::1", port: 0 };
  if (ip?.startsWith("127.")) return { hostname: "127.0.0.1", port: 0 };
  return { hostname: isIpv6(hostname) ? "::" : "0.0.0.0", port: 0 };
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatHostPort(at: HostPort): string {
  return isIpv6(at.hostname) ? `[${at.hostname}]:${at.port}` : `${at.hostname}:${at.port}`;
}
