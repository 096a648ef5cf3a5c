/**
 * Closing the transport of a pool a reload removed. Its requests in flight
 * must finish first, on the connections they hold; so the transport is
 * closed once its pool has nothing in flight, checked on the clock, and at
 * the latest when Aegis stops (after the drain, when nothing is in flight).
 *
 * @module
 */

import type { Clock, Timer } from "../clock/mod.ts";
import type { ClosableTransport } from "../core/mod.ts";

/** How often a retired transport's pool is asked whether it is idle. */
export const RETIRE_CHECK_MS = 250;

/** Transports waiting to be closed. */
export class Retirements implements Disposable {
  readonly #clock: Clock;
  readonly #waiting = new Map<ClosableTransport, Timer | undefined>();
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** How many transports still wait. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * Closes `transport` as soon as `busy()` is false: now, or at a later check.
   *
   * @example
   * ```ts
   * retired.retire(pool.transport, () => pool.inFlight() > 0);
   * ```
   */
  retire(transport: ClosableTransport, busy: () => boolean): void {
    if (this.#closed || !busy()) return transport[Symbol.dispose]();
    const check = () => {
      if (busy()) this.#waiting.set(transport, this.#clock.setTimer(RETIRE_CHECK_MS, check));
      else {
        this.#waiting.delete(transport);
        transport[Symbol.dispose]();
      }
    };
    this.#waiting.set(transport, this.#clock.setTimer(RETIRE_CHECK_MS, check));
  }

  /** Closes every transport still waiting, and any retired from now on at once. */
  [Symbol.dispose](): void {
    this.#closed = true;
    for (const [transport, timer] of this.#waiting) {
      timer?.cancel();
      transport[Symbol.dispose]();
    }
    this.#waiting.clear();
  }
}
