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

/** The breaker's counts, as numbers in {@linkcode BreakerMemory.cells}. */
const STATE = 0;
const GENERATION = 1;
const FAILURES = 2;
const HALF_OPEN_IN_FLIGHT = 3;
const HALF_OPEN_SUCCESSES = 4;
/** `NaN` while closed. */
const OPENED_AT = 5;
const OPENS = 6;
/** How many numbers a breaker keeps. */
const BREAKER_CELLS = 7;

const STATES: readonly BreakerState[] = ["closed", "open", "half_open"];
const CODE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

/**
 * Where a breaker keeps its counts. A breaker has its own by default; the
 * worker isolates of one process (`server.workers`) share one per backend
 * (`sharedBreakerMemory`), so every isolate's failures count toward one
 * threshold and a half-open probe slot is taken once for the process.
 */
export interface BreakerMemory {
  /** {@linkcode BREAKER_CELLS} numbers. */
  readonly cells: Float64Array;
  /** Takes the cells for one decision: a lock across isolates; nothing for a breaker's own. */
  lock(): void;
  /** Releases them. */
  unlock(): void;
  /** Time on the scale every isolate sharing the cells reads; the breaker's clock when absent. */
  readonly now?: () => number;
}

/** Memory of a breaker's own: no lock needed, a single isolate runs it. */
function ownMemory(): BreakerMemory {
  const cells = new Float64Array(BREAKER_CELLS);
  cells[OPENED_AT] = NaN;
  return { cells, lock() {}, unlock() {} };
}

/** Bytes of shared memory one breaker needs: a lock word, then its cells. */
const SHARED_BREAKER_BYTES = 8 + 8 * BREAKER_CELLS;

/** Shared memory for one backend's breaker, closed: made once, handed to every isolate. */
export function createSharedBreaker(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(SHARED_BREAKER_BYTES);
  new Float64Array(buffer, 8, BREAKER_CELLS)[OPENED_AT] = NaN;
  return buffer;
}

/**
 * A breaker's cells in `buffer` (from {@linkcode createSharedBreaker}),
 * locked with `Atomics` so that isolates sharing it take turns; time is
 * `now`, which must read the same scale in every isolate.
 */
