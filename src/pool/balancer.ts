/**
 * Balancing policies: named strategies behind one small interface, chosen by
 * `load_balancing.algorithm`. A policy only chooses among the candidates it is
 * given; whether a backend may receive traffic at all (health, breaker) is
 * decided before, by the pool.
 *
 * @module
 */

import { HashRing } from "./hash_ring.ts";

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
  /** The incoming request. */
  readonly request: Request;
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

/** Where the affinity key of a request comes from: `load_balancing.hash_key`. */
export type HashKeySource =
  | { readonly kind: "client_ip" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "cookie"; readonly name: string };

/** Parses `client_ip`, `header:NAME` or `cookie:NAME`; `undefined` when malformed. */
export function parseHashKey(text: string): HashKeySource | undefined {
  if (text === "client_ip") return { kind: "client_ip" };
  const m = /^(header|cookie):([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(text);
  if (!m) return undefined;
  return {
    kind: m[1] as "header" | "cookie",
    name: m[1] === "header" ? m[2]!.toLowerCase() : m[2]!,
  };
}

/** The affinity key of a request; falls back to the client address when the header or cookie is absent. */
export function hashKeyOf(source: HashKeySource, ctx: PickContext): string {
  if (source.kind === "header") return ctx.request.headers.get(source.name) ?? ctx.clientIp;
  if (source.kind === "cookie") {
    const cookies = ctx.request.headers.get("cookie") ?? "";
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

/** Builds the balancer named in the configuration. */
export function createBalancer(algorithm: string, hashKey = "client_ip"): Balancer {
  switch (algorithm) {
    case "weighted_round_robin":
      return smoothWeightedRoundRobin();
    case "round_robin":
      return roundRobin();
    case "least_connections":
      return leastConnections();
    case "consistent_hash": {
      const source = parseHashKey(hashKey);
      if (!source) throw new Error(`invalid hash key ${hashKey}`);
      return consistentHash(source);
    }
    default:
      throw new Error(`unknown balancing algorithm ${algorithm}`);
  }
}
