/**
 * Percentiles by the nearest-rank method, the one definition every latency
 * figure in Aegis uses (windows, the combined P95 of the adaptive loop, the
 * dashboard and `/metrics`).
 *
 * Nearest rank: for `n` samples in ascending order, the P-th percentile is
 * the sample at 1-based rank `ceil(P / 100 × n)` (rank 1 for P = 0). It is
 * always a value that was actually observed, never an interpolation, so
 * "P95 = 480 ms" means a request really took 480 ms; and it needs nothing
 * but a sort, which is cheap at the window sizes Aegis keeps (≤ a few
 * thousand samples per tick). Source: Wikipedia, "Percentile", section
 * "The nearest-rank method".
 *
 * @module
 */

/** Latency figures over a set of samples, in milliseconds. All zero when `count` is 0. */
export interface LatencySummary {
  /** Number of samples the figures are computed from. */
  readonly count: number;
  /** Median (nearest rank). */
  readonly p50: number;
  /** 95th percentile (nearest rank). */
  readonly p95: number;
  /** 99th percentile (nearest rank). */
  readonly p99: number;
  /** Arithmetic mean. */
  readonly mean: number;
  /** Largest sample. */
  readonly max: number;
}

/**
 * The P-th percentile of `sorted` (ascending) by nearest rank, or `undefined`
 * when there are no samples.
 *
 * `p` is in [0, 100]. The rank is computed as `ceil(p × n / 100)` rather than
 * `ceil(p / 100 × n)`: for integer `p` the product is exact, so a rank that
 * should be whole (95 × 100 / 100) is not pushed up by a rounding error in
 * `p / 100` (0.07 × 100 is 7.000000000000001 in floating point).
 *
 * @example
 * ```ts
 * nearestRank(Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95); // 10
 * nearestRank([], 50); // undefined
 * ```
 */
export function nearestRank(sorted: ArrayLike<number>, p: number): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  const rank = Math.min(n, Math.max(1, Math.ceil((p * n) / 100)));
  return sorted[rank - 1];
}

/** The summary of no samples: every figure zero. */
const EMPTY_SUMMARY: LatencySummary = Object.freeze({
  count: 0,
  p50: 0,
  p95: 0,
  p99: 0,
  mean: 0,
  max: 0,
});

/**
 * Summarises samples that are already sorted ascending.
 *
 * @example
 * ```ts
 * summarize(Float64Array.of(10, 20, 30)); // { count: 3, p50: 20, p95: 30, p99: 30, mean: 20, max: 30 }
 * ```
 */
export function summarize(sorted: ArrayLike<number>): LatencySummary {
  const count = sorted.length;
  if (count === 0) return EMPTY_SUMMARY;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i]!;
  return {
    count,
    p50: nearestRank(sorted, 50)!,
    p95: nearestRank(sorted, 95)!,
    p99: nearestRank(sorted, 99)!,
    mean: sum / count,
    max: sorted[count - 1]!,
  };
}
