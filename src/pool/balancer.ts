/**
 * Balancing policies: named strategies behind one small interface, chosen by
 * `load_balancing.algorithm`. A policy only chooses among the candidates it is
 * given; whether a backend may receive traffic at all is decided before.
 *
 * @module
 */

import type { Backend } from "./backend.ts";

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
  pick(candidates: readonly Backend[], ctx?: PickContext): Backend | undefined;
}

/**
 * Smooth weighted round-robin, as in nginx (`ngx_http_upstream_get_peer`):
 * every pick adds each candidate's weight to its running score, takes the
 * highest score and subtracts the total from it. Weights 5:1:1 give
 * `a a b a c a a` rather than `a a a a a b c`, so no backend gets a burst.
 *
 * `weightOf` supplies the effective weight (warm-up scales it).
 *
 * @example
 * ```ts
 * const wrr = smoothWeightedRoundRobin();
 * const picked = wrr.pick(backends);
 * ```
 */
export function smoothWeightedRoundRobin(
  weightOf: (b: Backend) => number = (b) => b.weight,
): Balancer {
  const current = new Map<string, number>();
  return {
    name: "weighted_round_robin",
    pick(candidates) {
      let best: Backend | undefined;
      let bestScore = -Infinity;
      let total = 0;
      for (const b of candidates) {
        const w = weightOf(b);
        // Zero, NaN or Infinity (a warm-up dividing by zero) would poison every score.
        if (!(w > 0 && Number.isFinite(w))) continue;
        const score = (current.get(b.id) ?? 0) + w;
        current.set(b.id, score);
        total += w;
        if (score > bestScore) [best, bestScore] = [b, score];
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
      const b = candidates[next % candidates.length];
      next = (next + 1) % 1_000_000_007;
      return b;
    },
  };
}

/** Builds the balancer named in the configuration. */
export function createBalancer(algorithm: string): Balancer {
  switch (algorithm) {
    case "weighted_round_robin":
      return smoothWeightedRoundRobin();
    case "round_robin":
      return roundRobin();
    default:
      throw new Error(`unknown balancing algorithm ${algorithm}`);
  }
}
