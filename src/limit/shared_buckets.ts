/**
 * Per-client token buckets in a `SharedArrayBuffer`, so that the worker
 * isolates of one process (`server.workers`) limit a client together: its
 * requests spend one bucket whichever isolate its connection landed on, and
 * the rate is the configured rate + burst in total, not once per isolate.
 *
 * **Layout.** A fixed table of `slots` entries (the next power of two at or
 * above `rate_limit.max_clients`), each a lock word and four numbers: the
 * client key's 52-bit hash, tokens, meter reading and when it was last seen.
 * The refill (rate, burst, the meter's line) sits in a header behind a
 * sequence lock: the control isolate's adaptive loop writes it, every check
 * reads it. Bucket arithmetic is `bucket.ts`'s, applied to the slot while
 * its lock is held, so two isolates never spend the same token.
 *
 * **Keys.** A client key (an address, or an IPv6 network) is hashed to 52
 * bits; two clients share a bucket only on a hash collision, about one in
 * 10⁶ for 100 000 clients. Hashing keeps slots fixed-size, so the table
 * never allocates after it is built.
 *
 * **Memory bound and eviction.** A key probes {@linkcode PROBES} slots
 * from its hash (all of them: a purge leaves holes). A new key takes the
 * first empty one; when all are
 * taken, it evicts the least recently seen of them (counted in
 * `evictions`): as with `RateLimiter`, an evicted client comes back with a
 * full bucket. Two isolates evicting for the same new key at the same
 * instant may give it two buckets for a moment; the price of a lock per
 * slot rather than one for the table. Memory is `slots × 36` bytes (about
 * 4.7 MB for the default 100 000 clients), whatever the traffic.
 *
 * **Time.** Isolates do not share `performance.now()`'s origin, so the
 * table keeps time as `performance.timeOrigin + performance.now()`: the
 * same scale in every isolate of the process.
 *
 * @module
 */

import type { Cidr } from "../net/mod.ts";
import { ClientResolver } from "./_resolver.ts";
import { type Bucket, meterReading, type Refill, setRefillRate, take } from "./bucket.ts";
import { DEFAULT_IPV6_PREFIX } from "./client_key.ts";
import type { LimitDecision } from "./limiter.ts";

/** Slots a key may probe from its hash before it evicts one. */
export const PROBES = 16;

/** Int32 words of the header: the sequence lock, evictions, tracked clients. */
const SEQ = 0;
const EVICTIONS = 1;
const TRACKED = 2;
const HEADER_INTS = 4;
/** Float64 words of the header: rate, burst, since, reading at since. */
const HEADER_FLOATS = 4;
/** Float64 words per slot: key hash, tokens, reading, seen at. */
const SLOT_FLOATS = 4;

/** Milliseconds on one scale for every isolate of the process. */
export const processNow = (): number => performance.timeOrigin + performance.now();

/** The shared memory of one listener's buckets: what crosses `postMessage`. */
export interface SharedBucketsMemory {
  readonly buffer: SharedArrayBuffer;
  readonly slots: number;
}

/** The refill and table size a table is made with. */
export interface SharedBucketsSettings {
  /** Tokens each client earns per second (the adaptive loop moves it later). */
  readonly rate: number;
  /** Tokens a client may spend at once. */
  readonly burst: number;
  /** Clients the table must hold: it gets the next power of two of slots. */
  readonly maxClients: number;
}

/**
 * Allocates and initialises a table: done once per listener by the control
 * isolate, which hands the memory to every worker.
 */
export function createSharedBuckets(
  settings: SharedBucketsSettings,
  now: number = processNow(),
): SharedBucketsMemory {
  if (!Number.isFinite(settings.burst) || settings.burst < 1) {
    throw new RangeError(`burst must be a finite number ≥ 1, got ${settings.burst}`);
  }
  let slots = 1;
  while (slots < Math.max(settings.maxClients, PROBES)) slots *= 2;
  const bytes = 4 * (HEADER_INTS + slots) + 8 * (HEADER_FLOATS + SLOT_FLOATS * slots);
  const memory = { buffer: new SharedArrayBuffer(bytes), slots };
  const refill = new Float64Array(memory.buffer, 4 * (HEADER_INTS + slots), HEADER_FLOATS);
  refill.set([settings.rate, settings.burst, now, 0]);
  // Validates the rate as bucket.ts does.
  setRefillRate({ rate: 1, burst: 1, since: now, readingAtSince: 0 }, settings.rate, now);
  return memory;
}

