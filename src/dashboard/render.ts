/**
 * The dashboard as a pure function: a snapshot and a terminal size in,
 * the lines to print out. No I/O, no clock, no state — the driver owns the
 * terminal, the timer and the keys, and tests call {@linkcode render} with
 * hand-made snapshots.
 *
 * Top to bottom: header, history sparklines (when the view has a
 * history), backends table, rate limiter panel, event log, key help. How panels give way on short terminals is documented on
 * `layout` (`_layout.ts`), how table columns give way on narrow ones on
 * `COLUMN_DROP_ORDER` (`_table.ts`).
 *
 * @module
 */

import type { HistoryPoint, Snapshot } from "../snapshot/mod.ts";
import { globalFigures, isDraining } from "./_figures.ts";
import { layout } from "./_layout.ts";
import { finish, type Line, rule } from "./_line.ts";
import { eventLog, footer, header, limiter } from "./_panels.ts";
import { historyLine } from "./_sparkline.ts";
import { backendTable, type ColumnKey } from "./_table.ts";

/** The terminal to render for. */
export interface RenderOptions {
  /** Columns; every line returned is at most this wide. */
  readonly width: number;
  /** Lines; exactly this many are returned. */
  readonly height: number;
  /** Emit SGR colour codes; when `false`, no escape sequence at all. */
  readonly color: boolean;
}

/** UI state owned by the driver. */
export interface DashboardView {
  /** Show `PAUSED` in the header and the footer. */
  readonly paused: boolean;
  /** How many events are scrolled past (0 = the newest at the top). */
  readonly eventScroll: number;
  /** The previous frame's snapshot, for per-second figures; `undefined` on the first frame. */
  readonly previous?: Snapshot;
  /** The recent history, drawn as sparklines under the header; no history line without it. */
  readonly history?: readonly HistoryPoint[];
}

/** The view of a first frame: not paused, not scrolled, no previous snapshot. */
const INITIAL_VIEW: DashboardView = Object.freeze({ paused: false, eventScroll: 0 });

/**
 * Sizes beyond this are taken as this: no terminal is that large, and a
 * bogus size must not make the dashboard allocate without bound.
 */
const MAX_SIZE = 10_000;

function size(n: number): number {
  return Number.isFinite(n) ? Math.min(MAX_SIZE, Math.max(0, Math.floor(n))) : 0;
}

/**
 * Renders one frame of the dashboard.
 *
 * Returns exactly `height` lines (blank lines pad the space above the
 * footer), each at most `width` columns as `string-width` counts them, so
 * nothing ever wraps. Lines carry no trailing blanks and are not padded to
 * the width: the driver clears the rest of each line (`ESC [ K`). Sizes are
 * floored and clamped to 0…10 000; `height ≤ 0` gives `[]`, `width ≤ 0`
 * gives `height` empty strings. Text from outside (backend URLs, event
 * messages) is stripped of control characters before it is printed.
 *
 * On a short terminal, panels give way in this order (details on
 * `layout` in `_layout.ts`): the history line, backend rows beyond three (only when the
 * event log would get fewer than four events), then the event log shrinks
 * and goes, then the limiter panel collapses to one line, then the header
 * to one line, then backend rows shrink to one, then the backends title,
 * the limiter line, the footer and the column header go; one line is the
 * compact header alone.
 *
 * On a narrow terminal, table columns are dropped in the order of
 * `COLUMN_DROP_ORDER`: P50, P99, weight, warm-up, in-flight, errors,
 * requests/s, P95. URL, health and breaker always stay; a URL keeps its
 * port and is cut in the middle of its host (`http://very-l…ernal:8081`).
 * Header and limiter fields that do not fit are left out whole; any other
 * line too long is cut at its end with `…`.
 *
 * Per-second figures (requests, 429s, per-backend requests) and the 5xx
 * share compare `snapshot` with `view.previous` over the difference of
 * their `time`; on the first frame they show `–` (the 5xx share is then
 * taken since start).
 *
 * @example
 * ```ts
 * const lines = render(snapshots.current, { width: 80, height: 24, color: true }, {
 *   paused: false,
 *   eventScroll: 0,
 *   previous: last,
 * });
 * Deno.stdout.writeSync(encoder.encode("\x1b[H" + lines.join("\x1b[K\r\n") + "\x1b[K"));
 * ```
 */
export function render(
  snapshot: Snapshot,
  options: RenderOptions,
  view: DashboardView = INITIAL_VIEW,
): string[] {
  const height = size(options.height);
  const width = size(options.width);
  if (height === 0) return [];
  if (width === 0) return new Array<string>(height).fill("");

  const previous = view.previous;
  const figures = globalFigures(snapshot, previous);
  const plan = layout(height, snapshot.backends.length, view.history !== undefined);

  const top: Line[] = header(
    { snapshot, figures, paused: view.paused, draining: isDraining(snapshot) },
    width,
    plan.header,
  );
  if (plan.history) top.push(historyLine(view.history ?? [], width));
  if (plan.backendRows > 0) {
    const table = backendTable({ snapshot, previous, width, rows: plan.backendRows });
    if (plan.backendTitle) top.push(backendsRule(snapshot, width, table.columns));
    if (plan.columnHeader) top.push(table.header);
    top.push(...table.rows);
  }
  if (plan.limiter !== 0) top.push(...limiter(snapshot, figures, width, plan.limiter));
  if (plan.events > 0) top.push(...eventLog(snapshot, width, plan.events, view.eventScroll));

  const bottom: Line[] = plan.footer ? [footer(view.paused, width)] : [];
  const lines = top.slice(0, height - bottom.length).map((l) => finish(l, width, options.color));
  while (lines.length < height - bottom.length) lines.push("");
  for (const l of bottom) lines.push(finish(l, width, options.color));
  return lines;
}

function backendsRule(snapshot: Snapshot, width: number, columns: readonly ColumnKey[]): Line {
  const n = snapshot.backends.length;
  if (n === 0) return rule("Backends", width);
  const healthy = snapshot.backends.filter((b) => b.health === "healthy").length;
  const latency = columns.some((c) => c === "p50" || c === "p95" || c === "p99");
  return rule("Backends", width, `${healthy}/${n} healthy${latency ? " · latency in ms" : ""}`);
}
