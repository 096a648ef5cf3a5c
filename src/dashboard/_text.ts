/**
 * Display-width text handling for the dashboard: making untrusted text safe
 * to print, measuring it in terminal columns, and cutting it to fit.
 *
 * Widths come from `string-width` (East Asian wide characters and emoji
 * count 2, combining marks 0, ambiguous-width characters such as `…` and
 * `·` count 1). Cutting works on grapheme clusters (`Intl.Segmenter`), so
 * an emoji with a skin tone or a letter with its accent is never split.
 *
 * @module
 */

import stringWidth from "string-width";

/** The one character that marks text as cut. */
export const ELLIPSIS = "…";

// [SECURITY] Terminal injection. C0 and C1 controls and DEL move the
// cursor or start escape sequences; bidirectional overrides and isolates
// reorder what follows them on screen
// ("Trojan Source", CVE-2021-42574). Backend URLs and event messages can
// carry text from outside (a probe's error detail), so none of these may
// reach the terminal.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const BLANKS = /[\t\n\v\f\r]+/g;

/**
 * Makes text safe to print on one terminal line: line breaks and tabs
 * become one space, every other control character (ESC included) becomes
 * `�`, bidi overrides are removed.
 *
 * @example
 * ```ts
 * printable("a\nb\u001b[2J"); // "a b�[2J"
 * ```
 */
export function printable(text: string): string {
  return text.replace(BLANKS, " ").replace(UNSAFE, (c) => (c >= "\u202a" ? "" : "\ufffd"));
}

// Printable ASCII is one column per character; most dashboard text is
// just that, and skipping `string-width` for it keeps a frame cheap.
const ASCII = /^[\x20-\x7e]*$/;
// …and so are the few non-ASCII characters the dashboard draws itself.
const NARROW = /^[\x20-\x7e─·…→↑↓–]*$/;

/** Columns `text` takes on a terminal (ANSI sequences count 0). */
export function displayWidth(text: string): number {
  return NARROW.test(text) ? text.length : stringWidth(text);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** The grapheme clusters of `text`, each with its display width, lazily. */
function* clusters(text: string): Generator<{ readonly text: string; readonly width: number }> {
  for (const { segment } of segmenter.segment(text)) {
    yield { text: segment, width: displayWidth(segment) };
  }
}

/**
 * The longest prefix of `text` that fits in `width` columns. A wide
 * character that would straddle the edge is left out whole.
 */
export function takeStart(text: string, width: number): string {
  if (ASCII.test(text)) return text.slice(0, Math.max(0, width));
  let used = 0;
  let out = "";
  for (const c of clusters(text)) {
    if (used + c.width > width) break;
    used += c.width;
    out += c.text;
  }
  return out;
}

/** The longest suffix of `text` that fits in `width` columns. */
export function takeEnd(text: string, width: number): string {
  if (ASCII.test(text)) return width > 0 ? text.slice(-width) : "";
  const parts = [...clusters(text)];
  let used = 0;
  let out = "";
  for (let i = parts.length - 1; i >= 0; i--) {
    const c = parts[i]!;
    if (used + c.width > width) break;
    used += c.width;
    out = c.text + out;
  }
  return out;
}

/**
 * `text` if it fits in `width` columns, else its start and `…`.
 *
 * @example
 * ```ts
 * truncateEnd("circuit breaker open", 10); // "circuit b…"
 * ```
 */
export function truncateEnd(text: string, width: number): string {
  if (width <= 0) return "";
  if (displayWidth(text) <= width) return text;
  return takeStart(text, width - 1) + ELLIPSIS;
}

/**
 * `text` if it fits in `width` columns, else its start, `…` and its end
 * (the start gets the extra column when the split is uneven).
 *
 * @example
 * ```ts
 * truncateMiddle("backend-eu-west-1", 9); // "back…st-1"
 * ```
 */
export function truncateMiddle(text: string, width: number): string {
  if (width <= 0) return "";
  if (displayWidth(text) <= width) return text;
  const room = width - 1;
  const tail = takeEnd(text, Math.floor(room / 2));
  const head = takeStart(text, room - displayWidth(tail));
  return head + ELLIPSIS + tail;
}

// scheme://host:port/rest — host may be a bracketed IPv6 literal. Anything
// that does not look like a URL lands in `host`, so the rule still applies.
const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)?(\[[^\]]*\]|[^/:?#]*)(:\d+)?(.*)$/is;

/**
 * Fits a backend URL into `width` columns, keeping what tells backends
 * apart: the port stays whole and the host is cut in its middle
 * (`http://very-l…ernal:8081`). A path, if any, gives way first, down to
 * a lone `…`. When the scheme leaves the host fewer than
 * three columns, the scheme goes (`very-l…:8081`); when even that does
 * not fit, the whole URL is cut at its end.
 *
 * @example
 * ```ts
 * truncateUrl("http://very-long-host-name.internal:8081", 24); // "http://very-l…ernal:8081"
 * ```
 */
export function truncateUrl(url: string, width: number): string {
  if (width <= 0) return "";
  if (displayWidth(url) <= width) return url;
  const m = URL_PARTS.exec(url);
  const host = m?.[2] ?? "";
  if (m && host !== "") {
    const port = m[3] ?? "";
    const rest = m[4] ?? "";
    for (const scheme of [m[1] ?? "", ""]) {
      const room = width - displayWidth(scheme) - displayWidth(port);
      const hostRoom = Math.min(displayWidth(host), room - Math.min(displayWidth(rest), 1));
      if (hostRoom < 3) continue;
      const shownHost = truncateMiddle(host, hostRoom);
      return scheme + shownHost + port + truncateEnd(rest, room - displayWidth(shownHost));
    }
  }
  return truncateEnd(url, width);
}

/** `text` padded with spaces on the right to `width` columns (never cut). */
export function padEnd(text: string, width: number): string {
  const gap = width - displayWidth(text);
  return gap > 0 ? text + " ".repeat(gap) : text;
}

/** `text` padded with spaces on the left to `width` columns (never cut). */
export function padStart(text: string, width: number): string {
  const gap = width - displayWidth(text);
  return gap > 0 ? " ".repeat(gap) + text : text;
}