export function sharedBreakerMemory(buffer: SharedArrayBuffer, now: () => number): BreakerMemory {
  const lock = new Int32Array(buffer, 0, 1);
  return {
    cells: new Float64Array(buffer, 8, BREAKER_CELLS),
    lock() {
      while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) {
        // Held for a few arithmetic operations by another isolate.
      }
    },
    unlock() {
      Atomics.store(lock, 0, 0);
    },
    now,
  };
}

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
  readonly #now: () => number;
  readonly #onTransition: ((t: BreakerTransition) => void) | undefined;
  readonly #memory: BreakerMemory;
  readonly #cells: Float64Array;
  /** A transition made under the lock, reported once it is released. */
  #pending: BreakerTransition | undefined;

  constructor(
    options: BreakerOptions,
    clock: Clock,
    onTransition?: (t: BreakerTransition) => void,
    memory: BreakerMemory = ownMemory(),
  ) {
    atLeast("failureThreshold", options.failureThreshold, 1);
    atLeast("successThreshold", options.successThreshold, 1);
    atLeast("halfOpenMaxRequests", options.halfOpenMaxRequests, 1);
    atLeast("openTimeoutMs", options.openTimeoutMs, 0);
    this.#options = { ...options };
    this.#now = memory.now ?? (() => clock.now());
    this.#onTransition = onTransition;
    this.#memory = memory;
    this.#cells = memory.cells;
  }

  /** The current state; moves an expired open period to half-open first. */
  get state(): BreakerState {
    this.#memory.lock();
    this.#expireOpen();
    const state = STATES[this.#cells[STATE]!]!;
    this.#release();
    return state;
  }

  /** Whether {@linkcode CircuitBreaker.acquire} would admit a request now. Takes no slot. */
  available(): boolean {
    this.#memory.lock();
    const ok = this.#available();
    this.#release();
    return ok;
  }

  #available(): boolean {
    this.#expireOpen();
    switch (this.#cells[STATE]) {
      case CODE.closed:
        return true;
      case CODE.open:
        // [SECURITY] Cascading failure: a backend failing real requests gets
        // none until its open period is over, whatever its /health says.
        return false;
      default:
        return this.#cells[HALF_OPEN_IN_FLIGHT]! < this.#options.halfOpenMaxRequests;
    }
  }

  /**
   * Admits one request, or returns `undefined` when the breaker is open or
   * every half-open probe slot is taken.
   */
  acquire(): BreakerPermit | undefined {
    this.#memory.lock();
    const ok = this.#available();
    if (ok && this.#cells[STATE] === CODE.half_open) this.#cells[HALF_OPEN_IN_FLIGHT]!++;
    const generation = this.#cells[GENERATION]!;
    this.#release();
    return ok ? this.#permit(generation) : undefined;
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
    this.#memory.lock();
    this.#expireOpen();
    const c = this.#cells;
    const snapshot = Object.freeze({
      state: STATES[c[STATE]!]!,
      consecutiveFailures: c[FAILURES]!,
      halfOpenInFlight: c[HALF_OPEN_IN_FLIGHT]!,
      halfOpenSuccesses: c[HALF_OPEN_SUCCESSES]!,
      openedAt: Number.isNaN(c[OPENED_AT]!) ? null : c[OPENED_AT]!,
      opens: c[OPENS]!,
    });
    this.#release();
    return snapshot;
  }

  #permit(generation: number): BreakerPermit {
    let settled = false;
    const settle = (outcome: Outcome) => {
      // The first report or disposal wins; `using` disposes after a report, which must not count twice.
      if (settled) return;
      settled = true;
      this.#memory.lock();
      this.#settle(generation, outcome);
      this.#release();
    };
    return {
      success: () => settle("success"),
      failure: () => settle("failure"),
      [Symbol.dispose]: () => settle("released"),
    };
  }

  #settle(generation: number, outcome: Outcome): void {
    const c = this.#cells;
    // A permit from an earlier episode: its slot and counts were reset by the
    // transition, so touching them now would corrupt the current episode.
    if (generation !== c[GENERATION]) return;
    if (c[STATE] === CODE.closed) {
      if (outcome === "success") c[FAILURES] = 0;
      if (outcome !== "failure") return;
      const n = ++c[FAILURES]!;
      if (n >= this.#options.failureThreshold) {
        this.#transition("open", `${n} consecutive ${n === 1 ? "failure" : "failures"}`);
      }
    } else if (c[STATE] === CODE.half_open) {
      c[HALF_OPEN_IN_FLIGHT]!--;
      if (outcome === "failure") {
        this.#transition("open", "probe failed");
      } else if (outcome === "success") {
        const n = ++c[HALF_OPEN_SUCCESSES]!;
        if (n >= this.#options.successThreshold) {
          this.#transition("closed", `${n} ${n === 1 ? "probe" : "probes"} succeeded`);
        }
      }
    }
    // Open issues no permits, so a current-generation permit is never settled there.
  }

  #expireOpen(): void {
    const c = this.#cells;
    if (c[STATE] !== CODE.open || Number.isNaN(c[OPENED_AT]!)) return;
    if (this.#now() - c[OPENED_AT]! >= this.#options.openTimeoutMs) {
      this.#transition("half_open", "open timeout elapsed");
    }
  }

  /** The only place state changes, so every change bumps the generation and is reported. */
  #transition(to: BreakerState, reason: string): void {
    const c = this.#cells;
    const from = STATES[c[STATE]!]!;
    c[STATE] = CODE[to];
    c[GENERATION]!++;
    c[HALF_OPEN_IN_FLIGHT] = 0;
    c[HALF_OPEN_SUCCESSES] = 0;
    if (to === "open") {
      c[OPENED_AT] = this.#now();
      c[OPENS]!++;
    } else if (to === "closed") {
      c[OPENED_AT] = NaN;
      c[FAILURES] = 0;
    }
    this.#pending = Object.freeze({ from, to, reason });
  }

  /**
   * Releases the cells, then reports a transition made meanwhile: state is
   * fully committed first, so a listener that reads the breaker sees the new
   * state (and takes the lock again without waiting on itself), and one that
   * throws leaves it whole.
   */
  #release(): void {
    this.#memory.unlock();
    const transition = this.#pending;
    if (transition === undefined) return;
    this.#pending = undefined;
    this.#onTransition?.(transition);
  }
}

function atLeast(name: keyof BreakerOptions, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`breaker ${name} must be a number ≥ ${min}, got ${value}`);
  }
}
