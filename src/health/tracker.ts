/**
 * The health state of one backend, as a pure state machine over probe
 * results: `unhealthy_threshold` consecutive failures mark it unhealthy,
 * `healthy_threshold` consecutive successes mark it healthy again, and a
 * backend back from unhealthy warms up: 25%, 50%, 75%, then 100% of its
 * weight over the following successful checks, so it is not flooded before
 * it has settled (seed: "warm-up on recovery").
 *
 * The probe and the schedule live elsewhere (`checker.ts`); this only
 * decides.
 *
 * @module
 */

/** Whether a backend may receive traffic as far as health checks go. */
export type Health = "healthy" | "unhealthy";

/** Thresholds from `health_check`. */
export interface HealthThresholds {
  /** Consecutive failures that mark a healthy backend unhealthy. */
  readonly unhealthyThreshold: number;
  /** Consecutive successes that mark an unhealthy backend healthy. */
  readonly healthyThreshold: number;
}

/** A change of health or warm-up, reported by {@linkcode HealthTracker.observe}. */
export interface HealthChange {
  readonly from: Health;
  readonly to: Health;
  /** Warm-up step after the change (see {@linkcode WARMUP_STEPS}). */
  readonly warmupStep: number;
  /** Why, in words. */
  readonly reason: string;
}

/** Warm-up steps: a recovering backend gets step/4 of its weight; 4 is full weight. */
export const WARMUP_STEPS = 4;

/** Consecutive-result counting with warm-up. */
export class HealthTracker {
  #t: HealthThresholds;
  #health: Health;
  #failures = 0;
  #successes = 0;
  #warmup: number;

  /** @param initial the state before any probe; `healthy` starts at full weight */
  constructor(thresholds: HealthThresholds, initial: Health = "healthy") {
    this.#t = thresholds;
    this.#health = initial;
    this.#warmup = initial === "healthy" ? WARMUP_STEPS : 0;
  }

  /** Current health. */
  get health(): Health {
    return this.#health;
  }

  /** Warm-up step, 0 (unhealthy) to {@linkcode WARMUP_STEPS} (full weight). */
  get warmupStep(): number {
    return this.#warmup;
  }

  /** The share of its weight the backend gets now: 0, 0.25, 0.5, 0.75 or 1. */
  get weightFraction(): number {
    return this.#health === "healthy" ? this.#warmup / WARMUP_STEPS : 0;
  }

  /** Consecutive failures so far (resets on success). */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /**
   * Takes the health and warm-up another tracker decided: a worker isolate
   * follows the control isolate's checks (`server.workers`) instead of
   * probing. Counts restart, as the checks they count are not this one's.
   */
  adopt(health: Health, warmupStep: number): void {
    this.#health = health;
    this.#warmup = health === "healthy" ? Math.min(WARMUP_STEPS, Math.max(1, warmupStep)) : 0;
    this.#failures = 0;
    this.#successes = 0;
  }

  /** Applies new thresholds (a configuration reload), keeping health, warm-up and counts. */
  reconfigure(thresholds: HealthThresholds): void {
    this.#t = { ...thresholds };
  }

  /**
   * Records one probe result. Returns the change it caused, if any: a health
   * flip, or a warm-up step while recovering.
   */
  observe(ok: boolean): HealthChange | undefined {
    if (!ok) {
      this.#successes = 0;
      this.#failures++;
      if (this.#health === "healthy" && this.#failures >= this.#t.unhealthyThreshold) {
        this.#health = "unhealthy";
        this.#warmup = 0;
        return {
          from: "healthy",
          to: "unhealthy",
          warmupStep: 0,
          reason: `${this.#failures} consecutive failed checks`,
        };
      }
      return undefined;
    }
    this.#failures = 0;
    this.#successes++;
    if (this.#health === "unhealthy") {
      if (this.#successes < this.#t.healthyThreshold) return undefined;
      this.#health = "healthy";
      this.#warmup = 1;
      return {
        from: "unhealthy",
        to: "healthy",
        warmupStep: 1,
        reason: `${this.#successes} consecutive successful checks; warming up at 25%`,
      };
    }
    if (this.#warmup < WARMUP_STEPS) {
      this.#warmup++;
      return {
        from: "healthy",
        to: "healthy",
        warmupStep: this.#warmup,
        reason: `warming up at ${(this.#warmup / WARMUP_STEPS) * 100}%`,
      };
    }
    return undefined;
  }
}
