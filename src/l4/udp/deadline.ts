/**
 * One timer for many deadlines: it is set for the earliest deadline it has
 * been told of, and moved only to an earlier one. Whoever it wakes finds
 * what is due, then tells it the next deadline. The session table needs no
 * timer per session this way, and touching a session (which only moves its
 * deadline later) costs no timer work at all: the timer just wakes early
 * once and is set again.
 *
 * @module
 */

import type { Clock, Timer } from "../../clock/mod.ts";

/**
 * Deadlines closer together than this are handled in one wake-up, so a
 * table whose sessions expire a millisecond apart wakes ten times a
 * second, not a thousand.
 */
export const DEADLINE_SLACK_MS = 100;

/** A timer that wakes its owner at (or, by up to the slack, after) the earliest deadline given. */
export class DeadlineTimer {
  readonly #clock: Clock;
  readonly #wake: () => void;
  #timer: Timer | undefined;
  #at = Infinity;

  /**
   * @example
   * ```ts
   * const timer = new DeadlineTimer(clock, () => {
   *   sweep(clock.now());
   *   timer.at(table.nextDeadline());
   * });
   * timer.at(table.nextDeadline());
   * ```
   */
  constructor(clock: Clock, wake: () => void) {
    this.#clock = clock;
    this.#wake = () => {
      this.#timer = undefined;
      this.#at = Infinity;
      wake();
    };
  }

  /** Makes sure the owner is woken by `deadline` (clock time); `undefined` asks nothing. */
  at(deadline: number | undefined): void {
    if (deadline === undefined) return;
    const now = this.#clock.now();
    const fireAt = Math.max(deadline, now + DEADLINE_SLACK_MS);
    if (this.#at <= fireAt) return;
    this.#timer?.cancel();
    this.#at = fireAt;
    this.#timer = this.#clock.setTimer(fireAt - now, this.#wake);
  }

  /** Forgets every deadline given (they may have moved later: limits changed). */
  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#at = Infinity;
  }
}
