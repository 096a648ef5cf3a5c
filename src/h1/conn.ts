/**
 * One upstream HTTP/1.1 connection: the socket and a read buffer that
 * survives between requests, so bytes read past one response head stay
 * available for its body.
 *
 * While a connection sits idle in its pool it keeps one read outstanding
 * ({@linkcode H1Conn.watchIdle}): nothing may arrive on an idle connection,
 * so a byte or an end of stream there means the peer either closed it or
 * sent something that belongs to no request, and the pool drops it. The
 * read is not wasted: the next exchange on the connection picks it up as
 * its first `fill()`.
 *
 * @module
 */

/** The read buffer's size: one socket read, and the most a head may take. */
export const READ_BUFFER_BYTES = 64 * 1024;

/** A connection to a backend, with buffered input. */
export class H1Conn {
  /** A TCP connection, or a TLS one to an `https` backend. */
  readonly conn: Deno.Conn;
  /** True once it served a request (a reused connection may have been closed by the peer). */
  reused = false;
  /** When it went idle (monotonic ms), for idle expiry. */
  idleSince = 0;
  /** True once closed; a closed connection is never pooled again. */
  closed = false;
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  /** A read started while idle, not yet taken by `fill()`. */
  #pending: Promise<number | null> | undefined;
  /** Told when the idle read completes, while the connection is still idle. */
  #onActivity: (() => void) | undefined;

  constructor(conn: Deno.Conn) {
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
    if (this.#pending) {
      // The read started while idle; the buffer was empty, so it reads at 0.
      const pending = this.#pending;
      this.#pending = undefined;
      const n = await pending;
      if (n === null) return false;
      this.#end += n;
      return true;
    }
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

  /**
   * Starts watching an idle connection: `onActivity` is called once if
   * anything arrives (bytes, end of stream or an error) before
   * {@linkcode H1Conn.unwatch}. Only for a connection with nothing
   * buffered: an exchange that left bytes behind is never pooled.
   */
  watchIdle(onActivity: () => void): void {
    if (this.#end !== this.#start) throw new Error("watchIdle on a connection with unread bytes");
    this.#start = this.#end = 0;
    this.#onActivity = onActivity;
    if (this.#pending) return;
    const pending = this.conn.read(this.#buf);
    this.#pending = pending;
    const settled = () => {
      const told = this.#onActivity;
      this.#onActivity = undefined;
      told?.();
    };
    pending.then(settled, settled);
  }

  /** Stops watching: the connection is about to carry a request. */
  unwatch(): void {
    this.#onActivity = undefined;
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
    this.#onActivity = undefined;
    try {
      this.conn.close();
    } catch {
      // Already closed by the peer or by an aborted read.
    }
  }
}
