/**
 * The strict, incremental chunked-body decoder (RFC 9112 §7.1). It hands
 * out views into the bytes it is fed, never copies, and says where the
 * message ended so the rest of the buffer can go to the next response.
 *
 * Choices where the RFC leaves latitude:
 * - chunk-size is 1–16 hex digits whose value must be a safe integer.
 * - Chunk extensions are checked against the full grammar of §7.1.1
 *   (`BWS ";" BWS token [BWS "=" BWS (token / quoted-string)]`) and then
 *   ignored; whitespace after the size is allowed only before a `;`.
 * - `maxLineBytes` counts the chunk-size line without its CRLF;
 *   `maxTrailerBytes` counts trailer field lines with their CRLFs but not
 *   the empty line that ends the message, so 0 refuses any trailer.
 * - Trailer fields are checked like header fields (§7.1.2) and discarded:
 *   Aegis forwards none, so none can carry framing in late.
 *
 * @module
 */

import { ChunkSizeLine } from "./_chunk_line.ts";
import { CR, LF } from "./_field.ts";
import { TrailerSection } from "./_trailer.ts";
import { H1ProtocolError } from "./errors.ts";

/** What one {@linkcode ChunkedDecoder.push} yields. */
export interface DecodeResult {
  /** Body bytes found in the input, as views into it (never empty views). */
  readonly data: Uint8Array[];
  /** How many input bytes belong to this body; the rest belong to whatever follows. */
  readonly consumed: number;
  /** True once the body is complete; later pushes consume nothing. */
  readonly done: boolean;
}

/** Limits for {@linkcode ChunkedDecoder}. */
export interface ChunkedDecoderOptions {
  /** Longest chunk-size line, extensions included, CRLF excluded. Default 4096. */
  readonly maxLineBytes?: number;
  /** Largest trailer section: field lines with their CRLFs. Default 8192. */
  readonly maxTrailerBytes?: number;
}

const SIZE_LINE = 0;
const DATA = 1;
const DATA_CR = 2;
const DATA_LF = 3;
const TRAILER = 4;
const DONE = 5;

const NOTHING: Uint8Array[] = [];

/**
 * Incremental, strict chunked-body decoder (RFC 9112 §7.1).
 *
 * @example
 * ```ts
 * const decoder = new ChunkedDecoder();
 * const { data, consumed, done } = decoder.push(bytes);
 * for (const piece of data) controller.enqueue(piece.slice());
 * if (done) leftover = bytes.subarray(consumed);
 * ```
 */
export class ChunkedDecoder {
  readonly #line: ChunkSizeLine;
  readonly #trailer: TrailerSection;
  #state = SIZE_LINE;
  #remaining = 0;
  #failed: H1ProtocolError | undefined;

  /** @param options limits; see {@linkcode ChunkedDecoderOptions} */
  constructor(options: ChunkedDecoderOptions = {}) {
    // [SECURITY] Memory exhaustion: chunk-size lines and trailers are bounded.
    this.#line = new ChunkSizeLine(options.maxLineBytes ?? 4096);
    this.#trailer = new TrailerSection(options.maxTrailerBytes ?? 8192);
  }

  /** True once the last chunk, the trailers and the final CRLF have been seen. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Feeds bytes; returns the body data they contained (views into `input`)
   * and how many input bytes were used. Until `done`, every byte is used.
   * Once it has thrown, every later call throws the same error: a broken
   * body cannot be resumed.
   *
   * @throws {H1ProtocolError} when the chunked framing is malformed or over a limit
   */
  push(input: Uint8Array): DecodeResult {
    if (this.#failed) throw this.#failed;
    if (this.#state === DONE) return { data: NOTHING, consumed: 0, done: true };
    try {
      return this.#run(input);
    } catch (e) {
      if (e instanceof H1ProtocolError) this.#failed = e;
      throw e;
    }
  }

  /**
   * Says the connection closed.
   *
   * @throws {H1ProtocolError} `truncated` unless the body was complete
   */
  end(): void {
    if (this.#state !== DONE) {
      throw new H1ProtocolError("truncated", "the connection closed before the body ended");
    }
  }

  #run(input: Uint8Array): DecodeResult {
    const data: Uint8Array[] = [];
    const n = input.length;
    let i = 0;
    while (i < n) {
      const state = this.#state;
      if (state === SIZE_LINE) {
        const size = this.#line.feed(input[i++]!);
        if (size === 0) this.#state = TRAILER;
        else if (size > 0) {
          this.#remaining = size;
          this.#state = DATA;
        }
      } else if (state === DATA) {
        const take = Math.min(this.#remaining, n - i);
        data.push(input.subarray(i, i + take));
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = DATA_CR;
      } else if (state === DATA_CR || state === DATA_LF) {
        // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
        if (input[i++] !== (state === DATA_CR ? CR : LF)) {
          throw new H1ProtocolError("invalid_chunk", "chunk data is not followed by CRLF");
        }
        this.#state = state === DATA_CR ? DATA_LF : SIZE_LINE;
      } else {
        const end = this.#trailer.feed(input, i);
        if (end < 0) break;
        this.#state = DONE;
        return { data, consumed: end, done: true };
      }
    }
    return { data, consumed: n, done: false };
  }
}
