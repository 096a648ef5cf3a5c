/**
 * How a response body is delimited (RFC 9112 §6.3), decided only after
 * every framing header has been checked, so a bodiless response with a
 * broken Content-Length is refused like any other.
 *
 * @module
 */

import { H1ProtocolError } from "./errors.ts";
import type { Framing } from "./parse.ts";

const NONE: Framing = Object.freeze({ kind: "none" });
const CHUNKED: Framing = Object.freeze({ kind: "chunked" });
const CLOSE: Framing = Object.freeze({ kind: "close" });

/**
 * The framing of a response, from its status, version, the request method
 * and the raw Content-Length and Transfer-Encoding field values.
 *
 * @throws {H1ProtocolError} for any framing header that is invalid or ambiguous
 */
export function decideFraming(
  status: number,
  version: "1.0" | "1.1",
  method: string,
  lengths: readonly string[],
  codings: readonly string[],
): Framing {
  const chunked = codings.length > 0;
  if (chunked) {
    // [SECURITY] Smuggling. Rule 3: a sender MUST NOT send both, and the message may be an attempt
    // at smuggling; a proxy that picks one is guessing, so refuse.
    if (lengths.length > 0) {
      throw new H1ProtocolError(
        "both_length_and_chunked",
        "both Content-Length and Transfer-Encoding",
      );
    }
    checkChunkedOnly(codings, version);
  }
  const length = lengths.length > 0 ? checkLength(lengths) : -1;
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return NONE;
  if (chunked) return CHUNKED;
  if (length >= 0) return { kind: "length", length };
  return CLOSE;
}

/** Transfer-Encoding must be one `chunked` coding and nothing else. */
function checkChunkedOnly(codings: readonly string[], version: "1.0" | "1.1"): void {
  const elements = codings.flatMap((v) => v.split(","));
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
  if (
    version === "1.0" || elements.length !== 1 ||
    trimOws(elements[0]!).toLowerCase() !== "chunked"
  ) {
    throw new H1ProtocolError(
      "unsupported_transfer_encoding",
      "Transfer-Encoding other than exactly `chunked`",
    );
  }
}

/**
 * Content-Length = 1*DIGIT, at most 15 digits so it is a safe integer;
 * repeats (in lines or lists) only if identical (RFC 9110 §8.6).
 */
function checkLength(lines: readonly string[]): number {
  let first: string | undefined;
  let conflict = false;
  for (const line of lines) {
    for (const raw of line.split(",")) {
      const digits = trimOws(raw);
      if (!/^[0-9]{1,15}$/.test(digits)) {
        throw new H1ProtocolError("invalid_content_length", "Content-Length is not 1–15 digits");
      }
      if (first === undefined) first = digits;
      else if (digits !== first) conflict = true;
    }
  }
  if (conflict) {
    throw new H1ProtocolError("conflicting_content_length", "Content-Length values disagree");
  }
  return Number(first);
}

/** The non-empty elements of a comma-separated list, OWS trimmed (RFC 9110 §5.6.1). */
export function splitList(value: string): string[] {
  return value.split(",").map(trimOws).filter((t) => t !== "");
}

function trimOws(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, "");
}
