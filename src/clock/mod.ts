/**
 * Time for everything in Aegis that waits or measures.
 *
 * State machines never read the system time themselves: they take `now` from a
 * {@linkcode Clock}, so tests move a manual clock instead of sleeping.
 *
 * @module
 */

/** A cancellable timer started by a {@linkcode Clock}. */
export interface Timer {
  /** Stops the timer; calling it again, or after it fired, does nothing. */
  cancel(): void;
}

/** A monotonic clock with timers. */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds unless cancelled first. */
  setTimer(ms: number, fn: () => void): Timer;
}

/**
 * The process clock: `performance.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * const started = systemClock.now();
 * const timer = systemClock.setTimer(100, () => console.log("late"));
 * timer.cancel();
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const id = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(id) };
  },
};

export { type Watch, Watchdog, type WatchdogOptions } from "./watchdog.ts";
