/**
 * At most one log line per period for an event that can happen thousands of
 * times a second (failed accepts, refused connections), carrying how many
 * happened since the previous line, so a flood shows in the log without
 * flooding it. Pure: it takes `now`.
 *
 * @module
 */

/**
 * Counts events and says when one log line is due.
 *
 * @example
 * ```ts
 * const gate = new ReportGate(10_000);
 * const count = gate.note(performance.now());
 * if (count !== undefined) logger.warn("connections refused", { count });
 * ```
 */
export class ReportGate {
  readonly #periodMs: number;
  #unreported = 0;
  #last = -Infinity;

  /** @param periodMs at most one report per this many milliseconds */
  constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }

  /**
   * Counts one event at `now`; returns the events since the previous report
   * (this one included) when a report is due, else `undefined`. The first
   * event is reported at once.
   */
  note(now: number): number | undefined {
    this.#unreported++;
    if (now - this.#last < this.#periodMs) return undefined;
    const count = this.#unreported;
    this.#unreported = 0;
    this.#last = now;
    return count;
  }
}
