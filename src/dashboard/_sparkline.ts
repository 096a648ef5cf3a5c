/**
 * The history line: requests per second and P95 over the last minutes as
 * two sparklines, so a trend shows at a glance without a chart.
 *
 * Each character is one column of the history: with more points than
 * columns, consecutive points share a column (requests per second by their
 * mean, P95 by its highest, so a short spike is not averaged away). Each
 * sparkline is scaled to its own highest column; a column with no figure
 * (the first point, a counter that went back) is a blank.
 *
 * @module
 */

import type { HistoryPoint } from "../snapshot/mod.ts";
import { formatDuration, formatMs, formatPerSecond } from "./_format.ts";
import { type Line, lineWidth, span } from "./_line.ts";

/** Eight heights, lowest first. */
const BARS = "▁▂▃▄▅▆▇█";

/** How one column sums up the points it covers. */
type Reduce = "mean" | "max";

/** `values` folded into at most `columns` columns, in order. */
function fold(
  values: readonly (number | null)[],
  columns: number,
  reduce: Reduce,
): (number | null)[] {
  const n = Math.min(columns, values.length);
  const out: (number | null)[] = [];
  for (let c = 0; c < n; c++) {
    const from = Math.floor((c * values.length) / n);
    const to = Math.floor(((c + 1) * values.length) / n);
    let sum = 0;
    let max = -Infinity;
    let count = 0;
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      sum += v;
      max = Math.max(max, v);
      count++;
    }
    out.push(count === 0 ? null : reduce === "mean" ? sum / count : max);
  }
  return out;
}

/**
 * A sparkline of at most `columns` characters, scaled to its highest
 * column; blanks where there is no figure.
 *
 * @example
 * ```ts
 * sparkline([0, 5, 10, null], 4, "mean"); // "▁▄█ "
 * ```
 */
export function sparkline(
  values: readonly (number | null)[],
  columns: number,
  reduce: Reduce,
): string {
  if (columns <= 0) return "";
  const folded = fold(values, columns, reduce);
  let top = 0;
  for (const v of folded) if (v !== null) top = Math.max(top, v);
  return folded.map((v) => {
    if (v === null) return " ";
    const level = top > 0 ? Math.round((v / top) * (BARS.length - 1)) : 0;
    return BARS[Math.min(BARS.length - 1, Math.max(0, level))];
  }).join("");
}

const SEP = span(" · ", "dim");

/**
 * One line: `req/s ▁▂▅█ 26.0 · P95 ▁▁▃▂ 22 ms · 15m00s`, the two
 * sparklines sharing the width the labels leave; the newest figure follows
 * each, and the span of time shown ends the line. Before the first point,
 * it says there is nothing yet.
 */
export function historyLine(points: readonly HistoryPoint[], width: number): Line {
  if (points.length === 0) return [span("history: no figures yet", "dim")];
  const newest = points.at(-1)!;
  const rpsNow = formatPerSecond(newest.requestsPerSecond ?? undefined);
  const p95Now = newest.p95 === null ? "–" : `${formatMs(newest.p95)} ms`;
  const shown = formatDuration(newest.time - points[0]!.time);
  const line = (rps: string, p95: string): Line => [
    span("req/s ", "dim"),
    span(rps, "cyan"),
    span(` ${rpsNow}`),
    SEP,
    span("P95 ", "dim"),
    span(p95, "cyan"),
    span(` ${p95Now}`),
    SEP,
    span(shown, "dim"),
  ];
  const each = Math.max(0, Math.floor((width - lineWidth(line("", ""))) / 2));
  return line(
    sparkline(points.map((p) => p.requestsPerSecond), each, "mean"),
    sparkline(points.map((p) => p.p95), each, "max"),
  );
}
