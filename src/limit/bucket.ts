/**
 * Token buckets as plain state and deterministic functions: no timers, no
 * clock reads. Every function takes `now` (milliseconds on a monotonic
 * scale), so tests move time by hand instead of sleeping.
 *
 * The refill speed lives in one {@linkcode Refill} that any number of
 * buckets share. It works like an electricity meter: the refill keeps a
 * running *reading* — the tokens one bucket would have earned since the
 * start had it never been full — and each bucket remembers the reading at
 * which it last settled. The difference is what the bucket earned since. A
 * rate change only restarts the meter's line at the new slope, so it reaches
 * every bucket at once in O(1), and credit earned before the change at the
 * old rate is kept.
 *
 * @module
 */

/** Refill speed and capacity, shared by every bucket that reads it. */
export interface Refill {
  /** Tokens added per second. */
  rate: number;
  /** The most tokens a bucket holds; a new bucket starts full. */
  readonly burst: number;
  /** When `rate` last changed (ms). */
  since: number;
  /** The meter reading at `since`. */
  readingAtSince: number;
}

/** One client's bucket. */
export interface Bucket {
  /** Tokens held when the bucket last settled; may be fractional. */
  tokens: number;
  /** The meter reading when the bucket last settled. */
  reading: number;
}

/**
 * Floating-point slack, in tokens. Readings are sums of products like
 * `0.3 + 0.7`, which can land a hair under a whole token; without the
 * slack a client would be refused with a wait of 1e-13 ms.
 */
const SLACK = 1e-9;

/**
 * Starts a refill at `rate` tokens per second, holding at most `burst`.
 *
 * @example
 * ```ts
 * const refill = createRefill(100, 150, clock.now());
 * ```
 */
export function createRefill(rate: number, burst: number, now: number): Refill {
  assertRate(rate);
  if (!Number.isFinite(burst) || burst < 1) {
    throw new RangeError(`burst must be a finite number ≥ 1, got ${burst}`);
  }
  return { rate, burst, since: now, readingAtSince: 0 };
}

/** The meter reading at `now`: tokens earned since the start by a bucket never full. */
export function meterReading(refill: Refill, now: number): number {
  // Multiply before dividing: integer rates and millisecond steps stay exact.
  return refill.readingAtSince + (refill.rate * (now - refill.since)) / 1000;
}

/**
 * Changes the refill rate from `now` on. Credit every bucket earned until
 * `now` at the old rate is kept, whether or not the bucket has settled.
 */
export function setRefillRate(refill: Refill, rate: number, now: number): void {
  assertRate(rate);
  refill.readingAtSince = meterReading(refill, now);
  refill.since = now;
  refill.rate = rate;
}

/** A full bucket reading `refill`, as of `now`. */
export function createBucket(refill: Refill, now: number): Bucket {
  return { tokens: refill.burst, reading: meterReading(refill, now) };
}

/**
 * Adds what the bucket earned since it last settled, up to `burst`, and
 * returns the tokens it now holds.
 */
export function settle(bucket: Bucket, refill: Refill, now: number): number {
  const reading = meterReading(refill, now);
  // A reading never goes backwards on a monotonic clock; if one did, the
  // bucket keeps what it has rather than losing tokens.
  if (reading > bucket.reading) {
    bucket.tokens = Math.min(refill.burst, bucket.tokens + (reading - bucket.reading));
    bucket.reading = reading;
  }
  return bucket.tokens;
}

/**
 * Takes one token. Returns `0` when a token was taken, otherwise the exact
 * milliseconds until one whole token is available at the current rate (the
 * bucket is left unchanged). A number rather than an object, so the hot
 * path allocates nothing.
 *
 * @example
 * ```ts
 * const wait = take(bucket, refill, clock.now());
 * if (wait > 0) return tooManyRequests(Math.ceil(wait / 1000));
 * ```
 */
export function take(bucket: Bucket, refill: Refill, now: number): number {
  const tokens = settle(bucket, refill, now);
  if (tokens >= 1 - SLACK) {
    bucket.tokens = Math.max(0, tokens - 1);
    return 0;
  }
  return ((1 - tokens) * 1000) / refill.rate;
}

function assertRate(rate: number): void {
  // A zero rate would never refill, and an infinite one never limits; both
  // are configuration mistakes, not modes.
  if (!Number.isFinite(rate) || rate <= 0) {
    throw new RangeError(`rate must be a finite number > 0, got ${rate}`);
  }
}
