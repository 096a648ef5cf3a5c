/**
 * Relay buffers kept for the next connection. Each TCP relay needs two
 * 64 KiB buffers; allocated per connection, a listener taking thousands of
 * short connections a second churns hundreds of MiB of array buffers per
 * second, which the collector frees late (resident memory climbs, and the
 * time goes into allocation and collection). Kept here, a finished relay's
 * buffers serve the next one.
 *
 * [SECURITY] A buffer goes back only once nothing can read into it any
 * more (the relay's pipe has settled both directions), and a relay only
 * ever sends the bytes it read itself into a buffer (`subarray(0, n)` of
 * its own read), so what one connection left in a buffer never reaches
 * another.
 *
 * @module
 */

/** A free list of equal-sized buffers, holding at most `max` of them. */
export class BufferPool {
  readonly #free: Uint8Array[] = [];
  readonly #size: number;
  readonly #max: number;

  /**
   * @example
   * ```ts
   * const buffers = new BufferPool(64 * 1024, 256);
   * const buf = buffers.take();
   * // ... every read into buf has settled ...
   * buffers.give(buf);
   * ```
   */
  constructor(size: number, max: number) {
    this.#size = size;
    this.#max = max;
  }

  /** A buffer of the pool's size: a kept one, or a new one. */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.#size);
  }

  /** Keeps `buf` for a later {@linkcode take}, unless the pool is full or it is another size. */
  give(buf: Uint8Array): void {
    if (this.#free.length < this.#max && buf.byteLength === this.#size) this.#free.push(buf);
  }

  /** Buffers kept now. */
  get kept(): number {
    return this.#free.length;
  }
}
