/**
 * The one error the HTTP/1.1 wire format throws: a response (or a chunked
 * body) that is malformed, ambiguous or over a limit. Aegis never guesses
 * at a broken message, because two parsers that guess differently are how
 * responses get smuggled (RFC 9112 §11.2); the connection that carried it
 * must be closed, never reused.
 *
 * @module
 */

/**
 * Stable labels for what was wrong, for logs and metrics. Messages may be
 * reworded; these may not.
 */
export type H1ErrorReason =
  /** The status line is not `HTTP/1.x SP 3DIGIT [SP reason]` or the code is out of range. */
  | "invalid_status_line"
  /** 101 Switching Protocols: Aegis never asks to upgrade. */
  | "unexpected_101"
  /** A header (or trailer) field line breaks the field grammar (RFC 9112 §5). */
  | "invalid_header"
  /** A field line starts with whitespace (obsolete line folding, RFC 9112 §5.2). */
  | "obs_fold"
  /** A line ends in LF without CR (RFC 9112 §2.2). */
  | "bare_lf"
  /** A NUL byte in the head (RFC 9110 §5.5). */
  | "nul_in_header"
  /** The head is longer than `maxHeaderBytes`. */
  | "header_too_large"
  /** A Content-Length that is not 1–15 digits (RFC 9110 §8.6). */
  | "invalid_content_length"
  /** Content-Length values that disagree (RFC 9110 §8.6). */
  | "conflicting_content_length"
  /** Both Content-Length and Transfer-Encoding (RFC 9112 §6.3, rule 3). */
  | "both_length_and_chunked"
  /** Transfer-Encoding other than exactly `chunked`, or on HTTP/1.0 (RFC 9112 §6.1). */
  | "unsupported_transfer_encoding"
  /** A chunk size that is not 1–16 hex digits or does not fit a safe integer. */
  | "invalid_chunk_size"
  /** A chunk extension that breaks the grammar of RFC 9112 §7.1.1. */
  | "invalid_chunk_extension"
  /** Chunk data not followed by CRLF, or a chunk-size line not ended by CRLF. */
  | "invalid_chunk"
  /** A chunk-size line (with extensions) longer than `maxLineBytes`. */
  | "chunked_body_too_long_line"
  /** The trailer section is longer than `maxTrailerBytes`. */
  | "trailer_too_large"
  /** The connection ended before the body did. */
  | "truncated";

/**
 * A malformed or over-limit HTTP/1.1 message from the upstream.
 *
 * @example
 * ```ts
 * try {
 *   parseResponseHead(bytes, { maxHeaderBytes: 16_384, requestMethod: "GET" });
 * } catch (e) {
 *   if (e instanceof H1ProtocolError) log.warn("bad upstream response", { reason: e.reason });
 * }
 * ```
 */
export class H1ProtocolError extends Error {
  override name = "H1ProtocolError";
  /** A stable label for what was wrong. */
  readonly reason: H1ErrorReason;

  /**
   * @param reason the stable label
   * @param message a description in words; never echoes the upstream's bytes
   */
  constructor(reason: H1ErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}