/** A 52-bit hash of `key`, never 0 (0 marks an empty slot): two FNV-1a passes. */
function hashKey(key: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  const hash = (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
  return hash === 0 ? 1 : hash;
}

/** Options for {@linkcode SharedRateLimiter}. */
export interface SharedLimiterOptions {
  /** The table, from {@linkcode createSharedBuckets}. */
  readonly memory: SharedBucketsMemory;
  /** The cap reported as `maxClients` (`rate_limit.max_clients`). */
  readonly maxClients: number;
  /** IPv6 clients are grouped by this prefix length. Default 64. */
  readonly ipv6Prefix?: number;
  /** Networks never limited. Default none. */
  readonly exempt?: readonly Cidr[];
  /** Time on the process-wide scale; {@linkcode processNow} by default. */
  readonly now?: () => number;
}

const ALLOWED: LimitDecision = Object.freeze({ allowed: true });

/**
 * One isolate's view of a shared table: the `RateLimiter` surface the
 * request path and the snapshot use (`check`, `rate`, `setRate`, `purge`
 * and the counts), over memory every isolate sees.
 *
 * @example
 * ```ts
 * const memory = createSharedBuckets({ rate: 100, burst: 150, maxClients: 100_000 });
 * // in each worker, after postMessage(memory):
 * const limiter = new SharedRateLimiter({ memory, maxClients: 100_000 });
 * limiter.check("203.0.113.7"); // { allowed: true }
 * ```
 */
export class SharedRateLimiter {
  readonly #ints: Int32Array;
  readonly #locks: Int32Array;
  readonly #header: Float64Array;
  readonly #slots: Float64Array;
  readonly #mask: number;
  readonly #maxClients: number;
  readonly #resolver: ClientResolver;
  readonly #now: () => number;
  /** Scratch objects for bucket.ts's functions: a check allocates nothing. */
  readonly #refill: Refill = { rate: 1, burst: 1, since: 0, readingAtSince: 0 };
  readonly #bucket: Bucket = { tokens: 0, reading: 0 };

  constructor(options: SharedLimiterOptions) {
    const { buffer, slots } = options.memory;
    this.#ints = new Int32Array(buffer, 0, HEADER_INTS);
    this.#locks = new Int32Array(buffer, 4 * HEADER_INTS, slots);
    this.#header = new Float64Array(buffer, 4 * (HEADER_INTS + slots), HEADER_FLOATS);
    this.#slots = new Float64Array(
      buffer,
      4 * (HEADER_INTS + slots) + 8 * HEADER_FLOATS,
      SLOT_FLOATS * slots,
    );
    this.#mask = slots - 1;
    this.#maxClients = options.maxClients;
    this.#resolver = new ClientResolver(
      options.ipv6Prefix ?? DEFAULT_IPV6_PREFIX,
      [...(options.exempt ?? [])],
      options.maxClients,
    );
    this.#now = options.now ?? processNow;
  }

  /** Reads the refill into the scratch object, retrying while a writer is midway. */
  #readRefill(): Refill {
    const r = this.#refill;
    for (;;) {
      const before = Atomics.load(this.#ints, SEQ);
      if ((before & 1) === 0) {
        r.rate = this.#header[0]!;
        r.since = this.#header[2]!;
        r.readingAtSince = this.#header[3]!;
        (r as { burst: number }).burst = this.#header[1]!;
        if (Atomics.load(this.#ints, SEQ) === before) return r;
      }
    }
  }

  #lock(slot: number): void {
    while (Atomics.compareExchange(this.#locks, slot, 0, 1) !== 0) {
      // Held for a few arithmetic operations by another isolate.
    }
  }

  #unlock(slot: number): void {
    Atomics.store(this.#locks, slot, 0);
  }

  /**
   * Spends one token of the client at `clientIp` (the socket peer address).
   * Exempt clients are always allowed.
   */
  check(clientIp: string): LimitDecision {
    // [SECURITY] IP spoofing: the key is the socket peer, never a header.
    const key = this.#resolver.resolve(clientIp);
    if (key === null) return ALLOWED;
    const now = this.#now();
    const refill = this.#readRefill();
    const hash = hashKey(key);
    const data = this.#slots;
    const start = hash & this.#mask;
    for (;;) {
      // Every probe is read: a purge may have emptied a slot before the one holding the key.
      let empty = -1;
      let oldest = -1;
      let oldestSeen = Infinity;
      for (let i = 0; i < PROBES; i++) {
        const slot = (start + i) & this.#mask;
        const at = slot * SLOT_FLOATS;
        this.#lock(slot);
        const held = data[at]!;
        if (held === hash) return this.#spend(slot, refill, now);
        if (held === 0) {
          if (empty < 0) empty = slot;
        } else if (data[at + 3]! < oldestSeen) {
          oldestSeen = data[at + 3]!;
          oldest = slot;
        }
        this.#unlock(slot);
      }
      // [SECURITY] Memory exhaustion: the table is fixed; a flood of new
      // addresses evicts the least recently seen bucket of the neighbourhood.
      const target = empty >= 0 ? empty : oldest;
      const at = target * SLOT_FLOATS;
      this.#lock(target);
      const held = data[at]!;
      // Another isolate may have claimed it meanwhile, for this key or another.
      if (held === hash) return this.#spend(target, refill, now);
      if (empty >= 0 ? held === 0 : data[at + 3] === oldestSeen) {
        this.#claim(target, hash, refill, now);
        Atomics.add(this.#ints, empty >= 0 ? TRACKED : EVICTIONS, 1);
        return this.#spend(target, refill, now);
      }
      this.#unlock(target);
    }
  }

  /** A new client starts full, as if its bucket had always existed. Slot lock held. */
  #claim(slot: number, hash: number, refill: Refill, now: number): void {
    const at = slot * SLOT_FLOATS;
    this.#slots[at] = hash;
    this.#slots[at + 1] = refill.burst;
    this.#slots[at + 2] = meterReading(refill, now);
  }

  /** Takes a token from the slot's bucket and releases its lock. */
  #spend(slot: number, refill: Refill, now: number): LimitDecision {
    const at = slot * SLOT_FLOATS;
    const data = this.#slots;
    const bucket = this.#bucket;
    bucket.tokens = data[at + 1]!;
    bucket.reading = data[at + 2]!;
    const waitMs = take(bucket, refill, now);
    data[at + 1] = bucket.tokens;
    data[at + 2] = bucket.reading;
    data[at + 3] = now;
    this.#unlock(slot);
    if (waitMs === 0) return ALLOWED;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Tokens each client earns per second. */
  get rate(): number {
    return this.#readRefill().rate;
  }

  /**
   * Changes the rate for every client of every isolate at once; credit
   * earned at the old rate is kept. Written by one isolate (the control's
   * adaptive loop); the sequence lock lets readers see it whole.
   */
  setRate(rate: number): void {
    const refill = { ...this.#readRefill() };
    setRefillRate(refill, rate, this.#now());
    Atomics.add(this.#ints, SEQ, 1);
    this.#header[0] = refill.rate;
    this.#header[2] = refill.since;
    this.#header[3] = refill.readingAtSince;
    Atomics.add(this.#ints, SEQ, 1);
  }

  /** Tokens a client may spend at once. */
  get burst(): number {
    return this.#readRefill().burst;
  }

  /** The cap given at construction (`rate_limit.max_clients`). */
  get maxClients(): number {
    return this.#maxClients;
  }

  /** Buckets held now, every isolate's. */
  get trackedClients(): number {
    return Atomics.load(this.#ints, TRACKED);
  }

  /** Buckets evicted because their neighbourhood was full, since the table was made. */
  get evictions(): number {
    return Atomics.load(this.#ints, EVICTIONS);
  }

  /**
   * Empties slots whose client has not been seen for `idleMs` or longer and
   * returns how many; as `RateLimiter.purge`, a bucket idle for a whole
   * refill was full, and a new one is the same. Walks the whole table:
   * O(slots), run every `rate_limit.cleanup_interval`.
   */
  purge(idleMs: number): number {
    const now = this.#now();
    const data = this.#slots;
    let removed = 0;
    for (let slot = 0; slot <= this.#mask; slot++) {
      const at = slot * SLOT_FLOATS;
      if (data[at] === 0 || now - data[at + 3]! < idleMs) continue;
      this.#lock(slot);
      if (data[at] !== 0 && now - data[at + 3]! >= idleMs) {
        data[at] = 0;
        removed++;
      }
      this.#unlock(slot);
    }
    if (removed > 0) Atomics.sub(this.#ints, TRACKED, removed);
    return removed;
  }
}
