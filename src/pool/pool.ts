/**
 * The backend pool: the configured backends with their live state, and the
 * policy that picks among those currently available.
 *
 * @module
 */

import type { BreakerMemory } from "../breaker/mod.ts";
import { type Clock, systemClock } from "../clock/mod.ts";
import type { PoolConfig } from "../config/mod.ts";
import { type Backend, createBackend } from "./backend.ts";
import { type Balancer, BALANCERS, type PickContext } from "./balancer.ts";
import { BackendState, type StateListener } from "./state.ts";

/** The backends and how one is chosen for a request. */
export interface Pool {
  /** Every configured backend with its state, available or not. */
  readonly states: readonly BackendState[];
  /** Every configured backend. */
  readonly backends: readonly Backend[];
  /**
   * Picks an available backend for a request, skipping the ids in
   * `exclude` (backends already tried), or `undefined` when none is left.
   */
  pick(ctx: PickContext, exclude?: ReadonlySet<string>): BackendState | undefined;
}

/** Options for {@linkcode createPool}. */
export interface PoolOptions {
  /** The selection policy; by default the one named in the configuration. */
  readonly balancer?: Balancer;
  /** Extra condition for taking traffic, on top of health and breaker. */
  readonly available?: (b: BackendState) => boolean;
  /** Time for breakers. */
  readonly clock?: Clock;
  /** Receives health and breaker changes. */
  readonly listener?: StateListener;
  /**
   * The pool of the same name this one replaces (a reload): backends it
   * shares keep their state, so state is keyed by pool and URL; backends new
   * to it start unhealthy until their health checks pass.
   */
  readonly previous?: Pool;
  /**
   * Where a new backend's breaker keeps its counts, by backend id: memory
   * the worker isolates share (`server.workers`); its own when absent.
   */
  readonly breakerMemory?: (id: string) => BreakerMemory | undefined;
}

/**
 * Builds a pool from its configuration. At startup every backend starts
 * healthy at full weight, so traffic flows at once; on a reload, backends
 * carried over keep their state and new ones start unhealthy until
 * `health_check.healthy_threshold` checks have passed.
 */
export function createPool(config: PoolConfig, options: PoolOptions = {}): Pool {
  const clock = options.clock ?? systemClock;
  const previous = new Map(options.previous?.states.map((s) => [s.id, s]));
  const states = config.backends.map((b) => {
    const backend = createBackend(b);
    const kept = previous.get(backend.id);
    if (kept) {
      kept.reconfigure(backend, config);
      return kept;
    }
    const initial = options.previous ? "unhealthy" : "healthy";
    const memory = options.breakerMemory?.(backend.id);
    return new BackendState(backend, config, clock, options.listener, initial, memory);
  });
  const balancer = options.balancer ??
    BALANCERS[config.load_balancing.algorithm](config.load_balancing);
  const extra = options.available;
  return {
    states,
    backends: states.map((s) => s.backend),
    pick(ctx, exclude) {
      const candidates = states.filter((s) =>
        s.available() && (extra === undefined || extra(s)) && !exclude?.has(s.id)
      );
      return balancer.pick(candidates, ctx);
    },
  };
}
