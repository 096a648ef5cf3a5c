/**
 * Styled lines and the one place they become strings.
 *
 * Panels build lines as lists of spans (text plus an optional style) and
 * never write an escape sequence themselves. {@linkcode finish} then cuts
 * the line to the terminal width, so no panel can make a line wrap, and
 * adds colour only when asked, so `color: false` output holds no escape
 * sequence at all. Only SGR ("Select Graphic Rendition", ECMA-48 §8.3.117)
 * codes are emitted, and every styled span is followed by a reset, so a
 * line never leaks its style into the next one or into a cut.
 *
 * @module
 */

import { displayWidth, ELLIPSIS, takeStart } from "./_text.ts";

/** The styles a span may carry. */
export type Style = "bold" | "dim" | "red" | "green" | "yellow" | "cyan" | "title" | "alert";

/** One run of text in one style. Text must already be printable (see `printable`). */
export interface Span {
  readonly text: string;
  readonly style?: Style;
}

/** One dashboard line before it is fitted and coloured. */
export type Line = readonly Span[];

const SGR: Readonly<Record<Style, string>> = {
  bold: "1",
  dim: "2",
  red: "31",
  green: "32",
  yellow: "33",
  cyan: "36",
  title: "1;36",
  alert: "1;33",
};

const RESET = "\x1b[0m";

/** A span; shorthand that keeps panel code short. */
export function span(text: string, style?: Style): Span {
  return style === undefined ? { text } : { text, style };
}

/** Display width of a line. */
export function lineWidth(line: Line): number {
  let w = 0;
  for (const s of line) w += displayWidth(s.text);
  return w;
}

/**
 * Spans joined by a separator span, skipping empty ones.
 *
 * @example
 * ```ts
 * joinSpans([[span("a")], [span("b")]], span(" · ", "dim")); // a · b
 * ```
 */
export function joinSpans(parts: readonly Line[], separator: Span): Span[] {
  const out: Span[] = [];
  for (const part of parts) {
    if (part.length === 0) continue;
    if (out.length > 0) out.push(separator);
    out.push(...part);
  }
  return out;
}

/**
 * Like {@linkcode joinSpans}, but keeps only whole parts that fit in
 * `width`, in order, skipping any that would overflow: a list of
 * `label value` fields reads better with a field left out than cut in
 * half. The first part is always kept (and cut by `finish` if need be).
 */
export function joinFitting(parts: readonly Line[], separator: Span, width: number): Span[] {
  const out: Span[] = [];
  let used = 0;
  const sep = displayWidth(separator.text);
  for (const part of parts) {
    if (part.length === 0) continue;
    const w = lineWidth(part) + (out.length > 0 ? sep : 0);
    if (out.length > 0 && used + w > width) continue;
    if (out.length > 0) out.push(separator);
    out.push(...part);
    used += w;
  }
  return out;
}

/** A section title filling the width: `── Backends ─────`. */
export function rule(title: string, width: number, detail = ""): Line {
  const head = `── ${title} `;
  const tail = detail === "" ? "" : `${detail} `;
  const fill = Math.max(0, width - displayWidth(head) - displayWidth(tail));
  const line: Span[] = [span(head, "title")];
  if (tail !== "") line.push(span(tail, "dim"));
  line.push(span("─".repeat(fill), "dim"));
  return line;
}

/**
 * Turns a line into the string to print: cut to `width` columns with a
 * trailing `…` when it is too long, coloured when `color` is set.
 */
export function finish(line: Line, width: number, color: boolean): string {
  if (width <= 0) return "";
  const total = lineWidth(line);
  const budget = total <= width ? Infinity : width - displayWidth(ELLIPSIS);
  let used = 0;
  let out = "";
  for (const s of line) {
    const w = displayWidth(s.text);
    if (used + w <= budget) {
      out += paint(s.text, s.style, color);
      used += w;
      continue;
    }
    // This span crosses the edge: keep what fits, mark the cut in its style.
    out += paint(takeStart(s.text, budget - used) + ELLIPSIS, s.style, color);
    break;
  }
  // Every styled span resets after itself; the explicit reset at the end
  // also covers a driver that appends text after the line.
  return color && out.includes("\x1b[") ? out + RESET : out;
}

function paint(text: string, style: Style | undefined, color: boolean): string {
  if (!color || style === undefined || text === "") return text;
  return `\x1b[${SGR[style]}m${text}${RESET}`;
}
