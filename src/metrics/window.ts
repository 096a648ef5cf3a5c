/**
 * A sliding window of latency samples for one backend.
 *
 * The window keeps the last `capacity` samples (default 1000) and, of those,
 * counts only the ones younger than `maxAgeMs` (default 60 s): whichever
 * limit is smaller wins, as in seed `002_…` ("Sliding window percentiles").
 * Samples live in a ring buffer over two preallocated `Float64Array`s, so
 * {@linkcode LatencyWindow.record} — called once per proxied request — is a
 * few array writes: O(1), no allocation, nothing for the garbage collector.
 * All the work happens at read time, once per metrics tick: copy the live
 * samples, sort, and read ranks (see `percentile.ts` for the definition).
 * A sort of ≤ 1000 doubles is cheap enough that a streaming estimator
 * (t-digest, HDR histogram) would buy nothing but error.
 *
 * @module
 */

import { type LatencySummary, summarize } from "./percentile.ts";

/** Options for {@linkcode LatencyWindow}. */
export interface LatencyWindowOptions {
  /** Most samples kept; the oldest is overwritten when full. A positive integer. Default 1000. */
  readonly capacity?: number;
  /**
   * Samples at least this old (in ms) are ignored when reading. Positive;
   * `Infinity` keeps only the count cap. Default 60000.
   */
  readonly maxAgeMs?: number;
}

/** Default {@linkcode LatencyWindowOptions.capacity}. */
export const DEFAULT_CAPACITY = 1000;
/** Default {@linkcode LatencyWindowOptions.maxAgeMs}. */
export const DEFAULT_MAX_AGE_MS = 60_000;

/** Lets tests reach the private buffers; assigned in the class's static block. */
let buffersOf: (window: LatencyWindow) => WindowBuffers;

/** The preallocated storage of a {@linkcode LatencyWindow}. */
export interface WindowBuffers {
  /** Latencies in ms, in ring order. */
  readonly values: Float64Array;
  /** When each latency was recorded, on the caller's clock. */
  readonly timestamps: Float64Array;
}

/**
 * Latency samples of one backend over a bounded, sliding window.
 *
 * Times are whatever monotonic scale the caller uses (`Clock.now()`); the
 * window never reads a clock itself, so tests pass explicit values.
 *
 * @example
 * ```ts
 * const window = new LatencyWindow({ capacity: 1000, maxAgeMs: 60_000 });
 * window.record(12.5, clock.now());
 * window.percentiles(clock.now()).p95; // 12.5
 * ```
 */
export class LatencyWindow {
  /** Most samples kept. */
  readonly capacity: number;
  /** Age (ms) at which a sample stops counting. */
  readonly maxAgeMs: number;
  readonly #values: Float64Array;
  readonly #timestamps: Float64Array;
  /** Slot the next sample goes into. */
  #next = 0;
  /** Slots written so far, up to `capacity`. */
  #size = 0;

  static {
    buffersOf = (w) => ({ values: w.#values, timestamps: w.#timestamps });
  }

  /** @throws {RangeError} when `capacity` is not a positive integer or `maxAgeMs` is not positive. */
  constructor(options: LatencyWindowOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    if (!(maxAgeMs > 0)) throw new RangeError(`maxAgeMs must be positive, got ${maxAgeMs}`);
    this.capacity = capacity;
    this.maxAgeMs = maxAgeMs;
    this.#values = new Float64Array(capacity);
    this.#timestamps = new Float64Array(capacity);
  }

  /**
   * Adds one sample, overwriting the oldest when the window is full.
   * O(1) and allocation-free: it only writes into the preallocated arrays.
   *
   * A latency that is negative or not finite is dropped: it can only come
   * from a measuring bug, and one `NaN` would poison every percentile and
   * the mean until it slid out of the window. Dropping keeps the request
   * path free of throws.
   */
  record(latencyMs: number, now: number): void {
    if (!(latencyMs >= 0 && latencyMs < Infinity)) return;
    const slot = this.#next;
    this.#values[slot] = latencyMs;
    this.#timestamps[slot] = now;
    this.#next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.#size < this.capacity) this.#size++;
  }

  /**
   * A fresh copy of the live samples (recorded after `now - maxAgeMs`),
   * unsorted, oldest first.
   */
  samples(now: number): Float64Array {
    const cutoff = now - this.maxAgeMs;
    const out = new Float64Array(this.#size);
    // Oldest slot is #next once the ring has wrapped, 0 before.
    const start = this.#size === this.capacity ? this.#next : 0;
    let n = 0;
    // Every slot is checked rather than stopping at the first expired one,
    // so a clock that stepped backwards cannot hide younger samples.
    for (let i = 0; i < this.#size; i++) {
      let slot = start + i;
      if (slot >= this.capacity) slot -= this.capacity;
      if (this.#timestamps[slot]! > cutoff) out[n++] = this.#values[slot]!;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /**
   * Count, P50, P95, P99 (nearest rank), mean and max of the live samples,
   * in ms; all zero when there are none. Sorts a copy: meant for a metrics
   * tick, not the request path.
   */
  percentiles(now: number): LatencySummary {
    return summarize(this.samples(now).sort());
  }
}

/**
 * The window's preallocated arrays, so tests can check that recording
 * writes into them instead of allocating. Not exported from `mod.ts`.
 */
export function windowBuffers(window: LatencyWindow): WindowBuffers {
  return buffersOf(window);
}
