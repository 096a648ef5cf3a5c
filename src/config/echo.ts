/**
 * Showing a user's value back to them in a diagnostic or a log line, at a
 * bounded length: `"http://very-long…" (1048576 characters)`.
 *
 * Every configuration message that quotes what the file says goes through
 * here, so the rule lives in one place.
 *
 * @module
 */

/** How many characters of a value a message shows before cutting it short. */
export const ECHO_MAX = 80;

// [SECURITY] Log and terminal flooding: a 1 MB value given where a duration
// is expected would otherwise be copied into every diagnostic, log line and
// admin API answer that mentions it. Values are cut to ECHO_MAX characters
// and say how long they really were.
/**
 * `text` as is when it has at most `max` characters; otherwise its first
 * `max` characters, `…` and the full length. For text shown without quotes
 * (a port number, a URL scheme, a whole message).
 *
 * @example
 * ```ts
 * clip("8080"); // "8080"
 * clip("9".repeat(1000)); // "999…999… (1000 characters)" with 80 nines
 * ```
 */
export function clip(text: string, max: number = ECHO_MAX): string {
  if (text.length <= max) return text;
  return `${head(text, max)}… (${text.length} characters)`;
}

/**
 * `text` as a JSON string literal, cut like {@linkcode clip}: control
 * characters are escaped, so a value cannot move a terminal's cursor or
 * forge a log line.
 *
 * @example
 * ```ts
 * quote("5 s"); // "\"5 s\""
 * quote("x".repeat(100_000)); // "\"xxx…xxx…\" (100000 characters)" with 80 x
 * ```
 */
export function quote(text: string, max: number = ECHO_MAX): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(head(text, max)).slice(0, -1)}…" (${text.length} characters)`;
}

/**
 * A decoded YAML scalar for a message: strings quoted and cut, numbers that
 * are not finite in YAML's own spelling (`.inf`, `-.inf`, `.nan`; JSON would
 * print them as `null`), everything else as JSON.
 */
export function echoValue(value: unknown): string {
  if (typeof value === "string") return quote(value);
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
  }
  return JSON.stringify(value) ?? String(value);
}

/** The first `max` UTF-16 units of `text`, never ending inside a surrogate pair. */
function head(text: string, max: number): string {
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
