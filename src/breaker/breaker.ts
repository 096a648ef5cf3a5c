/**
 * A per-backend circuit breaker: `closed → open → half_open`, driven only by
 * the outcomes of real traffic (health checks have their own tracker).
 *
 * It is a pure state machine. It never starts a timer: the end of an open
 * period is noticed lazily, whenever someone asks for the state, so a test
 * moves a manual clock and nothing sleeps. Requests are admitted as
 * disposable permits; each permit remembers the episode it was taken in, so
 * an outcome that arrives after the breaker has moved on is ignored instead
 * of corrupting the new episode's counts.
 *
 * @module
 */

import type { Clock } from "../clock/mod.ts";

/** Where a breaker is in its cycle. */
export type BreakerState = "closed" | "open" | "half_open";

/** Tuning for {@linkcode CircuitBreaker}. Defaults belong to the configuration. */
export interface BreakerOptions {
  /** Consecutive failures, while closed, that open the breaker (≥ 1). */
  readonly failureThreshold: number;
  /** Successful probes, while half-open, that close the breaker (≥ 1). */
  readonly successThreshold: number;
  /** How long the breaker stays open before it lets probes through (≥ 0 ms). */
  readonly openTimeoutMs: number;
  /** Probes allowed in flight at once while half-open (≥ 1). */
  readonly halfOpenMaxRequests: number;
}

/** One change of state, as reported to the `onTransition` listener. */
export interface BreakerTransition {
  /** The state before. */
  readonly from: BreakerState;
  /** The state after. */
  readonly to: BreakerState;
  /** Why, in words, e.g. `5 consecutive failures` or `open timeout elapsed`. */
  readonly reason: string;
}

/**
 * Admission of one request. Report how it went with `success()` or
 * `failure()`; disposing without a report (the client went away) frees the
 * slot and counts nothing. Only the first report or disposal counts.
 */
export interface BreakerPermit extends Disposable {
  /** The request succeeded. */
  success(): void;
  /** The request failed in a way that counts against the backend. */
  failure(): void;
}

/** Plain, frozen view of a breaker for the dashboard, admin API and metrics. */
export interface BreakerSnapshot {
  /** Current state (after any due open → half-open transition). */
  readonly state: BreakerState;
  /** Failures in a row while closed; kept while open so readers see why, reset on close. */
  readonly consecutiveFailures: number;
  /** Probes in flight in the current half-open episode. */
  readonly halfOpenInFlight: number;
  /** Successful probes in the current half-open episode. */
  readonly halfOpenSuccesses: number;
  /** Clock time the current open period began; `null` while closed. */
  readonly openedAt: number | null;
  /** How many times the breaker has opened since it was created. */
  readonly opens: number;
}

type Outcome = "success" | "failure" | "released";

/**
 * A circuit breaker for one backend.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker(
 *   { failureThreshold: 5, successThreshold: 3, openTimeoutMs: 30_000, halfOpenMaxRequests: 1 },
 *   systemClock,
 *   (t) => events.record("breaker", `${t.from} → ${t.to}: ${t.reason}`),
 * );
 * using permit = breaker.acquire();
 * if (!permit) return unavailable();
 * const response = await forward(request);
 * response.status >= 500 ? permit.failure() : permit.success();
 * ```
 */
export class CircuitBreaker {
  #options: BreakerOptions;
  readonly #clock: Clock;
  readonly #onTransition: ((t: BreakerTransition) => void) | undefined;
  #state: BreakerState = "closed";
  // Bumped on every transition; a permit only counts in the episode it was taken in.
  #generation = 0;
  #consecutiveFailures = 0;
  #halfOpenInFlight = 0;
  #halfOpenSuccesses = 0;
  #openedAt: number | null = null;
  #opens = 0;

  constructor(
    options: BreakerOptions,
    clock: Clock,
    onTransition?: (t: BreakerTransition) => void,
  ) {
    atLeast("failureThreshold", options.failureThreshold, 1);
    atLeast("successThreshold", options.successThreshold, 1);
    atLeast("halfOpenMaxRequests", options.halfOpenMaxRequests, 1);
    atLeast("openTimeoutMs", options.openTimeoutMs, 0);
    this.#options = { ...options };
    this.#clock = clock;
    this.#onTransition = onTransition;
  }

