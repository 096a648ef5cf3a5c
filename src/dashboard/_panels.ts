/**
 * The dashboard's panels other than the backends table: header, rate
 * limiter, event log and footer. Each returns lines of spans; none knows
 * the terminal height (the layout in `render.ts` decides how many lines a
 * panel gets) and none cuts to the width (`finish` does).
 *
 * @module
 */

import type { AegisEvent } from "../events/mod.ts";
import type { Snapshot } from "../snapshot/mod.ts";
import type { GlobalFigures } from "./_figures.ts";
import {
  formatClock,
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatPerSecond,
  formatRate,
} from "./_format.ts";
import { joinFitting, type Line, rule, type Span, span, type Style } from "./_line.ts";
import { displayWidth, padEnd, printable, truncateEnd } from "./_text.ts";

const SEP = span(" · ", "dim");

/** `label value`, the label dimmed. */
function field(label: string, value: string, style?: Style): Span[] {
  return [span(`${label} `, "dim"), span(value, style)];
}

/** What the header shows besides the snapshot. */
export interface HeaderInput {
  readonly snapshot: Snapshot;
  readonly figures: GlobalFigures;
  readonly paused: boolean;
  readonly draining: boolean;
}

function errorStyle(share: number | undefined): Style | undefined {
  if (share === undefined || share === 0) return undefined;
  return share >= 0.05 ? "red" : "yellow";
}

/**
 * The header: name, markers, uptime and address (each listener's, by name,
 * when there are several) on the first line,
 * traffic on the second; fields that do not fit are left out whole. The markers come right after the name so that a narrow
 * terminal, which cuts lines at their end, still shows them. `lines: 1`
 * gives the compact form, which keeps uptime and traffic and drops the
 * address, in-flight and connections (and open WebSocket sessions, `ws`,
 * while there are any).
 */
export function header(input: HeaderInput, width: number, lines: 1 | 2): Line[] {
  const { snapshot: s, figures: f } = input;
  const title: Span[] = [span(`Aegis ${printable(s.version)}`, "title")];
  if (input.draining) title.push(span(" DRAINING", "alert"));
  if (input.paused) title.push(span(" PAUSED", "alert"));
  const uptime = field("up", formatDuration(s.uptimeMs));
  const rps = field("req/s", formatPerSecond(f.requestsPerSecond));
  const errors = field("errors", formatPercent(f.errorShare), errorStyle(f.errorShare));
  const rate = field("rate", `${formatRate(s.limiter.rate)}/s`);
  if (lines === 1) return [joinFitting([title, uptime, rps, errors, rate], SEP, width)];
  // One listener: its address, as ever; several: each by name.
  const addresses = s.listeners.length > 1
    ? s.listeners.map((l) => field(printable(l.name), printable(l.url)))
    : [[span(printable(s.listen))]];
  // Shown only while there are any: most deployments never relay one.
  const webSockets = s.websocket.open.reduce((n, o) => n + o.open, 0);
  return [
    joinFitting([title, uptime, ...addresses], SEP, width),
    joinFitting(
      [
        rps,
        field("in-flight", formatCount(f.inFlight)),
        errors,
        rate,
        field("conns", formatCount(s.global.activeConnections)),
        ...(webSockets > 0 ? [field("ws", formatCount(webSockets))] : []),
      ],
      SEP,
      width,
    ),
  ];
}

function lastChange(s: Snapshot): Span[] {
  const c = s.limiter.lastChange;
  if (c === null) return [span("no change yet", "dim")];
  return [
    span(`${formatRate(c.from)} → ${formatRate(c.to)}`),
    span(` ${c.reason}`, c.reason === "reduce" ? "yellow" : "green"),
    span(` (P95 ${formatMs(c.p95)} ms)`, "dim"),
    span(` ${formatDuration(s.time - c.time)} ago`),
  ];
}

