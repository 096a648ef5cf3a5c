/**
 * Per-client rate limiting: one token bucket per client key, one refill rate
 * shared by all of them, and a hard cap on how many buckets exist. For
 * limits shared by a fleet, the limiter also counts what it admitted per
 * client and takes debits from the fleet's count (`shared_sync.ts`), so the
 * request path never waits on anything but its own buckets.
 *
 * @module
 */

import type { Clock } from "../clock/mod.ts";
import type { Cidr } from "../net/mod.ts";
import { LruMap } from "./_lru.ts";
import { ClientResolver } from "./_resolver.ts";
import {
  type Bucket,
  createRefill,
  meterReading,
  type Refill,
  setRefillRate,
  settle,
  take,
} from "./bucket.ts";
import { DEFAULT_IPV6_PREFIX } from "./client_key.ts";

/** Options for {@linkcode RateLimiter}. */
export interface LimiterOptions {
  /** Tokens each client earns per second; changed later with `setRate`. */
  readonly rate: number;
  /** Tokens a client may spend at once; a new client starts with this many. */
  readonly burst: number;
  /** The most buckets kept at once (and the most remembered addresses). */
  readonly maxClients: number;
  /** IPv6 clients are grouped by this prefix length (see `clientKey`). Default 64. */
  readonly ipv6Prefix?: number;
  /** Networks never limited: no bucket is created for them. Default none. */
  readonly exempt?: readonly Cidr[];
  /** Time source. */
  readonly clock: Clock;
  /**
   * Count admissions per client for a shared store to collect with
   * `takeAdmissions()`. Default false: nothing is counted.
   */
  readonly countAdmissions?: boolean;
}

/** The answer for one request. */
export type LimitDecision =
  | { readonly allowed: true }
  | {
    readonly allowed: false;
    /** Whole seconds until one token is available, at least 1 (for `Retry-After`). */
    readonly retryAfterSeconds: number;
  };

/**
 * What the request path, the adaptive loop and snapshots use of a limiter:
 * a {@linkcode RateLimiter}'s own buckets, or a `SharedRateLimiter`'s in
 * memory the worker isolates share (`shared_buckets.ts`).
 */
export type ClientLimiter = Pick<
  RateLimiter,
  "check" | "rate" | "setRate" | "burst" | "maxClients" | "trackedClients" | "evictions" | "purge"
>;

/** A bucket plus when its client was last seen, for eviction and purging. */
interface Entry extends Bucket {
  seenAt: number;
}

const ALLOWED: LimitDecision = Object.freeze({ allowed: true });

/** Refusals for 1…60 s are made once and reused, so refusing allocates nothing. */
const REFUSED: readonly LimitDecision[] = Array.from(
  { length: 61 },
  (_, s): LimitDecision => Object.freeze({ allowed: false, retryAfterSeconds: s }),
);

