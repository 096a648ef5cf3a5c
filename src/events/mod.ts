/**
 * Recent events: a bounded ring buffer of the things an operator wants to
 * see happen (a backend going unhealthy, a breaker opening, the adaptive
 * rate changing). The dashboard and the admin API show them; the log gets
 * them too, through whoever records them.
 *
 * @module
 */

import type { SnakeCaseFields } from "./field_names.ts";

export type { NotSnakeCase, SnakeCaseFields } from "./field_names.ts";

/** One event. */
export interface AegisEvent {
  /** Wall-clock time, epoch milliseconds. */
  readonly time: number;
  /** A stable label, e.g. `health`, `breaker`, `rate`. */
  readonly kind: string;
  /** One human-readable line. */
  readonly message: string;
  /** Structured detail (plain data); names are snake_case ({@linkcode SnakeCaseFields}). */
  readonly fields: EventFields;
}

/** An event's structured detail. */
export type EventFields = Readonly<Record<string, string | number | boolean | null>>;

/** Options for {@linkcode EventLog}. */
export interface EventLogOptions {
  /** How many events are kept; older ones are dropped. Default 200. */
  readonly capacity?: number;
  /** Wall clock for timestamps. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A fixed-size ring of recent events, newest last.
 *
 * @example
 * ```ts
 * const events = new EventLog({ capacity: 100 });
 * events.record("breaker", "breaker opened for http://10.0.0.5", { backend: "http://10.0.0.5" });
 * events.recent(10); // newest first
 * ```
 */
export class EventLog {
  readonly #ring: (AegisEvent | undefined)[];
  readonly #now: () => number;
  #next = 0;
  #count = 0;

  constructor(options: EventLogOptions = {}) {
    this.#ring = new Array(Math.max(1, options.capacity ?? 200));
    this.#now = options.now ?? Date.now;
  }

  /** Total events recorded since start (including ones already dropped). */
  get total(): number {
    return this.#count;
  }

  /**
   * Records an event and returns it. Field names are snake_case, checked by
   * the compiler: they are shown as they are (`GET /status`, the dashboard).
   */
  record<F extends EventFields>(
    kind: string,
    message: string,
    fields?: F & SnakeCaseFields<F>,
  ): AegisEvent {
    const event: AegisEvent = Object.freeze({
      time: this.#now(),
      kind,
      message,
      fields: Object.freeze({ ...fields }),
    });
    this.#ring[this.#next] = event;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#count++;
    return event;
  }

  /** Up to `limit` most recent events, newest first. */
  recent(limit: number = this.#ring.length): AegisEvent[] {
    const out: AegisEvent[] = [];
    const n = Math.min(limit, this.#ring.length, this.#count);
    for (let i = 1; i <= n; i++) {
      const e = this.#ring[(this.#next - i + this.#ring.length) % this.#ring.length];
      if (e) out.push(e);
    }
    return out;
  }
}
