/**
 * The chunk-size line of a chunked body, one byte at a time (RFC 9112 §7.1):
 * `chunk-size [ chunk-ext ] CRLF`. The line is short, so walking it byte by
 * byte costs little and lets it arrive split anywhere.
 *
 * @module
 */

import { CR, HEX_VALUE, HTAB, LF, SP, TCHAR } from "./_field.ts";
import { H1ProtocolError } from "./errors.ts";

const SIZE_FIRST = 0; // expecting the first hex digit
const SIZE = 1; // in the hex digits
const BWS_SEMI = 2; // whitespace after the size or a value: only ";" may follow
const BWS_NAME = 3; // after ";": expecting an extension name
const NAME = 4; // in an extension name
const BWS_EQ = 5; // whitespace after a name: "=" or ";" may follow
const BWS_VALUE = 6; // after "=": expecting a token or a quoted string
const TOKEN_VALUE = 7;
const QUOTED = 8;
const QUOTED_PAIR = 9; // after a backslash in a quoted string
const AFTER_QUOTED = 10;
const LINE_LF = 11; // the line's CR was seen

const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * A chunk-size line being read. Extensions are checked against
 * `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )`
 * (RFC 9112 §7.1.1) and then forgotten.
 */
export class ChunkSizeLine {
  readonly #maxBytes: number;
  #state = SIZE_FIRST;
  #size = 0;
  #digits = 0;
  #bytes = 0;

  /** @param maxBytes the longest line accepted, without its CRLF */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * Feeds one byte. Returns the chunk size once the line's LF arrives (and
   * is ready for the next line), -1 before that.
   *
   * @throws {H1ProtocolError} when the line breaks the grammar or the limit
   */
  feed(b: number): number {
    const state = this.#state;
    if (state === LINE_LF) {
      if (b !== LF) throw new H1ProtocolError("invalid_chunk", "a chunk-size line's CR lacks LF");
      const size = this.#size;
      this.#state = SIZE_FIRST;
      this.#bytes = 0;
      return size;
    }
    if (b === LF) throw new H1ProtocolError("bare_lf", "a chunk-size line ends in LF without CR");
    if (b !== CR && ++this.#bytes > this.#maxBytes) {
      throw new H1ProtocolError("chunked_body_too_long_line", "a chunk-size line is too long");
    }
    const hex = HEX_VALUE[b]!;
    switch (state) {
      case SIZE_FIRST:
        if (hex < 0) throw badSize("a chunk-size does not start with a hex digit");
        this.#size = hex;
        this.#digits = 1;
        this.#state = SIZE;
        break;
      case SIZE:
        if (hex >= 0) {
          // 16 digits is 64 bits; the value must also stay a safe integer.
          if (++this.#digits > 16 || this.#size > (Number.MAX_SAFE_INTEGER - hex) / 16) {
            throw badSize("a chunk-size is too large");
          }
          this.#size = this.#size * 16 + hex;
        } else if (b === CR || b === SEMI || b === SP || b === HTAB) this.#afterItem(b);
        else throw badSize("a chunk-size holds a non-hex byte");
        break;
      case BWS_SEMI:
        if (b === SEMI) this.#state = BWS_NAME;
        else if (b !== SP && b !== HTAB) throw badExt();
        break;
      case BWS_NAME:
        if (TCHAR[b] === 1) this.#state = NAME;
        else if (b !== SP && b !== HTAB) throw badExt();
        break;
      case NAME:
        if (TCHAR[b] === 1) break;
        if (b === EQUALS) this.#state = BWS_VALUE;
        else if (b === SP || b === HTAB) this.#state = BWS_EQ;
        else this.#afterItem(b);
        break;
      case BWS_EQ:
        if (b === EQUALS) this.#state = BWS_VALUE;
        else if (b === SEMI) this.#state = BWS_NAME;
        else if (b !== SP && b !== HTAB) throw badExt();
        break;
      case BWS_VALUE:
        if (TCHAR[b] === 1) this.#state = TOKEN_VALUE;
        else if (b === DQUOTE) this.#state = QUOTED;
        else if (b !== SP && b !== HTAB) throw badExt();
        break;
      case TOKEN_VALUE:
        if (TCHAR[b] !== 1) this.#afterItem(b);
        break;
      case QUOTED:
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
        if (b === DQUOTE) this.#state = AFTER_QUOTED;
        else if (b === BACKSLASH) this.#state = QUOTED_PAIR;
        else if (b !== HTAB && (b < SP || b === 0x7f)) throw badExt();
        break;
      case QUOTED_PAIR:
        if (b !== HTAB && (b < SP || b === 0x7f)) throw badExt();
        this.#state = QUOTED;
        break;
      default: // AFTER_QUOTED
        this.#afterItem(b);
    }
    return -1;
  }

  /** After the size or a complete extension: the line ends, or `;` or BWS follows. */
  #afterItem(b: number): void {
    if (b === CR) this.#state = LINE_LF;
    else if (b === SEMI) this.#state = BWS_NAME;
    else if (b === SP || b === HTAB) this.#state = BWS_SEMI;
    else throw badExt();
  }
}

function badSize(message: string): H1ProtocolError {
  return new H1ProtocolError("invalid_chunk_size", message);
}

function badExt(): H1ProtocolError {
  return new H1ProtocolError("invalid_chunk_extension", "a chunk extension breaks the grammar");
}
