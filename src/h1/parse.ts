/**
 * A strict, incremental HTTP/1.1 response-head parser (RFC 9112 §2–§6).
 *
 * It fails closed: anything another parser might read differently (bare LF,
 * obs-fold, whitespace before a colon, Content-Length next to
 * Transfer-Encoding, disagreeing lengths, codings other than `chunked`) is
 * an {@linkcode H1ProtocolError}, never a guess. Call it again with more
 * bytes until it returns a head; it keeps no state between calls. A bare LF
 * or an oversized head fails as soon as it is seen; the grammar of the
 * lines is checked once the head is complete.
 *
 * Choices where the RFCs leave latitude:
 * - The reason phrase may be missing, with or without the SP after the code
 *   (`HTTP/1.1 200\r\n` and `HTTP/1.1 200 \r\n`): many servers send both,
 *   and the reason carries no meaning (RFC 9112 §4).
 * - Only `HTTP/1.0` and `HTTP/1.1` are accepted; no empty lines before the
 *   status line (RFC 9112 §2.2 allows skipping them only before a request).
 * - Content-Length lists must repeat the same digits exactly (`5, 05` is a
 *   conflict), and an empty list element is invalid (RFC 9110 §8.6).
 * - Transfer-Encoding must be exactly one `chunked` element in all of its
 *   field lines together, and is refused in an HTTP/1.0 response, which
 *   RFC 9112 §6.1 says to treat as faulty framing.
 * - Bodiless responses (HEAD, 1xx, 204, 304) still have their framing
 *   headers checked.
 * - `Connection` tokens are matched case-insensitively; `close` wins over
 *   `keep-alive` (RFC 9112 §9.3, §9.6).
 * - A request method of CONNECT is refused up front: Aegis never tunnels.
 *
 * @module
 */

import { checkFieldLine, CR, HTAB, LF, skipOws, SP, trimOwsEnd } from "./_field.ts";
import { decideFraming, splitList } from "./_framing.ts";
import { H1ProtocolError } from "./errors.ts";

/** How the body after a head is delimited (RFC 9112 §6.3). */
export type Framing =
  /** No body: a response to HEAD, 1xx, 204 or 304. */
  | { readonly kind: "none" }
  /** Exactly `length` bytes (Content-Length). */
  | { readonly kind: "length"; readonly length: number }
  /** Chunked transfer coding; decode with `ChunkedDecoder`. */
  | { readonly kind: "chunked" }
  /** Everything until the connection closes (no Content-Length, no Transfer-Encoding). */
  | { readonly kind: "close" };

/** A parsed response head. */
export interface ResponseHead {
  /** The status code, 100–599 (never 101). */
  readonly status: number;
  /** The reason phrase, possibly empty; meaningless, kept for logs. */
  readonly reason: string;
  /** The protocol version the server spoke. */
  readonly version: "1.0" | "1.1";
  /**
   * Field lines in order, duplicates kept: names as received (case kept),
   * values without surrounding OWS, bytes decoded as ISO-8859-1 so obs-text
   * round-trips (RFC 9110 §5.5).
   */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** How the body is delimited. */
  readonly framing: Framing;
  /**
   * Whether the connection may carry another request after this response's
   * body (RFC 9112 §9.3): HTTP/1.1 unless `Connection: close`, HTTP/1.0 only
   * with `Connection: keep-alive`, never when the body runs until close.
   */
  readonly keepAlive: boolean;
  /** A 1xx interim response: skip it and parse the next head from the same connection. */
  readonly interim: boolean;
}

/** What {@linkcode parseResponseHead} needs to know. */
export interface ParseOptions {
  /** The largest head accepted, in bytes, including the final CRLFCRLF. */
  readonly maxHeaderBytes: number;
  /** The method of the request this answers; `HEAD` means no body (RFC 9112 §6.3). */
  readonly requestMethod: string;
}

const ascii = new TextDecoder();
const utf16 = new TextDecoder("utf-16le");

/**
 * Parses one response head from the start of `buf`.
 *
 * Returns `undefined` while the head is incomplete and still under
 * `maxHeaderBytes`. `consumed` is the head's length including the final
 * CRLFCRLF; the body (or the next head, after a 1xx) starts there.
 *
 * @example
 * ```ts
 * const parsed = parseResponseHead(bytes, { maxHeaderBytes: 16_384, requestMethod: "GET" });
 * if (parsed === undefined) return readMore();
 * const body = bytes.subarray(parsed.consumed);
 * ```
 *
 * @throws {H1ProtocolError} for anything malformed, ambiguous or too large
 * @throws {TypeError} when `requestMethod` is `CONNECT`: Aegis never tunnels,
 *   and a 2xx to CONNECT has no framing at all (RFC 9112 §6.3, rule 2)
 */
