/**
 * Byte classes and the field-line check shared by the head parser and the
 * chunked decoder's trailer section. Everything works on bytes and byte
 * tables, the cheapest way to check a line one byte at a time in JS.
 *
 * @module
 */

import { H1ProtocolError } from "./errors.ts";

/** Carriage return. */
export const CR = 0x0d;
/** Line feed. */
export const LF = 0x0a;
/** Space. */
export const SP = 0x20;
/** Horizontal tab. */
export const HTAB = 0x09;

function table(accept: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b) ? 1 : 0;
  return t;
}

const isAlnum = (b: number) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** 1 for `tchar` (RFC 9110 §5.6.2): the bytes of methods, field names and tokens. */
export const TCHAR: Uint8Array = table((b) => isAlnum(b) || "!#$%&'*+-.^_`|~".includes(chr(b)));

/**
 * 1 for bytes a field value may hold (RFC 9110 §5.5): HTAB, SP, VCHAR and
 * obs-text. CR, LF, NUL, the other controls and DEL are all refused.
 */
export const FIELD_BYTE: Uint8Array = table((b) => b === HTAB || (b >= SP && b !== 0x7f));

/** The value of each HEXDIG byte (RFC 5234 §B.1, either case), -1 for any other byte. */
export const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d;
  for (let d = 0; d < 6; d++) t[0x41 + d] = t[0x61 + d] = 10 + d;
  return t;
})();

function chr(b: number): string {
  return String.fromCharCode(b);
}

/**
 * Checks one field line, `[start, end)` without its CRLF, against
 * `field-name ":" OWS field-value OWS` (RFC 9112 §5) and returns the index
 * of the colon. The caller has already made sure the line holds no LF.
 *
 * @throws {H1ProtocolError} `obs_fold`, `nul_in_header` or `invalid_header`
 */
export function checkFieldLine(buf: Uint8Array, start: number, end: number): number {
  const first = buf[start];
  // [SECURITY] Smuggling: a line that starts with whitespace continues the previous one (obs-fold)
  // or, first in the block, hides a field from some parsers; RFC 9112 §5.2
  // and §2.2 let a recipient reject both.
  if (first === SP || first === HTAB) {
    throw new H1ProtocolError("obs_fold", "obsolete line folding in a field line");
  }
  let i = start;
  while (i < end && TCHAR[buf[i]!] === 1) i++;
  if (i === start || i === end || buf[i] !== 0x3a) {
    if (i < end && buf[i] === 0) throw nul();
    // Covers whitespace between name and colon too, which RFC 9112 §5.1
    // says MUST be rejected: it is a classic smuggling lever.
    throw new H1ProtocolError("invalid_header", "a field line is not `token: value`");
  }
  for (let j = i + 1; j < end; j++) {
    const b = buf[j]!;
    if (FIELD_BYTE[b] !== 1) {
      if (b === 0) throw nul();
      throw new H1ProtocolError("invalid_header", "a control character in a field value");
    }
  }
  return i;
}

/** The first index in `[start, end)` that is not SP or HTAB (RFC 9110 §5.6.3 OWS). */
export function skipOws(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === SP || buf[start] === HTAB)) start++;
  return start;
}

/** One past the last index in `[start, end)` that is not SP or HTAB. */
export function trimOwsEnd(buf: Uint8Array, start: number, end: number): number {
  while (end > start && (buf[end - 1] === SP || buf[end - 1] === HTAB)) end--;
  return end;
}

function nul(): H1ProtocolError {
  return new H1ProtocolError("nul_in_header", "a NUL byte in the head");
}
