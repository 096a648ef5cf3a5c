/**
 * Writing HTTP/1.1 requests: the request head (RFC 9112 §3, §5) and the
 * chunked body coding (RFC 9112 §7.1).
 *
 * The head refuses anything that would let one request line or field line
 * turn into two: CR, LF and NUL anywhere, whitespace in the method or
 * target, non-token names. Strings are written as ISO-8859-1, one byte per
 * character, which is how `Headers` values reach Aegis from `Deno.serve`;
 * a character above U+00FF cannot be written and is refused.
 *
 * @module
 */

import { FIELD_BYTE, TCHAR } from "./_field.ts";

const CRLF_BYTES = new Uint8Array([0x0d, 0x0a]);
const encoder = new TextEncoder();

/**
 * The last chunk and the empty trailer section that end a chunked body:
 * `0\r\n\r\n`. Shared; do not modify.
 */
export const LAST_CHUNK: Uint8Array = new Uint8Array([0x30, 0x0d, 0x0a, 0x0d, 0x0a]);

/**
 * The request head as bytes: `METHOD target HTTP/1.1\r\n`, each field as
 * `name: value\r\n` in iteration order, then `\r\n`.
 *
 * Framing headers (Content-Length or Transfer-Encoding) and Host are the
 * caller's decision; nothing is added or removed here.
 *
 * @example
 * ```ts
 * const head = serializeRequestHead("GET", "/health?full=1", [
 *   ["host", "10.0.0.7:8080"],
 *   ["content-length", "0"],
 * ]);
 * await conn.write(head);
 * ```
 *
 * @throws {TypeError} when the method is not a token, the target is empty
 *   or holds anything but visible ASCII, a name is not a token, or a value
 *   holds a control character other than HTAB or a character above U+00FF
 */
export function serializeRequestHead(
  method: string,
  target: string,
  headers: Iterable<readonly [string, string]>,
): Uint8Array {
  // [SECURITY] Request splitting: nothing that could end a line or the head
  // early (CR, LF, NUL, a space in the target) reaches the backend's parser.
  // method = token (RFC 9110 §9.1)
  if (!isToken(method)) throw new TypeError("the request method is not a token");
  // request-target is visible ASCII (RFC 9112 §3.2, RFC 3986 §2): a space
  // would end it early, CR or LF would end the line.
  if (!isVisibleAscii(target)) throw new TypeError("the request target is not visible ASCII");
  let head = method + " " + target + " HTTP/1.1\r\n";
  let wide = false;
  for (const [name, value] of headers) {
    if (!isToken(name)) throw new TypeError("a header name is not a token");
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      // field-value bytes (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text.
      if (c > 0xff || FIELD_BYTE[c] !== 1) {
        throw new TypeError("a header value holds a control character or a non-Latin-1 character");
      }
      if (c > 0x7f) wide = true;
    }
    head += name + ": " + value + "\r\n";
  }
  head += "\r\n";
  return wide ? latin1Bytes(head) : encoder.encode(head);
}

/**
 * One chunk of a chunked request body: `<hex-size>\r\n`, the data itself
 * (not copied) and a shared `\r\n` (do not modify). Empty data gives nothing, because a zero-size
 * chunk would end the body; end it with {@linkcode LAST_CHUNK}.
 *
 * @example
 * ```ts
 * for await (const piece of body) for (const part of encodeChunk(piece)) await conn.write(part);
 * await conn.write(LAST_CHUNK);
 * ```
 */
export function encodeChunk(data: Uint8Array): Uint8Array[] {
  if (data.length === 0) return [];
  return [encoder.encode(data.length.toString(16) + "\r\n"), data, CRLF_BYTES];
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TCHAR[c] !== 1) return false;
  }
  return true;
}

function isVisibleAscii(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** One byte per character; every character is already known to be ≤ U+00FF. */
function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
