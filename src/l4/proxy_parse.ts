/**
 * Reads a PROXY header (v1 or v2) from the first bytes of a connection
 * accepted from a trusted proxy. Strict, as the spec asks (§2.1: "any
 * sequence which does not exactly match the protocol must be discarded"):
 * no leading zeros, no lone CR or LF, ports within 0–65535, v2 version 2
 * only, and a bounded size whatever the header announces.
 *
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 *
 * @module
 */

import { formatIp, type IpBytes, parseIp, unmapIpv4 } from "../net/mod.ts";
import {
  PROXY_V1_MAX_BYTES,
  PROXY_V1_PREFIX,
  PROXY_V2_FIXED_BYTES,
  PROXY_V2_MAX_PAYLOAD,
  type ProxyAddress,
  type ProxyHeader,
  sniffProxyHeader,
} from "./proxy_protocol.ts";

/** What the bytes read so far make of a PROXY header. */
export type ProxyParse =
  /** A whole, valid header of `length` bytes; what follows it is the client's data. */
  | { readonly status: "complete"; readonly header: ProxyHeader; readonly length: number }
  /** The beginning of a valid header: read more. */
  | { readonly status: "partial" }
  /** Not a valid header, and no more bytes can make it one. */
  | { readonly status: "invalid"; readonly reason: string };

const PARTIAL: ProxyParse = Object.freeze({ status: "partial" });
const decoder = new TextDecoder();

function invalid(reason: string): ProxyParse {
  return { status: "invalid", reason };
}

/**
 * Parses the PROXY header at the start of `bytes` (everything read from the
 * connection so far).
 *
 * @example
 * ```ts
 * const got = parseProxyHeader(new TextEncoder().encode("PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\nhello"));
 * // { status: "complete", length: 45, header: { version: 1, endpoints: {
 * //   source: { ip: "203.0.113.7", port: 51000 }, destination: { ip: "192.0.2.10", port: 443 } } } }
 * ```
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyParse {
  const sniff = sniffProxyHeader(bytes);
  if (sniff === "none") return invalid("not a PROXY protocol header");
  if (sniff === "maybe") return PARTIAL;
  return bytes[0] === PROXY_V1_PREFIX[0] ? parseV1(bytes) : parseV2(bytes);
}

// ---- Version 1: one text line (spec §2.1) -----------------------------------

const PORT = /^(0|[1-9]\d{0,4})$/;
const IPV6_TEXT = /^[0-9a-fA-F:.]+$/;

function parseV1(bytes: Uint8Array): ProxyParse {
  const limit = Math.min(bytes.length, PROXY_V1_MAX_BYTES);
  let lf = -1;
  for (let i = 0; i < limit; i++) {
    const b = bytes[i]!;
    if (b === 0x0a) {
      lf = i;
      break;
    }
    // [SECURITY] A lone CR or LF must not end the line (§2.1), and a
    // control byte is never part of one: refuse at once rather than wait.
    if (b === 0x0d ? i + 1 < bytes.length && bytes[i + 1] !== 0x0a : b < 0x20 || b > 0x7e) {
      return invalid("v1 header has a byte that is not part of a PROXY line");
    }
  }
  if (lf < 0) {
    return bytes.length >= PROXY_V1_MAX_BYTES
      ? invalid(`v1 header without CRLF in its first ${PROXY_V1_MAX_BYTES} bytes`)
      : PARTIAL;
  }
  if (lf === 0 || bytes[lf - 1] !== 0x0d) return invalid("v1 header ends in LF without CR");
  const fields = decoder.decode(bytes.subarray(0, lf - 1)).split(" ");
  const length = lf + 1;
  // §2.1: for UNKNOWN the receiver ignores the rest of the line and keeps
  // the real connection's endpoints.
  if (fields[1] === "UNKNOWN") return { status: "complete", header: { version: 1 }, length };
  if (fields[1] !== "TCP4" && fields[1] !== "TCP6") return invalid("v1 header with unknown family");
  if (fields.length !== 6) return invalid("v1 header does not have exactly six fields");
  const v4 = fields[1] === "TCP4";
  const source = v1Address(fields[2]!, fields[4]!, v4);
  const destination = v1Address(fields[3]!, fields[5]!, v4);
  if (typeof source === "string") return invalid(source);
  if (typeof destination === "string") return invalid(destination);
  return { status: "complete", header: { version: 1, endpoints: { source, destination } }, length };
}

/** An address and port of a v1 line, or why they are not valid. */
function v1Address(ipText: string, portText: string, v4: boolean): ProxyAddress | string {
  // Brackets and zones parseIp would accept have no place in a PROXY line.
  const ip = v4 || IPV6_TEXT.test(ipText) ? parseIp(ipText) : undefined;
  if (!ip || ip.length !== (v4 ? 4 : 16)) {
    return `v1 header address is not ${v4 ? "IPv4" : "IPv6"}: ${ipText.slice(0, 45)}`;
  }
  if (!PORT.test(portText) || Number(portText) > 65535) {
    return `v1 header port is not a number in 0-65535: ${portText.slice(0, 10)}`;
  }
  return { ip: formatIp(unmapIpv4(ip)), port: Number(portText) };
}

// ---- Version 2: binary (spec §2.2) -----------------------------------------

/** Address bytes each family needs, by the family nibble. */
const ADDRESS_BYTES: Readonly<Record<number, number>> = { 1: 12, 2: 36, 3: 216 };

function parseV2(bytes: Uint8Array): ProxyParse {
  if (bytes.length < PROXY_V2_FIXED_BYTES) return PARTIAL;
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return invalid(`v2 header with version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`v2 header with unknown command ${command}`);
  const family = bytes[13]! >> 4;
  const transport = bytes[13]! & 0x0f;
  if (family > 3 || transport > 2) return invalid("v2 header with unknown family or transport");
  const payload = (bytes[14]! << 8) | bytes[15]!;
  // [SECURITY] Bounded size: a header announcing more than a segment's worth
  // is refused before a byte of it is buffered.
  if (payload > PROXY_V2_MAX_PAYLOAD) {
    return invalid(`v2 header of ${payload} bytes, more than ${PROXY_V2_MAX_PAYLOAD}`);
  }
  const length = PROXY_V2_FIXED_BYTES + payload;
  if (bytes.length < length) return PARTIAL;
  // §2.2: LOCAL keeps the real endpoints, whatever family it names.
  if (command === 0) return { status: "complete", header: { version: 2 }, length };
  const needed = transport === 0 ? 0 : ADDRESS_BYTES[family] ?? 0;
  if (payload < needed) return invalid(`v2 header too short for its addresses (${payload} bytes)`);
  // Only TCP over IPv4/IPv6 carries a client this relay can use; the other
  // valid combinations fall back to UNSPEC (§2.2): the real endpoints stand.
  if (transport !== 1 || (family !== 1 && family !== 2)) {
    return { status: "complete", header: { version: 2 }, length };
  }
  const size = family === 1 ? 4 : 16;
  const at = PROXY_V2_FIXED_BYTES;
  const ports = at + 2 * size;
  const endpoints = {
    source: v2Address(bytes.subarray(at, at + size), bytes, ports),
    destination: v2Address(bytes.subarray(at + size, ports), bytes, ports + 2),
  };
  return { status: "complete", header: { version: 2, endpoints }, length };
}

function v2Address(ip: IpBytes, bytes: Uint8Array, portAt: number): ProxyAddress {
  return { ip: formatIp(unmapIpv4(ip)), port: (bytes[portAt]! << 8) | bytes[portAt + 1]! };
}
