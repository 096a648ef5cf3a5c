/**
 * One timer for many deadlines. Connections, request bodies and upstream
 * waits each hold a {@linkcode Watch}; re-arming one is a field write, not a
 * `setTimeout`/`clearTimeout` pair, which matters when a deadline moves on
 * every body chunk. A single sweep expires overdue watches, so a deadline
 * fires at most one tick late.
 *
 * @module
 */

import type { Clock, Timer } from "./mod.ts";

/** A deadline that can be moved, paused and released. */
export interface Watch extends Disposable {
  /** Expires the watch `ms` from now unless re-armed or disarmed first. */
  arm(ms: number): void;
  /** Pauses the watch: it will not expire until armed again. */
  disarm(): void;
  /** Releases the watch for good: it never expires, and arming it does nothing. */
  [Symbol.dispose](): void;
}

/** What every watch of one {@linkcode Watchdog} shares. */
interface Shared {
  readonly clock: Clock;
  readonly armed: Set<Entry>;
  readonly schedule: () => void;
}

/**
 * A watch is its own entry in the armed set: one small object per watch and
 * no closures, since every connection and request body holds one.
 */
class Entry implements Watch {
  deadline = Infinity;
  disposed = false;
  readonly #shared: Shared;
  readonly onExpire: () => void;

  constructor(shared: Shared, onExpire: () => void) {
    this.#shared = shared;
    this.onExpire = onExpire;
  }

  arm(ms: number): void {
    // A disposed watch stays quiet even if a late callback re-arms it.
    if (this.disposed) return;
    this.deadline = this.#shared.clock.now() + ms;
    this.#shared.armed.add(this);
    this.#shared.schedule();
  }

  disarm(): void {
    this.#shared.armed.delete(this);
  }

  [Symbol.dispose](): void {
    this.disposed = true;
    this.#shared.armed.delete(this);
  }
}

/** Options for {@linkcode Watchdog}. */
export interface WatchdogOptions {
  /** Time source and timers. */
  readonly clock: Clock;
  /** How often overdue watches are swept, in milliseconds. */
  readonly tickMs: number;
}

/**
 * Expires watches whose deadline has passed. The sweep timer runs only
 * while at least one watch is armed, so an idle process does not wake up.
 *
 * @example
 * ```ts
 * const dog = new Watchdog({ clock: systemClock, tickMs: 100 });
 * using watch = dog.watch(() => conn.close());
 * watch.arm(5000); // close unless re-armed within 5 s
 * ```
 */
export class Watchdog implements Disposable {
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #armed = new Set<Entry>();
  readonly #shared: Shared;
  #timer: Timer | undefined;
  #disposed = false;

  constructor(options: WatchdogOptions) {
    this.#clock = options.clock;
    this.#tickMs = options.tickMs;
    this.#shared = { clock: this.#clock, armed: this.#armed, schedule: () => this.#schedule() };
  }

  /** Number of armed watches. */
  get size(): number {
    return this.#armed.size;
  }

  /** Creates a disarmed watch that calls `onExpire` once when it expires. */
  watch(onExpire: () => void): Watch {
    return new Entry(this.#shared, onExpire);
  }

  /** Expires every armed watch whose deadline is at or before `now`. */
  sweep(now: number = this.#clock.now()): void {
    for (const entry of this.#armed) {
      if (entry.deadline > now) continue;
      this.#armed.delete(entry);
      try {
        entry.onExpire();
      } catch {
        // An expiry handler only closes things; one failing must not stop the sweep.
      }
    }
  }

  #schedule(): void {
    if (this.#timer || this.#disposed) return;
    this.#timer = this.#clock.setTimer(this.#tickMs, () => {
      this.#timer = undefined;
      this.sweep();
      if (this.#armed.size > 0) this.#schedule();
    });
  }

  /** Stops sweeping; armed watches never expire after this. */
  [Symbol.dispose](): void {
    this.#disposed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#armed.clear();
  }
}
