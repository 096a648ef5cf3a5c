/**
 * A clock that only moves when told to, so state machines are tested
 * without sleeping.
 *
 * @module
 */

import type { Clock, Timer } from "../../src/clock/mod.ts";

/** A manual clock: `advance()` moves time and fires due timers in order. */
export class ManualClock implements Clock {
  #now: number;
  #timers: Array<{ at: number; fn: () => void; seq: number }> = [];
  #seq = 0;

  constructor(start = 1000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const entry = { at: this.#now + ms, fn, seq: this.#seq++ };
    this.#timers.push(entry);
    return { cancel: () => (this.#timers = this.#timers.filter((t) => t !== entry)) };
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing each timer at its own time. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) =>
        t.at <= end
      ).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = end;
  }
}
