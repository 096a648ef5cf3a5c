/**
 * Traffic counters kept apart by a name (a listener's): each gets its own
 * {@linkcode GlobalStats} the first time it is asked for, and keeps it for
 * the life of the process, so a name that goes away and comes back (a
 * listener removed and added again by reloads) continues its counters
 * rather than restarting them, and the process-wide totals never shrink.
 *
 * @module
 */

import { GlobalStats } from "./counters.ts";

/** Counters by name. */
export class StatsByName {
  readonly #byName = new Map<string, GlobalStats>();

  /**
   * The counters of `name`, created on first use.
   *
   * @example
   * ```ts
   * const stats = new StatsByName();
   * stats.get("web").requests++;
   * ```
   */
  get(name: string): GlobalStats {
    let stats = this.#byName.get(name);
    if (!stats) this.#byName.set(name, stats = new GlobalStats());
    return stats;
  }

  /** Every name's counters, in the order the names first appeared. */
  entries(): IterableIterator<[string, GlobalStats]> {
    return this.#byName.entries();
  }
}
