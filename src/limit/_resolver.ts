/**
 * Peer address → bucket key (or exemption), remembered so that a client
 * seen before costs one `Map` lookup and no parsing or allocation.
 *
 * @module
 */

import { type Cidr, cidrContains, parseIp } from "../net/mod.ts";
import { keyOfParsed } from "./client_key.ts";

/** What a peer address resolves to: its bucket key, or `null` when exempt. */
export type Resolved = string | null;

/**
 * Resolves peer addresses to bucket keys, checking exemptions per address
 * (not per key: an exempt `2001:db8::1/128` must not be limited because a
 * neighbour in its /64 already has a bucket).
 *
 * Results are memoized in a map of at most `capacity` entries; when full,
 * the oldest entry is forgotten first. Forgetting only costs a re-parse, so
 * a plain first-in-first-out order is enough and a hit stays a bare `get`.
 * The order is kept in a ring of keys rather than read with
 * `memo.keys().next()`, which in V8 skips every deleted slot at the front
 * of the table and so grows slower with each eviction until a rehash.
 */
export class ClientResolver {
  readonly #ipv6Prefix: number;
  readonly #exempt: readonly Cidr[];
  readonly #capacity: number;
  readonly #memo = new Map<string, Resolved>();
  /** Memoized addresses in insertion order, as a ring of `capacity` slots. */
  readonly #order: string[] = [];
  #next = 0;

  constructor(ipv6Prefix: number, exempt: readonly Cidr[], capacity: number) {
    this.#ipv6Prefix = ipv6Prefix;
    this.#exempt = exempt;
    this.#capacity = capacity;
  }

  /** Entries currently remembered. */
  get size(): number {
    return this.#memo.size;
  }

  /** The bucket key for `ip`, or `null` when `ip` is exempt from limiting. */
  resolve(ip: string): Resolved {
    // Fast path for the common case: with no exemptions, text without a colon
    // or bracket is either a canonical IPv4 address (parseIp refuses leading
    // zeros and other spellings) or not an address; either way it is its own key.
    if (this.#exempt.length === 0 && !ip.includes(":") && !ip.startsWith("[")) return ip;
    const known = this.#memo.get(ip);
    if (known !== undefined) return known;
    const resolved = this.#compute(ip);
    // Every key enters the ring once and leaves the memo only through it, so
    // the memo never holds more than `capacity` entries.
    const evicted = this.#order[this.#next];
    if (evicted !== undefined) this.#memo.delete(evicted);
    this.#order[this.#next] = ip;
    this.#next = (this.#next + 1) % this.#capacity;
    this.#memo.set(ip, resolved);
    return resolved;
  }

  #compute(ip: string): Resolved {
    const bytes = parseIp(ip);
    if (bytes && this.#exempt.some((cidr) => cidrContains(cidr, bytes))) return null;
    return keyOfParsed(ip, bytes, this.#ipv6Prefix);
  }
}