/**
 * The rate limiter: a titled panel of two lines (`lines: 3`), or one
 * compact line (`lines: 1`) with the rate, its bounds, 429/s and the last
 * change.
 */
export function limiter(s: Snapshot, f: GlobalFigures, width: number, lines: 1 | 3): Line[] {
  const l = s.limiter;
  const rejected = field("429/s", formatPerSecond(f.rateLimitedPerSecond));
  if (lines === 1) {
    const bounds = `${formatRate(l.rate)}/s (${formatRate(l.minRate)}–${formatRate(l.maxRate)})`;
    return [joinFitting([field("limit", bounds), rejected, lastChange(s)], SEP, width)];
  }
  const first = [
    field("rate", `${formatRate(l.rate)}/s`),
    field("min", formatRate(l.minRate)),
    field("max", formatRate(l.maxRate)),
    field("burst", formatCount(l.burst)),
    field("clients", `${formatCount(l.trackedClients)}/${formatCount(l.maxClients)}`),
    rejected,
  ];
  if (l.evictions > 0) first.push(field("evicted", formatCount(l.evictions), "yellow"));
  // With several listeners the panel shows the first one's limiter; it says so.
  const whose = s.listeners.length > 1 ? `Rate limiter · ${printable(s.listeners[0]!.name)}` : "";
  return [
    rule(whose || "Rate limiter", width),
    joinFitting(first, SEP, width),
    [span("last change ", "dim"), ...lastChange(s)],
  ];
}

function eventStyle(e: AegisEvent): Style | undefined {
  const f = e.fields;
  switch (e.kind) {
    case "breaker":
      return f.to === "open" ? "red" : f.to === "closed" ? "green" : "yellow";
    case "health":
      return f.health === "unhealthy" ? "red" : f.health === "healthy" ? "green" : undefined;
    case "warmup":
    case "drain":
      return "yellow";
    case "rate":
      return f.reason === "reduce" ? "yellow" : f.reason === "recover" ? "green" : undefined;
    case "reload":
      return f.ok === false ? "red" : f.ok === true ? "green" : undefined;
    case "limit":
      // Shared rate limits: lost (with a reason) or restored.
      return f.reason !== undefined ? "red" : "green";
    default:
      return undefined;
  }
}

/** Kinds are padded to a common width for alignment, but never past this. */
const KIND_MAX = 10;

/**
 * The event log: a title and `lines − 1` events, newest first, starting
 * `scroll` events down (clamped so the last page stays full). The title
 * says which events are shown, so a scrolled view is never mistaken for
 * the newest.
 */
export function eventLog(s: Snapshot, width: number, lines: number, scroll: number): Line[] {
  const rows = lines - 1;
  if (rows < 1) return [];
  const total = s.events.length;
  const wanted = Number.isFinite(scroll) ? Math.floor(scroll) : 0;
  const start = Math.max(0, Math.min(wanted, total - rows));
  const shown = s.events.slice(start, start + rows);
  const detail = total === 0 ? "" : `${start + 1}–${start + shown.length} of ${total}`;
  const out: Line[] = [rule("Events", width, detail)];
  if (total === 0) out.push([span("no events yet", "dim")]);
  const kinds = shown.map((e) => truncateEnd(printable(e.kind), KIND_MAX));
  const kindWidth = Math.max(0, ...kinds.map(displayWidth));
  shown.forEach((e, i) => {
    const style = eventStyle(e);
    out.push([
      span(`${formatClock(e.time)} `, "dim"),
      span(padEnd(kinds[i]!, kindWidth), style),
      span(` ${printable(e.message)}`, style),
    ]);
  });
  return out;
}

/** Key help; `PAUSED` leads when paused, so a narrow terminal still shows it. */
export function footer(paused: boolean, width: number): Line {
  const keys = ["q quit", "p pause", "↑↓ scroll events"].map((k) => [span(k, "dim")]);
  return joinFitting(paused ? [[span("PAUSED", "alert")], ...keys] : keys, SEP, width);
}
