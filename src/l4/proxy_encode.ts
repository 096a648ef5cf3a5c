/**
 * Writes the PROXY header a backend receives first, so it learns who the
 * client really is (spec §2.1 for v1, §2.2 for v2). Addresses are read the
 * way `net/` reads them; an IPv4-mapped IPv6 address counts as IPv4, as the
 * listener's client address does.
 *
 * @module
 */

import { formatIp, type IpBytes, parseIp, unmapIpv4 } from "../net/mod.ts";
import { PROXY_V2_FIXED_BYTES, PROXY_V2_SIGNATURE, type ProxyAddress } from "./proxy_protocol.ts";

/** Which PROXY header to send a backend. */
export type ProxyVersion = "v1" | "v2";

/** v2 version (2) and command PROXY (1) in one byte (spec §2.2). */
const V2_PROXY_COMMAND = 0x21;
/** v2 family and transport bytes (spec §2.2). */
const V2_UNSPEC = 0x00;
const V2_TCP4 = 0x11;
const V2_TCP6 = 0x21;

const encoder = new TextEncoder();

function bytesOf(ip: string): IpBytes | undefined {
  const parsed = parseIp(ip);
  return parsed && unmapIpv4(parsed);
}

/** IPv4 bytes as their IPv4-mapped IPv6 form (`::ffff:a.b.c.d`); IPv6 unchanged. */
function asIpv6(ip: IpBytes): IpBytes {
  if (ip.length === 16) return ip;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(ip, 12);
  return out;
}

/**
 * A v1 (text) header. `PROXY UNKNOWN` when the two addresses are not of
 * one family, or one is not an IP address: v1 has no form for a mixed pair,
 * and the spec's receiver then uses the real connection's endpoints.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(encodeProxyV1(
 *   { ip: "203.0.113.7", port: 51000 },
 *   { ip: "192.0.2.10", port: 443 },
 * )); // "PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\n"
 * ```
 */
export function encodeProxyV1(source: ProxyAddress, destination: ProxyAddress): Uint8Array {
  const src = bytesOf(source.ip);
  const dst = bytesOf(destination.ip);
  if (!src || !dst || src.length !== dst.length) return encoder.encode("PROXY UNKNOWN\r\n");
  // formatIp writes canonical forms (no leading zeros, RFC 5952), as §2.1 asks.
  const family = src.length === 4 ? "TCP4" : "TCP6";
  return encoder.encode(
    `PROXY ${family} ${formatIp(src)} ${formatIp(dst)} ${source.port} ${destination.port}\r\n`,
  );
}

/**
 * A v2 (binary) header with the PROXY command. A mixed IPv4/IPv6 pair is
 * sent as TCP over IPv6 with the IPv4 side mapped (`::ffff:a.b.c.d`), as
 * HAProxy does, so the client's address is not lost; a side that is not an
 * IP address gives `UNSPEC` with no addresses (the receiver then uses the
 * real endpoints).
 *
 * @example
 * ```ts
 * const header = encodeProxyV2({ ip: "203.0.113.7", port: 51000 }, { ip: "192.0.2.10", port: 443 });
 * header.length; // 28: 16 fixed bytes, 2 × 4 address bytes, 2 × 2 port bytes
 * ```
 */
export function encodeProxyV2(source: ProxyAddress, destination: ProxyAddress): Uint8Array {
  let src = bytesOf(source.ip);
  let dst = bytesOf(destination.ip);
  if (!src || !dst) return v2Header(V2_UNSPEC, 0);
  if (src.length !== dst.length) [src, dst] = [asIpv6(src), asIpv6(dst)];
  const addressBytes = src.length * 2 + 4;
  const out = v2Header(src.length === 4 ? V2_TCP4 : V2_TCP6, addressBytes);
  let at = PROXY_V2_FIXED_BYTES;
  out.set(src, at);
  out.set(dst, at += src.length);
  at += dst.length;
  const view = new DataView(out.buffer);
  view.setUint16(at, source.port);
  view.setUint16(at + 2, destination.port);
  return out;
}

/** The 16 fixed bytes of a v2 header, with room for `length` more. */
function v2Header(familyAndTransport: number, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(PROXY_V2_FIXED_BYTES + length);
  out.set(PROXY_V2_SIGNATURE, 0);
  out[12] = V2_PROXY_COMMAND;
  out[13] = familyAndTransport;
  out[14] = length >> 8;
  out[15] = length & 0xff;
  return out;
}

/**
 * The header of `version` for a connection from `source` to `destination`.
 *
 * @example
 * ```ts
 * const header = encodeProxyHeader("v1", client, listenerAddress);
 * await backend.write(header);
 * ```
 */
export function encodeProxyHeader(
  version: ProxyVersion,
  source: ProxyAddress,
  destination: ProxyAddress,
): Uint8Array {
  return version === "v1" ? encodeProxyV1(source, destination) : encodeProxyV2(source, destination);
}
