/**
 * Number and time formatting for the dashboard: short, fixed-style strings
 * so columns stay narrow and a value never changes shape from one frame to
 * the next without a reason. Anything that is not a finite number prints
 * as `–`, so a bad figure shows as missing instead of as `NaN`.
 *
 * @module
 */

/** What a missing or undefined figure prints as. */
export const NONE = "–";

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * A duration as its two or three largest units: `3s`, `2m05s`, `1h02m03s`,
 * `3d04h05m`. Negative durations (a clock stepped back) print as `0s`.
 *
 * @example
 * ```ts
 * formatDuration(3_723_000); // "1h02m03s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return NONE;
  const s = Math.floor(Math.max(0, ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d${pad2(h)}h${pad2(m)}m`;
  if (h > 0) return `${h}h${pad2(m)}m${pad2(sec)}s`;
  if (m > 0) return `${m}m${pad2(sec)}s`;
  return `${sec}s`;
}

/**
 * Wall-clock time of day in UTC, `HH:MM:SS`. UTC because the log lines the
 * same events go to carry UTC timestamps, and a dashboard that agrees with
 * the logs is easier to read side by side.
 *
 * @example
 * ```ts
 * formatClock(Date.UTC(2025, 0, 1, 9, 5, 7)); // "09:05:07"
 * ```
 */
export function formatClock(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return "--:--:--";
  const t = new Date(epochMs);
  if (Number.isNaN(t.getTime())) return "--:--:--";
  return `${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}`;
}

/**
 * A per-second figure: one decimal below 1000 (`12.5`), whole from 1000
 * (`1234`), `k` from 100 000 (`123k`).
 */
export function formatPerSecond(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return NONE;
  if (n < 1000) return n.toFixed(1);
  if (n < 100_000) return Math.round(n).toString();
  return `${Math.round(n / 1000)}k`;
}

const UNITS = [["k", 1e3], ["M", 1e6], ["G", 1e9]] as const;

/**
 * A count in at most five columns: whole below 10 000, then `12.3k`,
 * `456k`, `4.5M`, `6.7G`. Rounding never shows `100.0k` or `1000k`: the
 * figure moves on to the next form instead.
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return NONE;
  const abs = Math.abs(n);
  if (abs < 10_000) return Math.round(n).toString();
  for (let i = UNITS.length - 1; i >= 0; i--) {
    const [unit, size] = UNITS[i]!;
    if (abs < size) continue;
    const v = n / size;
    if (Math.abs(v) < 99.95) return `${v.toFixed(1)}${unit}`;
    const next = UNITS[i + 1];
    if (Math.abs(v) < 999.5 || next === undefined) return `${Math.round(v)}${unit}`;
    return `${(n / next[1]).toFixed(1)}${next[0]}`;
  }
  return Math.round(n).toString();
}

/** Milliseconds: one decimal below 10 (`4.2`), whole above (`480`). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return NONE;
  return ms < 10 ? ms.toFixed(1) : formatCount(ms);
}

/** A share in [0, 1] as a percentage with one decimal, or `–` when undefined. */
export function formatPercent(share: number | undefined): string {
  if (share === undefined || !Number.isFinite(share)) return NONE;
  return `${(share * 100).toFixed(1)}%`;
}

/** An adaptive rate (tokens per second), always with one decimal. */
export function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return NONE;
  return rate.toFixed(1);
}
