/**
 * The PROXY protocol (HAProxy, versions 1 and 2): what a header carries,
 * its size limits, and how to tell from a connection's first bytes whether
 * one is there. Encoding and parsing live beside it
 * (`proxy_encode.ts`, `proxy_parse.ts`).
 *
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 *
 * @module
 */

/** One end of a proxied connection. */
export interface ProxyAddress {
  /** Dotted quad or RFC 5952 IPv6; IPv4-mapped IPv6 shown as IPv4. */
  readonly ip: string;
  /** TCP port, 0–65535. */
  readonly port: number;
}

/** The original connection's two ends, as a PROXY header states them. */
export interface ProxyEndpoints {
  /** The client. */
  readonly source: ProxyAddress;
  /** The address the client connected to. */
  readonly destination: ProxyAddress;
}

/** A parsed PROXY header. */
export interface ProxyHeader {
  /** Which wire format it came in. */
  readonly version: 1 | 2;
  /**
   * The original endpoints; absent when the header says the real
   * connection's endpoints stand (v2 `LOCAL`, v1 `UNKNOWN`, or a v2 family
   * other than TCP over IPv4/IPv6, which the spec lets a receiver treat as
   * `UNSPEC`, §2.2).
   */
  readonly endpoints?: ProxyEndpoints;
}

/** The longest v1 line, CRLF included (spec §2.1: the `UNKNOWN` worst case). */
export const PROXY_V1_MAX_BYTES = 107;

/**
 * The most address and TLV bytes a v2 header may announce before it is
 * refused: the spec keeps a header within one minimal TCP segment
 * (536 bytes, §2), and a larger announced length is more likely an attack
 * on the reader's memory than a real TLV list.
 */
export const PROXY_V2_MAX_PAYLOAD = 536;

/** The fixed part of a v2 header: signature, version and command, family, length. */
export const PROXY_V2_FIXED_BYTES = 16;

/** The longest header of either version this implementation reads. */
export const PROXY_HEADER_MAX_BYTES = PROXY_V2_FIXED_BYTES + PROXY_V2_MAX_PAYLOAD;

/** The 12 bytes every v2 header starts with (spec §2.2). */
export const PROXY_V2_SIGNATURE: Uint8Array = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);

/** `PROXY ` : what every v1 header starts with (spec §2.1). */
export const PROXY_V1_PREFIX: Uint8Array = new TextEncoder().encode("PROXY ");

/** How many first bytes {@linkcode sniffProxyHeader} needs at most to decide. */
export const PROXY_SNIFF_BYTES = PROXY_V2_SIGNATURE.length;

/** What the first bytes of a connection say about a PROXY header. */
export type ProxySniff =
  /** They start with the v1 prefix or the v2 signature. */
  | "proxy"
  /** Too few bytes to tell: they are the beginning of a prefix or the signature. */
  | "maybe"
  /** They are not a PROXY header. */
  | "none";

/** True when `bytes` begins `pattern`, or `pattern` begins `bytes` (the shorter decides). */
function agrees(bytes: Uint8Array, pattern: Uint8Array): boolean {
  const n = Math.min(bytes.length, pattern.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== pattern[i]) return false;
  return true;
}

/**
 * Says whether a connection's first bytes are a PROXY header, without
 * waiting for more than {@linkcode PROXY_SNIFF_BYTES}: the relay checks an
 * untrusted client's first chunk as it flows, so server-speaks-first
 * protocols never wait for it.
 *
 * @example
 * ```ts
 * sniffProxyHeader(new TextEncoder().encode("PROXY TCP4 ")); // "proxy"
 * sniffProxyHeader(new TextEncoder().encode("PRO")); // "maybe"
 * sniffProxyHeader(new TextEncoder().encode("GET / HTTP/1.1")); // "none"
 * ```
 */
export function sniffProxyHeader(bytes: Uint8Array): ProxySniff {
  const v1 = agrees(bytes, PROXY_V1_PREFIX);
  const v2 = agrees(bytes, PROXY_V2_SIGNATURE);
  if (
    (v1 && bytes.length >= PROXY_V1_PREFIX.length) ||
    (v2 && bytes.length >= PROXY_V2_SIGNATURE.length)
  ) {
    return "proxy";
  }
  return v1 || v2 ? "maybe" : "none";
}
