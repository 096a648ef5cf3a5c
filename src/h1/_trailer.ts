/**
 * The trailer section after a chunked body's last chunk (RFC 9112 §7.1.2):
 * field lines, each checked like a header field and then discarded, up to
 * the empty line that ends the message.
 *
 * @module
 */

import { concatBytes } from "../core/mod.ts";
import { checkFieldLine, CR, LF } from "./_field.ts";
import { H1ProtocolError } from "./errors.ts";

/** A trailer section being read, possibly split anywhere across reads. */
export class TrailerSection {
  readonly #maxBytes: number;
  #bytes = 0;
  #partial: Uint8Array[] = [];
  #partialBytes = 0;

  /** @param maxBytes the most field-line bytes (CRLFs included, final empty line not) */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * Reads trailer lines from `input[i..]`. Returns the index just past the
   * empty line that ends the message, or -1 when more bytes are needed.
   *
   * @throws {H1ProtocolError} `bare_lf`, `trailer_too_large` or a field-line reason
   */
  feed(input: Uint8Array, i: number): number {
    for (;;) {
      if (i >= input.length) return -1;
      // The usual case, no trailers at all, needs no copying.
      if (this.#partialBytes === 0 && input[i] === CR && input[i + 1] === LF) return i + 2;
      const lf = input.indexOf(LF, i);
      const stop = lf < 0 ? input.length : lf + 1;
      if (stop > i) {
        this.#partial.push(input.subarray(i, stop));
        this.#partialBytes += stop - i;
      }
      if (lf < 0) {
        // A partial line of 2 bytes or more cannot be the final CRLF.
        if (this.#partialBytes > 1 && this.#bytes + this.#partialBytes > this.#maxBytes) {
          throw tooLarge();
        }
        // Copy what is kept: the caller may reuse its buffer after push().
        this.#partial = [concatBytes(this.#partial, this.#partialBytes)];
        return -1;
      }
      const line = concatBytes(this.#partial, this.#partialBytes);
      this.#partial = [];
      this.#partialBytes = 0;
      const end = line.length - 2;
      if (end < 0 || line[end] !== CR) {
        throw new H1ProtocolError("bare_lf", "a trailer line ends in LF without CR");
      }
      if (end === 0) return stop;
      this.#bytes += line.length;
      if (this.#bytes > this.#maxBytes) throw tooLarge();
      checkFieldLine(line, 0, end);
      i = stop;
    }
  }
}

function tooLarge(): H1ProtocolError {
  return new H1ProtocolError("trailer_too_large", "the trailer section is too large");
}
