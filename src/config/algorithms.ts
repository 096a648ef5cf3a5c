/**
 * The balancing algorithms by configuration name. The names live here once:
 * the schema offers them to `load_balancing.algorithm`, and the pool's
 * balancer registry is keyed by {@linkcode Algorithm}, so a name without a
 * balancer, or a balancer without a name, does not compile.
 *
 * @module
 */

/** The names `load_balancing.algorithm` accepts, in the order errors and docs list them. */
export const ALGORITHMS = [
  "weighted_round_robin",
  "round_robin",
  "least_connections",
  "consistent_hash",
] as const;

/** A balancing algorithm's configuration name. */
export type Algorithm = (typeof ALGORITHMS)[number];

/** True when `name` is one of {@linkcode ALGORITHMS}. */
export function isAlgorithm(name: string): name is Algorithm {
  return (ALGORITHMS as readonly string[]).includes(name);
}
