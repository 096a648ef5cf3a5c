/**
 * How many lines each panel gets for a given terminal height.
 *
 * Kept apart from drawing so the degradation rules can be read (and
 * tested) in one place; see {@linkcode layout}.
 *
 * @module
 */

/** Lines per panel, top to bottom; they sum to at most the height. */
export interface Layout {
  /** Header lines: 2 (full) or 1 (compact). */
  readonly header: 1 | 2;
  /** The history line under the header: 1, or 0 when not wanted or out of room. */
  readonly history: 0 | 1;
  /** Whether the backends table has its `── Backends ──` title. */
  readonly backendTitle: boolean;
  /** Whether the backends table has its column header. */
  readonly columnHeader: boolean;
  /** Lines for backend rows (the `… and N more` row included); 0 or more. */
  readonly backendRows: number;
  /** Limiter panel lines: 3 (title and two lines), 1 (compact) or 0. */
  readonly limiter: 0 | 1 | 3;
  /** Event log lines, title included: 0, or 2 and more. */
  readonly events: number;
  /** Whether the last line is the key help. */
  readonly footer: boolean;
}

/** Backend rows kept before the event log gives up any of its lines. */
export const BACKEND_MIN_ROWS = 3;
/** Event log lines (title and four events) the backends table leaves free while it can. */
export const EVENT_RESERVE = 5;

/**
 * Shares `height` lines among the panels.
 *
 * With room to spare, every panel is full and the backends table shows
 * every backend, but it leaves the event log {@linkcode EVENT_RESERVE}
 * lines: with hundreds of backends, the operator still sees what just
 * happened. As the height shrinks, in this order:
 *
 * 1. backend rows beyond {@linkcode BACKEND_MIN_ROWS} that would eat into
 *    the event log's reserve give way (only with many backends);
 * 2. the event log shrinks, then disappears;
 * 3. the limiter panel collapses to one line;
 * 4. the header collapses to one line;
 * 5. backend rows shrink to one (the `… and N more` row carries the rest);
 * 6. the backends title goes (at 5 lines), then the limiter line (4), then
 *    the footer (3), then the column header (2); at 1 line, only the
 *    compact header is left.
 *
 * `backendLines` is how many rows the table would like (1 for an empty
 * table, which says so). With `history`, the history line sits under the
 * header while every panel can be full around three backend rows, and goes
 * before anything else gives way.
 */
export function layout(height: number, backendLines: number, history = false): Layout {
  const want = Math.max(1, backendLines);
  const minRows = Math.min(want, BACKEND_MIN_ROWS);
  // Header 2, backends title and column header 2, limiter 3, footer 1.
  const fullChrome = 8;
  if (history && height >= fullChrome + 1 + minRows) {
    return { ...layout(height - 1, backendLines), history: 1 };
  }
  if (height >= fullChrome + minRows) {
    const rest = height - fullChrome;
    const rows = Math.min(want, Math.max(minRows, rest - EVENT_RESERVE));
    const events = rest - rows >= 2 ? rest - rows : 0;
    return full(2, rows, 3, events);
  }
  // Limiter as one line: 8 − 2.
  if (height >= 6 + minRows) return full(2, Math.min(want, height - 6), 1, 0);
  // Header as one line too: 6 − 1; rows shrink down to one.
  if (height >= 6) return full(1, Math.min(want, height - 5), 1, 0);
  return {
    header: 1,
    history: 0,
    backendTitle: false,
    columnHeader: height >= 3,
    backendRows: height >= 2 ? 1 : 0,
    limiter: height >= 5 ? 1 : 0,
    events: 0,
    footer: height >= 4,
  };
}

function full(header: 1 | 2, backendRows: number, limiter: 1 | 3, events: number): Layout {
  return {
    header,
    history: 0,
    backendTitle: true,
    columnHeader: true,
    backendRows,
    limiter,
    events,
    footer: true,
  };
}
