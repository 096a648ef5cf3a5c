/**
 * Balancing policies: named strategies behind one small interface, chosen by
 * `load_balancing.algorithm`. A policy only chooses among the candidates it is
 * given; whether a backend may receive traffic at all (health, breaker) is
 * decided before, by the pool.
 *
 * @module
 */

import {
  type Algorithm,
  type HashKeySource,
  isAlgorithm,
  parseHashKey,
  type PoolConfig,
} from "../config/mod.ts";
import { HashRing } from "./hash_ring.ts";

// The hash-key syntax is configuration; these stay importable from here, where
// the policy that reads them lives.
export { type HashKeySource, parseHashKey };

/** What a policy may know about a backend. */
export interface Candidate {
  /** Stable identity (the configured URL). */
  readonly id: string;
  /** Weight to balance by: the configured weight, scaled by warm-up where that applies. */
  readonly weight: number;
  /** Requests in progress, for least-connections. */
  readonly inFlight?: number;
}

/** What a policy may consider about the request (affinity policies use it). */
export interface PickContext {
  /** The client's socket address. */
  readonly clientIp: string;
  /** The incoming request; absent on L4 listeners, which key affinity on the client address. */
  readonly request?: Request;
}

/** Chooses one backend among eligible candidates. */
export interface Balancer {
  /** The configuration name of the policy. */
  readonly name: string;
  /** Picks a candidate, or `undefined` when there are none. */
  pick<C extends Candidate>(candidates: readonly C[], ctx?: PickContext): C | undefined;
}

/** A usable weight: zero, negative, NaN and Infinity (a warm-up dividing by zero) are not. */
function usable(w: number): boolean {
  return w > 0 && Number.isFinite(w);
}

/**
 * Smooth weighted round-robin, as in nginx (`ngx_http_upstream_get_peer`):
 * every pick adds each candidate's weight to its running score, takes the
 * highest score and subtracts the total from it. Weights 5:1:1 give
 * `a a b a c a a` rather than `a a a a a b c`, so no backend gets a burst.
 *
 * @param weightOf the weight to use; the candidate's `weight` by default
 */
export function smoothWeightedRoundRobin(
  weightOf: (c: Candidate) => number = (c) => c.weight,
): Balancer {
  const current = new Map<string, number>();
  return {
    name: "weighted_round_robin",
    pick(candidates) {
      let best: (typeof candidates)[number] | undefined;
      let bestScore = -Infinity;
      let total = 0;
      for (const c of candidates) {
        const w = weightOf(c);
        if (!usable(w)) continue;
        const score = (current.get(c.id) ?? 0) + w;
        current.set(c.id, score);
        total += w;
        if (score > bestScore) [best, bestScore] = [c, score];
      }
      if (best) current.set(best.id, bestScore - total);
      return best;
    },
  };
}

/** Plain round-robin: every candidate in turn, weights ignored. */
export function roundRobin(): Balancer {
  let next = 0;
  return {
    name: "round_robin",
    pick(candidates) {
      if (candidates.length === 0) return undefined;
      const c = candidates[next % candidates.length];
      next = (next + 1) % 1_000_000_007;
      return c;
    },
  };
}

/**
 * Least connections: the candidate with the fewest requests in progress
 * relative to its weight, `(inFlight + 1) / weight`, so a weight-2 backend
 * carries twice the load of a weight-1 one. Ties go to whichever comes
 * first from a starting point that rotates on every pick, so idle backends
 * share the work instead of the first one taking it all.
 */
export function leastConnections(): Balancer {
  let start = 0;
  return {
    name: "least_connections",
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      start = (start + 1) % n;
      let best: (typeof candidates)[number] | undefined;
      let bestLoad = Infinity;
      for (let i = 0; i < n; i++) {
        const c = candidates[(start + i) % n]!;
        if (!usable(c.weight)) continue;
        const load = ((c.inFlight ?? 0) + 1) / c.weight;
        if (load < bestLoad) [best, bestLoad] = [c, load];
      }
      return best;
    },
  };
}

/** The affinity key of a request; falls back to the client address when the header or cookie is absent. */
export function hashKeyOf(source: HashKeySource, ctx: PickContext): string {
  const request = ctx.request;
  if (request === undefined) return ctx.clientIp;
  if (source.kind === "header") return request.headers.get(source.name) ?? ctx.clientIp;
  if (source.kind === "cookie") {
    const cookies = request.headers.get("cookie") ?? "";
    for (const part of cookies.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === source.name) return part.slice(eq + 1).trim();
    }
  }
  return ctx.clientIp;
}

/**
 * Consistent hashing for session affinity: the same key (client address,
 * header or cookie) keeps reaching the same backend, and when a backend
 * leaves, only the keys it held move (to their next backend on the ring);
 * every other key stays put. See {@linkcode HashRing}.
 */
export function consistentHash(source: HashKeySource = { kind: "client_ip" }): Balancer {
  const ring = new HashRing();
  return {
    name: "consistent_hash",
    pick(candidates, ctx) {
      if (candidates.length === 0) return undefined;
      ring.update(candidates);
      const key = ctx ? hashKeyOf(source, ctx) : "";
      const id = ring.lookup(key);
      return candidates.find((c) => c.id === id);
    },
  };
}

/** The `load_balancing` section: what a policy may read from the configuration. */
export type BalancingSettings = PoolConfig["load_balancing"];

/** Builds a fresh policy (with its own rotation or ring state) from its settings. */
export type BalancerFactory = (settings: BalancingSettings) => Balancer;

/**
 * Every policy by its configuration name: the one table the dispatcher
 * reads. Keyed by {@linkcode Algorithm}, the names configuration validation
 * accepts, so a name without a policy, or a policy under a name the
 * configuration does not offer, fails to compile.
 */
export const BALANCERS: { readonly [A in Algorithm]: BalancerFactory } = {
  weighted_round_robin: () => smoothWeightedRoundRobin(),
  round_robin: () => roundRobin(),
  least_connections: () => leastConnections(),
  consistent_hash: ({ hash_key }) => {
    // Parsed only here: the other policies ignore hash_key, whatever it says.
    const source = parseHashKey(hash_key);
    if (!source) throw new Error(`invalid hash key ${hash_key}`);
    return consistentHash(source);
  },
};

/**
 * Builds the balancer named in the configuration.
 *
 * @throws {Error} for a name not in {@linkcode BALANCERS}, or a malformed
 * hash key for `consistent_hash` (configuration validation refuses both first)
 *
 * @example
 * ```ts
 * const balancer = createBalancer("consistent_hash", "cookie:session");
 * ```
 */
export function createBalancer(algorithm: string, hashKey = "client_ip"): Balancer {
  if (!isAlgorithm(algorithm)) throw new Error(`unknown balancing algorithm ${algorithm}`);
  return BALANCERS[algorithm]({ algorithm, hash_key: hashKey });
}
