/**
 * The leaf fields of the schema: numbers, durations, booleans, strings and
 * enumerations, each decoded from a YAML scalar with a message a user can
 * act on when it does not fit. Values quoted in messages go through
 * `echo.ts`, so a huge value is never repeated in full.
 *
 * @module
 */

import { isScalar } from "yaml";
import { formatDuration, parseDuration } from "./duration.ts";
import { clip, echoValue } from "./echo.ts";
import { deref, describe, type Field } from "./schema.ts";

/** What every leaf field takes. */
export interface ScalarOptions<T> {
  /** What the field means. */
  doc: string;
  /** The value when the field is absent; absent makes the field required. */
  default?: T;
  /** Never printed in full (tokens). */
  secret?: boolean;
  /** Extra validation; returns a message when the value is not acceptable. */
  check?: (value: T) => string | undefined;
}

function scalar<T>(
  type: string,
  read: (v: unknown) => { value: T } | { error: string },
  print: (v: T) => unknown,
  o: ScalarOptions<T>,
): Field<T> {
  return {
    type,
    doc: o.doc,
    default: o.default,
    secret: o.secret,
    decode(node, path, d) {
      const n = deref(node, d);
      if (!isScalar(n)) {
        d.report(path, `expected ${type}, found ${describe(node, d)}`, node);
        return undefined;
      }
      if (typeof n.value === "number" && !Number.isFinite(n.value)) {
        // YAML reads 1e400 as Infinity and has .inf and .nan; no field takes them.
        const written = n.source ? clip(n.source) : echoValue(n.value);
        d.report(path, `${written} is not a finite number; expected ${type}`, node);
        return undefined;
      }
      const r = read(n.value);
      if ("error" in r) {
        d.report(path, r.error, node);
        return undefined;
      }
      const problem = o.check?.(r.value);
      if (problem) {
        d.report(path, problem, node);
        return undefined;
      }
      return r.value;
    },
    print,
  };
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return "";
}

/** A whole number within `[min, max]`. */
export function int(o: ScalarOptions<number> & { min?: number; max?: number }): Field<number> {
  const type = `integer${rangeText(o.min, o.max)}`;
  return scalar(
    type,
    (v) => {
      if (typeof v !== "number" || !Number.isInteger(v)) {
        return { error: `expected ${type}, found ${echoValue(v)}` };
      }
      if ((o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) {
        return { error: `${v} is out of range: must be ${type.slice("integer ".length)}` };
      }
      return { value: v };
    },
    (v) => v,
    o,
  );
}

/** A number above `above` (exclusive) and up to `max`, or within `[min, max]`. */
export function num(
  o: ScalarOptions<number> & { min?: number; above?: number; max?: number; below?: number },
): Field<number> {
  const bounds = [
    o.above !== undefined ? `> ${o.above}` : o.min !== undefined ? `≥ ${o.min}` : "",
    o.below !== undefined ? `< ${o.below}` : o.max !== undefined ? `≤ ${o.max}` : "",
  ].filter(Boolean).join(" and ");
  const type = bounds ? `number ${bounds}` : "number";
  return scalar(
    type,
    (v) => {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        return { error: `expected ${type}, found ${echoValue(v)}` };
      }
      const bad = (o.above !== undefined && v <= o.above) || (o.min !== undefined && v < o.min) ||
        (o.below !== undefined && v >= o.below) || (o.max !== undefined && v > o.max);
      if (bad) return { error: `${v} is out of range: must be ${bounds}` };
      return { value: v };
    },
    (v) => v,
    o,
  );
}

/**
 * A positive duration string such as `5s`, decoded to milliseconds; `zero`
 * also accepts `0s` (where zero means something, such as HSTS's `max-age=0`).
 */
export function duration(
  o: ScalarOptions<number> & { max?: number; zero?: boolean },
): Field<number> {
  return scalar(
    "duration",
    (v) => {
      if (typeof v !== "string") {
        return {
          error: `expected a duration such as "250ms", "5s" or "2m", found ${echoValue(v)}`,
        };
      }
      const ms = parseDuration(v);
      if (ms === undefined) {
        return {
          error: `invalid duration ${echoValue(v)}: use a number and a unit (ms, s, m, h)`,
        };
      }
      if (ms < 0 || (ms === 0 && !o.zero)) return { error: `${echoValue(v)} must be positive` };
      // Before the whole-number check: "1e999" digits make Infinity, which is not whole either.
      if ((o.max !== undefined && ms > o.max) || !Number.isFinite(ms)) {
        const most = o.max === undefined ? "" : `: must be at most ${formatDuration(o.max)}`;
        return { error: `${echoValue(v)} is out of range${most}` };
      }
      if (!Number.isInteger(ms)) {
        return { error: `${echoValue(v)} is not a whole number of milliseconds` };
      }
      return { value: ms };
    },
    formatDuration,
    o,
  );
}

/** `true` or `false` (YAML 1.2: `yes`/`no` are strings, and rejected). */
export function bool(o: ScalarOptions<boolean>): Field<boolean> {
  return scalar<boolean>(
    "boolean",
    (v) =>
      typeof v === "boolean"
        ? { value: v }
        : { error: `expected true or false, found ${echoValue(v)}` },
    (v) => v,
    o,
  );
}

/** A string, optionally checked. */
export function str(o: ScalarOptions<string>): Field<string> {
  return scalar<string>(
    "string",
    (v) =>
      typeof v === "string" ? { value: v } : { error: `expected a string, found ${echoValue(v)}` },
    (v) => v,
    o,
  );
}

/** One of a fixed set of strings. */
export function oneOf<const V extends string>(
  values: readonly V[],
  o: ScalarOptions<V>,
): Field<V> {
  const type = values.map((v) => JSON.stringify(v)).join(" | ");
  return scalar<V>(
    type,
    (v) =>
      typeof v === "string" && (values as readonly string[]).includes(v)
        ? { value: v as V }
        : { error: `must be one of ${values.join(", ")}; found ${echoValue(v)}` },
    (v) => v,
    o,
  );
}