  /** The current state; moves an expired open period to half-open first. */
  get state(): BreakerState {
    this.#expireOpen();
    return this.#state;
  }

  /** Whether {@linkcode CircuitBreaker.acquire} would admit a request now. Takes no slot. */
  available(): boolean {
    this.#expireOpen();
    switch (this.#state) {
      case "closed":
        return true;
      case "open":
        // [SECURITY] Cascading failure: a backend failing real requests gets
        // none until its open period is over, whatever its /health says.
        return false;
      case "half_open":
        return this.#halfOpenInFlight < this.#options.halfOpenMaxRequests;
    }
  }

  /**
   * Admits one request, or returns `undefined` when the breaker is open or
   * every half-open probe slot is taken.
   */
  acquire(): BreakerPermit | undefined {
    if (!this.available()) return undefined;
    if (this.#state === "half_open") this.#halfOpenInFlight++;
    return this.#permit(this.#generation);
  }

  /**
   * Applies new thresholds (a configuration reload) without losing state:
   * an open breaker stays open, counts carry over and are judged against the
   * new thresholds from the next outcome on.
   */
  reconfigure(options: BreakerOptions): void {
    atLeast("failureThreshold", options.failureThreshold, 1);
    atLeast("successThreshold", options.successThreshold, 1);
    atLeast("halfOpenMaxRequests", options.halfOpenMaxRequests, 1);
    atLeast("openTimeoutMs", options.openTimeoutMs, 0);
    this.#options = { ...options };
  }

  /** A frozen copy of the counters, after any due open → half-open transition. */
  snapshot(): BreakerSnapshot {
    this.#expireOpen();
    return Object.freeze({
      state: this.#state,
      consecutiveFailures: this.#consecutiveFailures,
      halfOpenInFlight: this.#halfOpenInFlight,
      halfOpenSuccesses: this.#halfOpenSuccesses,
      openedAt: this.#openedAt,
      opens: this.#opens,
    });
  }

  #permit(generation: number): BreakerPermit {
    let settled = false;
    const settle = (outcome: Outcome) => {
      // The first report or disposal wins; `using` disposes after a report, which must not count twice.
      if (settled) return;
      settled = true;
      this.#settle(generation, outcome);
    };
    return {
      success: () => settle("success"),
      failure: () => settle("failure"),
      [Symbol.dispose]: () => settle("released"),
    };
  }

  #settle(generation: number, outcome: Outcome): void {
    // A permit from an earlier episode: its slot and counts were reset by the
    // transition, so touching them now would corrupt the current episode.
    if (generation !== this.#generation) return;
    if (this.#state === "closed") {
      if (outcome === "success") this.#consecutiveFailures = 0;
      if (outcome !== "failure") return;
      const n = ++this.#consecutiveFailures;
      if (n >= this.#options.failureThreshold) {
        this.#transition("open", `${n} consecutive ${n === 1 ? "failure" : "failures"}`);
      }
    } else if (this.#state === "half_open") {
      this.#halfOpenInFlight--;
      if (outcome === "failure") {
        this.#transition("open", "probe failed");
      } else if (outcome === "success") {
        const n = ++this.#halfOpenSuccesses;
        if (n >= this.#options.successThreshold) {
          this.#transition("closed", `${n} ${n === 1 ? "probe" : "probes"} succeeded`);
        }
      }
    }
    // Open issues no permits, so a current-generation permit is never settled there.
  }

  #expireOpen(): void {
    if (this.#state !== "open" || this.#openedAt === null) return;
    if (this.#clock.now() - this.#openedAt >= this.#options.openTimeoutMs) {
      this.#transition("half_open", "open timeout elapsed");
    }
  }

  /** The only place state changes, so every change bumps the generation and is reported. */
  #transition(to: BreakerState, reason: string): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#halfOpenInFlight = 0;
    this.#halfOpenSuccesses = 0;
    if (to === "open") {
      this.#openedAt = this.#clock.now();
      this.#opens++;
    } else if (to === "closed") {
      this.#openedAt = null;
      this.#consecutiveFailures = 0;
    }
    // State is fully committed before the listener runs, so a listener that
    // reads the breaker sees the new state and one that throws leaves it whole.
    this.#onTransition?.(Object.freeze({ from, to, reason }));
  }
}

function atLeast(name: keyof BreakerOptions, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`breaker ${name} must be a number ≥ ${min}, got ${value}`);
  }
}
