/**
 * The thin runner around {@linkcode evaluate}: every interval it reads the
 * current P95, steps the controller, and pushes a changed rate out. It owns
 * the only timer of the adaptive loop; the decision stays pure.
 *
 * @module
 */

import type { Clock, Timer } from "../clock/mod.ts";
import {
  type AdaptiveChange,
  type AdaptiveSettings,
  type AdaptiveState,
  evaluate,
} from "./adaptive.ts";

/** Options for {@linkcode AdaptiveLoop}. */
export interface AdaptiveLoopOptions {
  /** Time between evaluations, ms (`adaptive.evaluation_interval`). */
  readonly intervalMs: number;
  /** Time source and timers. */
  readonly clock: Clock;
  /** Controller tuning. */
  readonly settings: AdaptiveSettings;
  /** The rate in force when the loop starts; normally the limiter's rate. */
  readonly initialRate: number;
  /** The current P95 latency in ms, or `undefined` when there are no samples. */
  readonly observe: () => number | undefined;
  /** Puts a new rate into force (e.g. `RateLimiter.setRate`); called only on change. */
  readonly apply: (rate: number) => void;
  /** Told about each change after it is applied (event log, dashboard). */
  readonly onChange?: (change: AdaptiveChange) => void;
}

/**
 * Runs the adaptive controller on a timer. Stops when the signal given to
 * `start()` aborts or when disposed, leaving no timer behind.
 *
 * @example
 * ```ts
 * const loop = new AdaptiveLoop({
 *   intervalMs: 10_000,
 *   clock: systemClock,
 *   settings,
 *   initialRate: limiter.rate,
 *   observe: () => metrics.snapshot().p95,
 *   apply: (rate) => limiter.setRate(rate),
 *   onChange: (c) => events.record("rate", `rate ${c.from} → ${c.to}`, { ...c }),
 * });
 * loop.start(root.signal);
 * ```
 */
export class AdaptiveLoop implements Disposable {
  readonly #options: AdaptiveLoopOptions;
  #state: AdaptiveState;
  #timer: Timer | undefined;
  #signal: AbortSignal | undefined;
  #stopped = false;
  readonly #onAbort = () => this.#stop();

  constructor(options: AdaptiveLoopOptions) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
      throw new RangeError(`intervalMs must be a finite number > 0, got ${options.intervalMs}`);
    }
    this.#options = options;
    this.#state = Object.freeze({ rate: options.initialRate, reducedLastTime: false });
  }

  /** The controller's state after the latest evaluation (a frozen copy). */
  get state(): AdaptiveState {
    return this.#state;
  }

  /** True while evaluations are scheduled. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Evaluates every `intervalMs` until `signal` aborts. The first evaluation
   * is one interval from now: the latency window needs time to fill.
   * Starting twice, or after the loop stopped, is an error.
   */
  start(signal: AbortSignal): void {
    if (this.#signal || this.#stopped) throw new Error("AdaptiveLoop can only be started once");
    this.#signal = signal;
    if (signal.aborted) {
      this.#stop();
      return;
    }
    signal.addEventListener("abort", this.#onAbort, { once: true });
    this.#arm();
  }

  /**
   * Runs one evaluation now: observe, step, and on a change apply the new
   * rate and report it. Returns the change, if any.
   */
  tick(): AdaptiveChange | undefined {
    const { observe, settings, apply, onChange } = this.#options;
    const p95 = observe();
    const { state, change } = evaluate(this.#state, p95, settings);
    // evaluate() returns fresh objects, so freezing them touches nothing shared.
    this.#state = Object.freeze(state);
    if (!change) return undefined;
    Object.freeze(change);
    apply(change.to);
    onChange?.(change);
    return change;
  }

  /** Stops the loop; the same as aborting the signal. */
  [Symbol.dispose](): void {
    this.#stop();
  }

  #arm(): void {
    this.#timer = this.#options.clock.setTimer(this.#options.intervalMs, () => {
      this.#timer = undefined;
      if (this.#stopped) return;
      // Re-arm even when an evaluation throws: one bad reading must not end
      // the loop for the life of the process. The error still propagates.
      try {
        this.tick();
      } finally {
        if (!this.#stopped) this.#arm();
      }
    });
  }

  #stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