/**
 * Token-bucket rate limiter keyed by client address.
 *
 * **Memory bound.** At most `maxClients` buckets exist. When a new client
 * arrives at the cap, the *least recently seen* client's bucket is evicted.
 * Buckets are kept in order of last sight (see `_lru.ts` for why that is a
 * linked list beside a `Map` rather than a `Map` re-inserted on each use),
 * so the oldest is at hand and eviction is O(1). An evicted client comes
 * back with a full bucket: that is the price of bounded memory. It favours
 * an attacker only when they control more than `maxClients` keys (with
 * IPv6 grouped by /64, more than `maxClients` networks): anyone seen more
 * recently than the oldest of those keys keeps their bucket.
 *
 * `check()` is O(1) amortized and allocates nothing when the client's
 * bucket and address are already known.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ rate: 100, burst: 150, maxClients: 100_000, clock: systemClock });
 * const decision = limiter.check(info.remoteAddr.hostname);
 * if (!decision.allowed) {
 *   return new Response('{"error":"too many requests"}', {
 *     status: 429,
 *     headers: { "retry-after": String(decision.retryAfterSeconds) },
 *   });
 * }
 * ```
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #refill: Refill;
  readonly #maxClients: number;
  readonly #resolver: ClientResolver;
  readonly #buckets = new LruMap<Entry>();
  #evictions = 0;
  /** Admissions since the last `takeAdmissions()`, by key; absent when not counting. */
  #admissions: Map<string, number> | undefined;

  constructor(options: LimiterOptions) {
    const { maxClients, ipv6Prefix = DEFAULT_IPV6_PREFIX, exempt = [], clock } = options;
    if (!Number.isSafeInteger(maxClients) || maxClients < 1) {
      throw new RangeError(`maxClients must be a whole number ≥ 1, got ${maxClients}`);
    }
    if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 0 || ipv6Prefix > 128) {
      throw new RangeError(`ipv6Prefix must be a whole number from 0 to 128, got ${ipv6Prefix}`);
    }
    this.#clock = clock;
    this.#refill = createRefill(options.rate, options.burst, clock.now());
    this.#maxClients = maxClients;
    this.#resolver = new ClientResolver(ipv6Prefix, [...exempt], maxClients);
    if (options.countAdmissions) this.#admissions = new Map();
  }

  /**
   * Spends one token of the client at `clientIp` (the socket peer address,
   * never a header). Exempt clients are always allowed.
   */
  check(clientIp: string): LimitDecision {
    // [SECURITY] IP spoofing: the key is the socket peer the listener saw,
    // never X-Forwarded-For, which any client can write.
    const key = this.#resolver.resolve(clientIp);
    if (key === null) return ALLOWED;
    const now = this.#clock.now();
    let entry = this.#buckets.use(key);
    if (entry) {
      entry.seenAt = now;
    } else {
      // [SECURITY] Memory exhaustion: a flood of new addresses evicts the least
      // recently seen bucket instead of growing the map without bound.
      if (this.#buckets.size >= this.#maxClients && this.#buckets.dropOldest()) this.#evictions++;
      // A new client starts full, as if its bucket had always existed.
      entry = { tokens: this.#refill.burst, reading: meterReading(this.#refill, now), seenAt: now };
      this.#buckets.add(key, entry);
    }
    const waitMs = take(entry, this.#refill, now);
    if (waitMs === 0) {
      if (this.#admissions) this.#count(this.#admissions, key);
      return ALLOWED;
    }
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return REFUSED[seconds] ?? { allowed: false, retryAfterSeconds: seconds };
  }

  #count(admissions: Map<string, number>, key: string): void {
    const counted = admissions.get(key);
    if (counted !== undefined) admissions.set(key, counted + 1);
    // [SECURITY] Memory exhaustion: the counts wait for the next sync, so
    // they are capped like the buckets; a client past the cap goes uncounted
    // in this interval (its own bucket still limits it here).
    else if (admissions.size < this.#maxClients) admissions.set(key, 1);
  }

  /**
   * The admissions counted since the previous call, by client key, and a
   * fresh count from now on. Empty unless built with `countAdmissions`.
   */
  takeAdmissions(): Map<string, number> {
    const taken = this.#admissions ?? new Map<string, number>();
    if (this.#admissions) this.#admissions = new Map();
    return taken;
  }

  /**
   * Lowers the bucket of client `key` to `fleetTokens`, what the fleet's
   * shared bucket for it held when last read, less what this limiter has
   * admitted for it since (counted, not yet taken). Never raises a bucket:
   * the fleet's count only ever takes back what other instances spent. A
   * negative value is a debt the bucket refills out of before it admits
   * again. Does nothing for a client without a bucket here.
   */
  debit(key: string, fleetTokens: number): void {
    const entry = this.#buckets.peek(key);
    if (!entry) return;
    const tokens = settle(entry, this.#refill, this.#clock.now());
    const since = this.#admissions?.get(key) ?? 0;
    entry.tokens = Math.min(tokens, fleetTokens - since);
  }

  /** Tokens each client earns per second. */
  get rate(): number {
    return this.#refill.rate;
  }

  /**
   * Changes the rate for every client at once. Credit already earned at the
   * old rate is kept; from now on buckets refill at `rate`.
   */
  setRate(rate: number): void {
    setRefillRate(this.#refill, rate, this.#clock.now());
  }

  /** Tokens a client may spend at once. */
  get burst(): number {
    return this.#refill.burst;
  }

  /** The bucket cap given at construction. */
  get maxClients(): number {
    return this.#maxClients;
  }

  /** Buckets currently held. */
  get trackedClients(): number {
    return this.#buckets.size;
  }

  /** Buckets evicted so far because the cap was reached (purges not counted). */
  get evictions(): number {
    return this.#evictions;
  }

  /**
   * Removes buckets whose client has not been seen for `idleMs` or longer
   * and returns how many were removed. Once `idleMs` is at least the time to
   * refill a whole burst (`burst / rate` seconds), a removed bucket was full,
   * and a full bucket is indistinguishable from the new one its client gets
   * on return; shorter idle times forgive part of a client's debt.
   *
   * Costs O(removed): buckets are in order of last sight, so the walk stops
   * at the first one still active.
   */
  purge(idleMs: number): number {
    const now = this.#clock.now();
    let removed = 0;
    for (let oldest = this.#buckets.oldest(); oldest; oldest = this.#buckets.oldest()) {
      if (now - oldest.seenAt < idleMs) break;
      this.#buckets.dropOldest();
      removed++;
    }
    return removed;
  }
}
