/**
 * The backend pool: the configured backends and the policy that picks
 * among those currently eligible.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import { type Backend, createBackend } from "./backend.ts";
import { type Balancer, createBalancer, type PickContext } from "./balancer.ts";

/** The backends and how one is chosen for a request. */
export interface Pool {
  /** Every configured backend, eligible or not. */
  readonly backends: readonly Backend[];
  /** Picks a backend for a request, or `undefined` when none is eligible. */
  pick(ctx: PickContext): Backend | undefined;
}

/** Options for {@linkcode createPool}. */
export interface PoolOptions {
  /** The selection policy; by default the one named in the configuration. */
  readonly balancer?: Balancer;
  /** Whether a backend may receive traffic now; all may by default. */
  readonly available?: (b: Backend) => boolean;
}

/** Builds the pool from the configuration. */
export function createPool(config: Config, options: PoolOptions = {}): Pool {
  const backends = config.backends.map(createBackend);
  const balancer = options.balancer ?? createBalancer(config.load_balancing.algorithm);
  const available = options.available;
  return {
    backends,
    pick(ctx) {
      const candidates = available ? backends.filter(available) : backends;
      return balancer.pick(candidates, ctx);
    },
  };
}
