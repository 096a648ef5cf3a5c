/**
 * One upstream HTTP/1.1 connection: the socket and a read buffer that
 * survives between requests, so bytes read past one response head stay
 * available for its body.
 *
 * @module
 */

/** The read buffer's size: one socket read, and the most a head may take. */
export const READ_BUFFER_BYTES = 64 * 1024;

/** A connection to a backend, with buffered input. */
export class H1Conn {
  readonly conn: Deno.TcpConn;
  /** True once it served a request (a reused connection may have been closed by the peer). */
  reused = false;
  /** When it went idle (monotonic ms), for idle expiry. */
  idleSince = 0;
  /** True once closed; a closed connection is never pooled again. */
  closed = false;
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** The buffered bytes not yet consumed. */
  get buffered(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Marks `n` buffered bytes as consumed. */
  consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /**
   * Reads more bytes into the buffer. Resolves false at end of stream.
   * Compacts first, so the buffered bytes plus the new ones stay contiguous.
   */
  async fill(): Promise<boolean> {
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buf.length) {
      // Everything buffered and still no complete head: the caller's size limit decides.
      const bigger = new Uint8Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /** Takes up to `max` buffered bytes as an independent copy (body data handed to a consumer). */
  take(max: number): Uint8Array<ArrayBuffer> {
    const n = Math.min(max, this.#end - this.#start);
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.consume(n);
    return out;
  }

  /** Writes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed by the peer or by an aborted read.
    }
  }
}
