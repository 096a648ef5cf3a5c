/**
 * A backend with its live state: health and warm-up, circuit breaker,
 * requests in progress, counters. The pool never removes a backend; it asks
 * {@linkcode BackendState.available} (Caddy's one predicate) and the
 * balancer only ever sees the ones that are.
 *
 * @module
 */

import {
  type BreakerMemory,
  type BreakerOptions,
  type BreakerTransition,
  CircuitBreaker,
} from "../breaker/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { PoolConfig } from "../config/mod.ts";
import {
  type Health,
  type HealthChange,
  type HealthThresholds,
  HealthTracker,
} from "../health/mod.ts";
import { BackendStats } from "../metrics/mod.ts";
import type { Backend } from "./backend.ts";
import type { Candidate } from "./balancer.ts";

/** Receives state changes of a backend, for logs and events. */
export interface StateListener {
  /** Health or warm-up changed. */
  onHealth?(state: BackendState, change: HealthChange): void;
  /** The circuit breaker changed state. */
  onBreaker?(state: BackendState, transition: BreakerTransition): void;
}

function thresholdsOf(config: PoolConfig): HealthThresholds {
  return {
    unhealthyThreshold: config.health_check.unhealthy_threshold,
    healthyThreshold: config.health_check.healthy_threshold,
  };
}

function breakerOptionsOf(config: PoolConfig): BreakerOptions {
  const cb = config.circuit_breaker;
  return {
    failureThreshold: cb.failure_threshold,
    successThreshold: cb.success_threshold,
    openTimeoutMs: cb.open_timeout,
    halfOpenMaxRequests: cb.half_open_max_requests,
  };
}

/** One backend and everything Aegis knows about it right now. */
export class BackendState implements Candidate {
  /** The configured backend (its weight may change on reload; its id never does). */
  backend: Backend;
  /** Active health checks and warm-up. */
  readonly health: HealthTracker;
  /** The circuit breaker over real traffic. */
  readonly breaker: CircuitBreaker;
  /** Counters and latency window. */
  readonly stats: BackendStats;

  constructor(
    backend: Backend,
    config: PoolConfig,
    clock: Clock,
    listener: StateListener = {},
    initialHealth: Health = "healthy",
    breakerMemory?: BreakerMemory,
  ) {
    this.backend = backend;
    this.health = new HealthTracker(thresholdsOf(config), initialHealth);
    this.breaker = new CircuitBreaker(
      breakerOptionsOf(config),
      clock,
      (t) => listener.onBreaker?.(this, t),
      breakerMemory,
    );
    this.stats = new BackendStats();
    this.#listener = listener;
  }

  readonly #listener: StateListener;

  /** The backend's identity within its pool: its configured URL. */
  get id(): string {
    return this.backend.id;
  }

  /** Effective weight: the configured weight scaled by warm-up (0 while unhealthy). */
  get weight(): number {
    return this.backend.weight * this.health.weightFraction;
  }

  /** Requests in progress. */
  get inFlight(): number {
    return this.stats.inFlight;
  }

  /**
   * Whether the backend may take a request now: healthy by its checks, and
   * its breaker closed (or half-open with a probe slot free). Both must
   * agree: a backend can pass `/health` while its real endpoints fail.
   */
  available(): boolean {
    return this.health.health === "healthy" && this.breaker.available();
  }

  /**
   * Takes a reloaded configuration: the new weight and thresholds apply,
   * while health, warm-up, breaker state and counters carry over.
   */
  reconfigure(backend: Backend, config: PoolConfig): void {
    if (backend.id !== this.backend.id) throw new Error("a backend keeps its id across reloads");
    this.backend = backend;
    this.health.reconfigure(thresholdsOf(config));
    this.breaker.reconfigure(breakerOptionsOf(config));
  }

  /** Feeds one health-check result, reporting any change to the listener. */
  observeHealth(ok: boolean): HealthChange | undefined {
    const change = this.health.observe(ok);
    if (change) this.#listener.onHealth?.(this, change);
    return change;
  }
}
