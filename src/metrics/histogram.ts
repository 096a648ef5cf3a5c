/**
 * Request-duration histograms, Prometheus style: cumulative counts over
 * fixed bucket bounds (seconds), plus a sum and a count, kept per
 * listener, pool, backend and status class. Recording is a short linear
 * scan over the bounds and a few increments; no allocation once a series
 * exists, and the number of series is bounded by the routes a listener has
 * to backends × five status classes.
 *
 * @module
 */

import { type StatusClass, statusClass } from "./counters.ts";

/** Bucket upper bounds in seconds: Prometheus's default set. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
]);

/** One series: counts per bucket (not cumulative), sum and count. */
class Series {
  readonly counts = new Float64Array(DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;
}

/** A frozen copy of one series. */
export interface HistogramSeries {
  /** The listener that received the requests. */
  readonly listener: string;
  /** The pool they were routed to, or `-` when none was chosen. */
  readonly pool: string;
  /** Backend id, or `-` for answers Aegis gave itself. */
  readonly backend: string;
  readonly statusClass: StatusClass;
  /** Cumulative count of observations ≤ each bound, then +Inf (the total). */
  readonly cumulative: readonly number[];
  /** Sum of observed seconds. */
  readonly sum: number;
  readonly count: number;
}

/** Where a request went: listener, pool and backend (`-` for none). */
export interface DurationLabels {
  readonly listener: string;
  readonly pool: string;
  readonly backend: string;
}

/** Durations by listener, pool, backend and status class. */
export class DurationHistograms {
  readonly #series = new Map<string, Series>();
  readonly #labels = new Map<Series, [DurationLabels, StatusClass]>();

  /**
   * Records one request of `seconds`, answered with `status`, that came in
   * on `where.listener` and went to `where.pool` and `where.backend` (`-`
   * when Aegis answered itself).
   */
  record(where: DurationLabels, status: number, seconds: number): void {
    if (!(seconds >= 0)) return;
    const cls = statusClass(status);
    const key = `${where.listener}\u0000${where.pool}\u0000${where.backend}\u0000${cls}`;
    let series = this.#series.get(key);
    if (!series) {
      series = new Series();
      this.#series.set(key, series);
      this.#labels.set(series, [
        { listener: where.listener, pool: where.pool, backend: where.backend },
        cls,
      ]);
    }
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    series.counts[i]!++;
    series.sum += seconds;
    series.count++;
  }

  /** Frozen copies of every series, in creation order. */
  snapshot(): HistogramSeries[] {
    const out: HistogramSeries[] = [];
    for (const series of this.#series.values()) {
      const [{ listener, pool, backend }, cls] = this.#labels.get(series)!;
      const cumulative: number[] = [];
      let running = 0;
      for (const c of series.counts) cumulative.push(running += c);
      out.push(Object.freeze({
        listener,
        pool,
        backend,
        statusClass: cls,
        cumulative: Object.freeze(cumulative),
        sum: series.sum,
        count: series.count,
      }));
    }
    return out;
  }
}
