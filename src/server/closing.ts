/**
 * How a listener socket closes: stop accepting once, let the open
 * connections finish, and at the end of the grace period force whatever is
 * left. A later call (a drain, then SIGTERM) may only bring the deadline
 * closer, and once the last connection is gone there is nothing to force.
 * The http and tcp listeners differ in what "force" means; this is the rest.
 *
 * @module
 */

import type { Clock, Timer } from "../clock/mod.ts";
import type { Logger } from "../log/mod.ts";

/** What {@linkcode Closing} needs from its listener. */
export interface ClosingOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Connections open now. */
  readonly open: () => number;
  /** Closes every connection still open when the grace period ends. */
  readonly force: () => void;
}

/** The closing of one listener socket, begun at most once. */
export class Closing {
  readonly #o: ClosingOptions;
  #done: Promise<void> | undefined;
  #allClosed: (() => void) | undefined;
  #deadline = Infinity;
  #timer: Timer | undefined;
  /** True once every connection closed after the closing began. */
  #closed = false;

  constructor(options: ClosingOptions) {
    this.#o = options;
  }

  /**
   * Settles when every connection closed after the closing began;
   * `undefined` until {@linkcode begin} (set before its `stopAccepting` runs).
   */
  get done(): Promise<void> | undefined {
    return this.#done;
  }

  /** Tells it a connection closed: the last one ends the closing. */
  connectionClosed(): void {
    if (this.#o.open() === 0) this.#allClosed?.();
  }

  /**
   * Begins closing (the first call runs `stopAccepting`) and sets the
   * deadline `graceMs` from now unless one sooner is set; resolves when
   * every connection is closed.
   *
   * @example
   * ```ts
   * shutdown: (graceMs) => closing.begin(graceMs, () => listener.close()),
   * ```
   */
  begin(graceMs: number, stopAccepting: () => void): Promise<void> {
    if (!this.#done) {
      this.#done = new Promise<void>((resolve) => {
        this.#allClosed = resolve;
      });
      stopAccepting();
      if (this.#o.open() === 0) this.#allClosed!();
      this.#done.then(() => {
        this.#closed = true;
        this.#timer?.cancel();
      });
    }
    const at = this.#o.clock.now() + graceMs;
    if (!this.#closed && Number.isFinite(graceMs) && at < this.#deadline) {
      this.#deadline = at;
      this.#timer?.cancel();
      this.#timer = this.#o.clock.setTimer(graceMs, () => this.#force());
    }
    return this.#done;
  }

  #force(): void {
    const open = this.#o.open();
    if (open === 0) return;
    this.#o.logger.warn("shutdown grace period over, closing remaining connections", {
      connections: open,
    });
    this.#o.force();
  }
}