export function parseResponseHead(
  buf: Uint8Array,
  options: ParseOptions,
): { head: ResponseHead; consumed: number } | undefined {
  if (options.requestMethod === "CONNECT") throw new TypeError("CONNECT is not supported");
  const consumed = findHeadEnd(buf, options.maxHeaderBytes);
  if (consumed < 0) return undefined;
  const text = latin1(buf, consumed);

  const { status, version, reason } = parseStatusLine(buf, LINE_ENDS[0]! - 1, text);
  const headers: Array<readonly [string, string]> = [];
  const lengths: string[] = [];
  const codings: string[] = [];
  let close = false;
  let keepAliveToken = false;
  // The last recorded LF ends the empty line; every one between is a field line.
  for (let k = 1; k < LINE_ENDS.length - 1; k++) {
    const start = LINE_ENDS[k - 1]! + 1;
    const end = LINE_ENDS[k]! - 1;
    const colon = checkFieldLine(buf, start, end);
    const valueStart = skipOws(buf, colon + 1, end);
    const name = text.slice(start, colon);
    const value = text.slice(valueStart, trimOwsEnd(buf, valueStart, end));
    headers.push([name, value]);
    // Only names of the right length pay for a lower-casing.
    if (name.length === 14 && name.toLowerCase() === "content-length") lengths.push(value);
    else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") codings.push(value);
    else if (name.length === 10 && name.toLowerCase() === "connection") {
      for (const token of splitList(value)) {
        const t = token.toLowerCase();
        if (t === "close") close = true;
        else if (t === "keep-alive") keepAliveToken = true;
      }
    }
  }

  const framing = decideFraming(status, version, options.requestMethod, lengths, codings);
  const keepAlive = framing.kind !== "close" && !close &&
    (version === "1.1" || keepAliveToken);
  const head: ResponseHead = {
    status,
    reason,
    version,
    headers,
    framing,
    keepAlive,
    interim: status < 200,
  };
  return { head, consumed };
}

/**
 * Where each line of the head ends (the index of its LF), filled by
 * {@linkcode findHeadEnd} and read straight after it; parsing is
 * synchronous, so one scratch array serves every call.
 */
const LINE_ENDS: number[] = [];

/**
 * Finds the end of the head: the index just past CRLFCRLF, or -1 when more
 * bytes may complete it. Every LF met on the way must follow a CR. A plain
 * loop, because `indexOf` costs more per call than a short line does to walk.
 */
function findHeadEnd(buf: Uint8Array, max: number): number {
  LINE_ENDS.length = 0;
  const limit = Math.min(buf.length, max);
  let lineStart = 0;
  for (let i = 0; i < limit; i++) {
    if (buf[i] !== LF) continue;
    // [SECURITY] Response splitting: RFC 9112 §2.2 allows a recipient to
    // accept a bare LF; a proxy must not, because the next hop may not.
    if (i === lineStart || buf[i - 1] !== CR) {
      throw new H1ProtocolError("bare_lf", "a line in the head ends in LF without CR");
    }
    LINE_ENDS.push(i);
    if (i - 1 === lineStart) {
      if (lineStart === 0) throw badStatus("the head starts with an empty line");
      return i + 1;
    }
    lineStart = i + 1;
  }
  if (buf.length >= max) throw tooLarge();
  return -1;
}

/**
 * `HTTP-version SP status-code SP [reason-phrase]` (RFC 9112 §4), where the
 * line is `[0, end)`.
 */
function parseStatusLine(
  buf: Uint8Array,
  end: number,
  text: string,
): { status: number; version: "1.0" | "1.1"; reason: string } {
  // "HTTP/1.1 200" is the shortest line: 12 bytes.
  if (end < 12 || (end > 12 && buf[12] !== SP)) throw badStatus("malformed status line");
  for (let i = 0; i < 7; i++) {
    if (buf[i] !== HTTP_SLASH_1_DOT[i]) throw badStatus("not an HTTP/1.x status line");
  }
  const minor = buf[7];
  if ((minor !== 0x30 && minor !== 0x31) || buf[8] !== SP) {
    throw badStatus("only HTTP/1.0 and HTTP/1.1 are spoken");
  }
  const d0 = buf[9]! - 0x30, d1 = buf[10]! - 0x30, d2 = buf[11]! - 0x30;
  if (!(d0 >= 1 && d0 <= 5 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) {
    throw badStatus("the status code is not 100–599");
  }
  for (let i = 13; i < end; i++) {
    const b = buf[i]!;
    // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
    if (b !== HTAB && (b < SP || b === 0x7f)) {
      if (b === 0) throw new H1ProtocolError("nul_in_header", "a NUL byte in the head");
      throw badStatus("a control character in the reason phrase");
    }
  }
  const status = d0 * 100 + d1 * 10 + d2;
  if (status === 101) {
    throw new H1ProtocolError("unexpected_101", "101 Switching Protocols was not asked for");
  }
  return { status, version: minor === 0x31 ? "1.1" : "1.0", reason: text.slice(13, end) };
}

const HTTP_SLASH_1_DOT = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e];

/**
 * The first `n` bytes as ISO-8859-1 text. The native UTF-8 decoder is
 * exact for ASCII and fastest; it is trusted only when every byte came out
 * as one character and none as U+FFFD, which only ASCII does. Otherwise
 * each byte is widened to a UTF-16 code unit, which is ISO-8859-1 exactly
 * (no byte can form a surrogate); `TextDecoder("latin1")` would not do,
 * as it means windows-1252.
 */
function latin1(buf: Uint8Array, n: number): string {
  const bytes = buf.subarray(0, n);
  const text = ascii.decode(bytes);
  if (text.length === n && !text.includes("\uFFFD")) return text;
  return utf16.decode(new Uint16Array(bytes));
}

function badStatus(message: string): H1ProtocolError {
  return new H1ProtocolError("invalid_status_line", message);
}

function tooLarge(): H1ProtocolError {
  return new H1ProtocolError("header_too_large", "the head is larger than maxHeaderBytes");
}
