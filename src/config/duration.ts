/**
 * Durations as people write them in `aegis.yml`: `250ms`, `5s`, `2m`, `1h`,
 * or combined like `1m30s`. Decimals are allowed (`1.5s`); a bare number is
 * not, because `30` alone could mean seconds or milliseconds.
 *
 * @module
 */

/** A day in milliseconds: the longest most timeouts may be. */
export const DAY_MS = 86_400_000;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/**
 * Parses a duration string to milliseconds, or returns `undefined` when the
 * text is not a duration.
 *
 * @example
 * ```ts
 * parseDuration("250ms"); // 250
 * parseDuration("1m30s"); // 90000
 * parseDuration("30"); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  // Decimal units are inexact in binary ("2.01s" is 2009.9999…); round off the noise.
  return Math.round(total * 1000) / 1000;
}

/**
 * Formats milliseconds in the largest units that keep it exact, the inverse
 * of {@linkcode parseDuration} for printing a resolved configuration.
 *
 * @example
 * ```ts
 * formatDuration(90_000); // "1m30s"
 * formatDuration(250); // "250ms"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
