/**
 * The backends table: one row per backend, columns that drop in a fixed
 * order when the terminal is narrow, and a last row that counts the
 * backends that did not fit. With more than one pool, a first column names
 * each pool once, on its first backend's row, so the rows read as groups.
 *
 * @module
 */

import type { BackendSnapshot, Snapshot } from "../snapshot/mod.ts";
import { type BackendMood, backendMood, backendRequestsPerSecond } from "./_figures.ts";
import { formatCount, formatMs, formatPerSecond, NONE } from "./_format.ts";
import { type Line, type Span, span, type Style } from "./_line.ts";
import { displayWidth, padEnd, padStart, printable, truncateUrl } from "./_text.ts";

/** A column of the backends table, by key. */
export type ColumnKey =
  | "pool"
  | "url"
  | "health"
  | "breaker"
  | "warmup"
  | "weight"
  | "inFlight"
  | "requestsPerSecond"
  | "p50"
  | "p95"
  | "p99"
  | "errors";

/**
 * The order columns are dropped in when the table is wider than the
 * terminal: the first is dropped first. `url`, `health` and `breaker` are
 * never dropped; when even they do not fit, the URL is cut further and the
 * row is cut at its end.
 */
export const COLUMN_DROP_ORDER: readonly ColumnKey[] = Object.freeze([
  "p50",
  "p99",
  "weight",
  "warmup",
  "inFlight",
  "errors",
  "requestsPerSecond",
  "p95",
]);

interface Column {
  readonly key: ColumnKey;
  readonly title: string;
  readonly align: "left" | "right";
}

/** Every column, in the order shown (`pool` only with more than one pool). */
const COLUMNS: readonly Column[] = [
  { key: "pool", title: "POOL", align: "left" },
  { key: "url", title: "URL", align: "left" },
  { key: "health", title: "HEALTH", align: "left" },
  { key: "breaker", title: "BREAKER", align: "left" },
  { key: "warmup", title: "WARM", align: "right" },
  { key: "weight", title: "WEIGHT", align: "right" },
  { key: "inFlight", title: "INFL", align: "right" },
  { key: "requestsPerSecond", title: "REQ/S", align: "right" },
  { key: "p50", title: "P50", align: "right" },
  { key: "p95", title: "P95", align: "right" },
  { key: "p99", title: "P99", align: "right" },
  { key: "errors", title: "ERR", align: "right" },
];

const GAP = " ";
/** The URL column keeps at least this many columns before any other column is dropped. */
const URL_MIN = 24;
/** …and at least this many when everything droppable is gone. */
const URL_FLOOR = 8;

type Cells = Readonly<Record<ColumnKey, Span>>;

const MOOD_STYLE: Readonly<Record<BackendMood, Style>> = {
  good: "green",
  warn: "yellow",
  bad: "red",
};

function number(text: string): Span {
  return text === NONE ? span(text, "dim") : span(text);
}

function cellsOf(
  b: BackendSnapshot,
  now: Snapshot,
  previous: Snapshot | undefined,
  firstOfPool: boolean,
): Cells {
  const l = b.metrics.latency;
  // No samples in the window: the zeros in the summary mean "unknown", not "instant".
  const ms = (v: number) => number(l.count > 0 ? formatMs(v) : NONE);
  const breaker = b.breaker.state;
  return {
    pool: span(firstOfPool ? printable(b.pool) : "", "bold"),
    url: span(printable(b.id), MOOD_STYLE[backendMood(b)]),
    health: span(b.health, b.health === "healthy" ? "green" : "red"),
    breaker: span(
      breaker === "half_open" ? "half-open" : breaker,
      breaker === "closed" ? "green" : breaker === "open" ? "red" : "yellow",
    ),
    warmup: span(
      `${Math.round(b.warmupPercent)}%`,
      b.health === "healthy" && b.warmupPercent < 100 ? "yellow" : undefined,
    ),
    weight: span(`${formatCount(b.effectiveWeight)}/${formatCount(b.weight)}`),
    inFlight: span(formatCount(b.metrics.inFlight)),
    requestsPerSecond: number(formatPerSecond(backendRequestsPerSecond(b, now, previous))),
    p50: ms(l.p50),
    p95: ms(l.p95),
    p99: ms(l.p99),
    errors: span(formatCount(b.metrics.errors), b.metrics.errors > 0 ? "red" : undefined),
  };
}

/** What the table needs to draw itself. */
export interface TableInput {
  readonly snapshot: Snapshot;
  readonly previous: Snapshot | undefined;
  /** Terminal width in columns. */
  readonly width: number;
  /** Lines for rows (the column header not included), at least 1. */
  readonly rows: number;
}

/** The drawn table. */
export interface Table {
  /** The column header line. */
  readonly header: Line;
  /** At most `rows` lines. */
  readonly rows: Line[];
  /** The columns kept, in order. */
  readonly columns: readonly ColumnKey[];
}

/**
 * Draws the backends table. Backends stay in configuration order; when
 * there are more than `rows`, the last line says how many more there are
 * and how many of those need attention, so a problem is never silently
 * hidden below the fold.
 */
export function backendTable(input: TableInput): Table {
  const { snapshot, previous, width } = input;
  const all = snapshot.backends;
  const rows = Math.max(1, input.rows);
  const shownCount = all.length <= rows ? all.length : rows >= 2 ? rows - 1 : 0;
  const shown = all.slice(0, shownCount).map((b, i) =>
    cellsOf(b, snapshot, previous, i === 0 || all[i - 1]!.pool !== b.pool)
  );
  const pooled = new Set(all.map((b) => b.pool)).size > 1;
  const columnsShown = pooled ? COLUMNS : COLUMNS.filter((c) => c.key !== "pool");

  // Each column as wide as its widest cell or title.
  const naturalWidths = new Map<ColumnKey, number>();
  for (const col of columnsShown) {
    let w = displayWidth(col.title);
    for (const cells of shown) w = Math.max(w, displayWidth(cells[col.key].text));
    naturalWidths.set(col.key, w);
  }
  const natural = (key: ColumnKey) => naturalWidths.get(key)!;
  const urlNatural = natural("url");
  let kept = columnsShown.filter((c) => c.key !== "url");
  const othersWidth = () => kept.reduce((sum, c) => sum + natural(c.key) + GAP.length, 0);
  for (const key of COLUMN_DROP_ORDER) {
    if (Math.min(urlNatural, URL_MIN) + othersWidth() <= width) break;
    kept = kept.filter((c) => c.key !== key);
  }
  const urlWidth = Math.max(width - othersWidth(), Math.min(urlNatural, URL_FLOOR));
  const widths = new Map<ColumnKey, number>(kept.map((c) => [c.key, natural(c.key)]));
  widths.set("url", Math.min(urlNatural, urlWidth));
  const url = columnsShown.find((c) => c.key === "url")!;
  const columns = pooled ? [kept[0]!, url, ...kept.slice(1)] : [url, ...kept];

  const line = (cell: (c: Column) => Span): Line => {
    const out: Span[] = [];
    columns.forEach((c, i) => {
      const s = cell(c);
      const w = widths.get(c.key)!;
      const last = i === columns.length - 1;
      // The last cell is not padded on the right: lines carry no trailing blanks.
      const text = c.align === "right" ? padStart(s.text, w) : last ? s.text : padEnd(s.text, w);
      if (i > 0) out.push(span(GAP));
      out.push(span(text, s.style));
    });
    return out;
  };

  const header = line((c) => span(c.title, "bold"));
  const body = shown.map((cells) =>
    line((c) => {
      const s = cells[c.key];
      return c.key === "url" ? span(truncateUrl(s.text, widths.get("url")!), s.style) : s;
    })
  );
  if (all.length === 0) body.push([span("no backends configured", "dim")]);
  if (shownCount < all.length) body.push(moreRow(all.slice(shownCount), shownCount === 0));
  return { header, rows: body, columns: columns.map((c) => c.key) };
}

/** `… and 9 more (2 unhealthy, 1 open)`, or `20 backends (…)` when none is shown. */
function moreRow(hidden: readonly BackendSnapshot[], noneShown: boolean): Line {
  const unhealthy = hidden.filter((b) => b.health === "unhealthy").length;
  const open = hidden.filter((b) => b.breaker.state === "open").length;
  const halfOpen = hidden.filter((b) => b.breaker.state === "half_open").length;
  const problems = [
    unhealthy > 0 ? `${unhealthy} unhealthy` : "",
    open > 0 ? `${open} open` : "",
    halfOpen > 0 ? `${halfOpen} half-open` : "",
  ].filter((p) => p !== "");
  const count = noneShown ? `${hidden.length} backends` : `… and ${hidden.length} more`;
  const text = problems.length > 0 ? `${count} (${problems.join(", ")})` : count;
  return [span(text, unhealthy + open > 0 ? "red" : halfOpen > 0 ? "yellow" : "dim")];
}
