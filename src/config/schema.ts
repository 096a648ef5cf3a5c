/**
 * A small typed schema for `aegis.yml`: each field knows its type, default,
 * documentation and how to decode itself from a YAML node, so one table gives
 * the TypeScript type of the configuration, the defaults `aegis check` prints,
 * and errors that point at a line and column.
 *
 * Decoding never stops at the first problem: every field reports into one
 * {@linkcode Decoder} and the caller gets all diagnostics at once.
 *
 * @module
 */

import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
} from "yaml";
import { formatDuration, parseDuration } from "./duration.ts";

/** One configuration problem, positioned when the file says where. */
export interface Diagnostic {
  /** Dotted path into the configuration, such as `backends[1].url`. */
  readonly path: string;
  /** What is wrong, in words a user can act on. */
  readonly message: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** 1-based column, when known. */
  readonly col?: number;
}

/** A source position. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** Collects diagnostics and remembers where each decoded path was written. */
export class Decoder {
  /** Every problem found so far, in file order of discovery. */
  readonly diagnostics: Diagnostic[] = [];
  /** Where each path that appeared in the file starts. */
  readonly positions: Map<string, Position> = new Map();
  /**
   * Every value that decoded cleanly, by path, even inside sections that
   * failed elsewhere: cross-field checks read these so that one broken field
   * does not hide the problems of its neighbours.
   */
  readonly values: Map<string, unknown> = new Map();
  readonly #lines: LineCounter | undefined;
  readonly #doc: Document | undefined;

  /**
   * @param lines maps offsets to positions; omit for values not read from a file
   * @param doc the document, to follow aliases (`*name`) to their anchors
   */
  constructor(lines?: LineCounter, doc?: Document) {
    this.#lines = lines;
    this.#doc = doc;
  }

  /** The node an alias refers to, if the anchor exists. */
  resolve(alias: Alias): Node | undefined {
    return this.#doc ? alias.resolve(this.#doc) as Node | undefined : undefined;
  }

  /** The position of `node`, if it came from the file. */
  positionOf(node: Node | undefined): Position | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined || !this.#lines) return undefined;
    const { line, col } = this.#lines.linePos(offset);
    return { line, col };
  }

  /** Records where `path` was written. */
  remember(path: string, node: Node | undefined): void {
    const pos = this.positionOf(node);
    if (pos) this.positions.set(path, pos);
  }

  /**
   * Adds a problem at `node`, or at the remembered position of `path` or its
   * closest parent, or at the start of the file.
   */
  report(path: string, message: string, node?: Node): void {
    const pos = this.positionOf(node) ?? this.nearest(path) ?? { line: 1, col: 1 };
    this.diagnostics.push({ path, message, ...pos });
  }

  /** The position of `path` or of its closest remembered parent. */
  nearest(path: string): Position | undefined {
    for (let p = path; p !== "";) {
      const pos = this.positions.get(p);
      if (pos) return pos;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      p = cut > 0 ? p.slice(0, cut) : "";
    }
    return undefined;
  }
}

/** How to read one value from YAML, print it back and document it. */
export interface Field<T> {
  /** Short type description used in docs and errors, e.g. `duration`. */
  readonly type: string;
  /** What the field means. */
  readonly doc: string;
  /** The value when the field is absent; `undefined` makes it required. */
  readonly default: T | undefined;
  /** Values never printed in full (tokens). */
  readonly secret?: boolean;
  /** Decodes `node`, or reports and returns `undefined`. */
  decode(node: Node, path: string, d: Decoder): T | undefined;
  /** Turns a decoded value back into plain YAML data. */
  print(value: T): unknown;
}

/** The value type a field decodes to. */
export type Infer<F> = F extends Field<infer T> ? T : never;

/** A map of field names to fields. */
export type FieldMap = Record<string, Field<unknown>>;

/** The decoded object of a section. */
export type SectionValue<M extends FieldMap> = { readonly [K in keyof M]: Infer<M[K]> };

/** Follows YAML aliases (`*anchor`) to the node they name. */
function deref(node: Node, d: Decoder): Node {
  let n: Node = node;
  for (let i = 0; i < 16 && isAlias(n); i++) n = d.resolve(n) ?? n;
  return n;
}

function scalarValue(node: Node, d: Decoder): { ok: true; value: unknown } | { ok: false } {
  const n = deref(node, d);
  return isScalar(n) ? { ok: true, value: n.value } : { ok: false };
}

function isNullScalar(node: Node, d: Decoder): boolean {
  const n = deref(node, d);
  return isScalar(n) && n.value === null;
}

function describe(node: Node, d: Decoder): string {
  const n = deref(node, d);
  if (isMap(n)) return "a mapping";
  if (isSeq(n)) return "a list";
  if (isScalar(n)) {
    const v = n.value;
    if (v === null) return "nothing (null)";
    if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
    return `${typeof v} ${String(v)}`;
  }
  return "an unsupported value";
}

interface ScalarOptions<T> {
  doc: string;
  default?: T;
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
      const s = scalarValue(node, d);
      if (!s.ok) {
        d.report(path, `expected ${type}, found ${describe(node, d)}`, node);
        return undefined;
      }
      const r = read(s.value);
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
        return { error: `expected ${type}, found ${JSON.stringify(v)}` };
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
        return { error: `expected ${type}, found ${JSON.stringify(v)}` };
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

/** A positive duration string such as `5s`, decoded to milliseconds. */
export function duration(o: ScalarOptions<number> & { max?: number }): Field<number> {
  return scalar(
    "duration",
    (v) => {
      if (typeof v !== "string") {
        return {
          error: `expected a duration such as "250ms", "5s" or "2m", found ${JSON.stringify(v)}`,
        };
      }
      const ms = parseDuration(v);
      if (ms === undefined) {
        return {
          error: `invalid duration ${JSON.stringify(v)}: use a number and a unit (ms, s, m, h)`,
        };
      }
      if (ms <= 0) return { error: `${JSON.stringify(v)} must be positive` };
      if (!Number.isInteger(ms)) {
        return { error: `${JSON.stringify(v)} is not a whole number of milliseconds` };
      }
      if (o.max !== undefined && ms > o.max) {
        return {
          error: `${JSON.stringify(v)} is out of range: must be at most ${formatDuration(o.max)}`,
        };
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
        : { error: `expected true or false, found ${JSON.stringify(v)}` },
    (v) => v,
    o,
  );
}

/** A string, optionally checked. */
export function str(o: ScalarOptions<string>): Field<string> {
  return scalar<string>(
    "string",
    (v) =>
      typeof v === "string"
        ? { value: v }
        : { error: `expected a string, found ${JSON.stringify(v)}` },
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
        : { error: `must be one of ${values.join(", ")}; found ${JSON.stringify(v)}` },
    (v) => v,
    o,
  );
}

/** A list of items, each decoded by `item`. */
export function list<T>(
  item: Field<T>,
  o: { doc: string; default?: T[]; min?: number },
): ListField<T> {
  return {
    type: `list of ${item.type}`,
    doc: o.doc,
    default: o.default,
    item,
    decode(node, path, d) {
      const n = deref(node, d);
      if (!isSeq(n)) {
        d.report(path, `expected a list, found ${describe(node, d)}`, node);
        return undefined;
      }
      const out: T[] = [];
      let ok = true;
      n.items.forEach((child, i) => {
        const at = `${path}[${i}]`;
        d.remember(at, child as Node);
        if (child === null) {
          d.report(at, "empty list item", n);
          ok = false;
          return;
        }
        const v = item.decode(child as Node, at, d);
        if (v === undefined) ok = false;
        else {
          out.push(v);
          d.values.set(at, v);
        }
      });
      if (ok && o.min !== undefined && out.length < o.min) {
        d.report(path, `needs at least ${o.min} item${o.min === 1 ? "" : "s"}`, node);
        return undefined;
      }
      return ok ? out : undefined;
    },
    print: (v) => v.map((x) => item.print(x)),
  };
}

/** A section field, which also exposes its fields for documentation. */
export interface SectionField<M extends FieldMap> extends Field<SectionValue<M>> {
  /** The fields of this section, by key. */
  readonly fields: M;
}

/** A list field, which also exposes its item field for documentation. */
export interface ListField<T> extends Field<T[]> {
  /** How each item decodes. */
  readonly item: Field<T>;
}

/** A mapping with known keys; unknown keys are errors. */
export function section<M extends FieldMap>(doc: string, fields: M): SectionField<M> {
  const names = Object.keys(fields);
  const required = names.filter((k) => fields[k]!.default === undefined);
  const defaults = required.length === 0
    ? Object.fromEntries(names.map((k) => [k, fields[k]!.default])) as SectionValue<M>
    : undefined;
  return {
    type: "mapping",
    doc,
    default: defaults,
    fields,
    decode(node, path, d) {
      const n = deref(node, d);
      const at = (k: string) => (path ? `${path}.${k}` : k);
      if (isNullScalar(n, d)) {
        // `server:` with nothing under it reads as "use the defaults".
        if (defaults) return defaults;
        for (const k of required) d.report(at(k), "is required", node);
        return undefined;
      }
      if (!isMap(n)) {
        d.report(path || "(root)", `expected a mapping, found ${describe(node, d)}`, node);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      const seen = new Set<string>();
      let ok = true;
      for (const pair of n.items) {
        const keyNode = pair.key as Node;
        const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
        if (key === undefined || !(key in fields)) {
          const where = key === undefined ? path || "(root)" : at(key);
          const known = names.join(", ");
          d.report(
            where,
            `unknown key${key === undefined ? "" : ` "${key}"`}; expected one of: ${known}`,
            keyNode,
          );
          ok = false;
          continue;
        }
        seen.add(key);
        const valueNode = pair.value as Node | null;
        d.remember(
          at(key),
          valueNode !== null && !isNullScalar(valueNode, d) ? valueNode : keyNode,
        );
        const field = fields[key]!;
        const empty = valueNode === null || isNullScalar(valueNode, d);
        if (empty && field.type !== "mapping") {
          d.report(at(key), `has no value; expected ${field.type}`, keyNode);
          ok = false;
          continue;
        }
        const v = field.decode(valueNode ?? keyNode, at(key), d);
        if (v === undefined) ok = false;
        else {
          out[key] = v;
          d.values.set(at(key), v);
        }
      }
      for (const k of names) {
        if (seen.has(k)) continue;
        const field = fields[k]!;
        if (field.default === undefined) {
          d.report(at(k), "is required", node);
          ok = false;
        } else {
          out[k] = field.default;
          d.values.set(at(k), field.default);
        }
      }
      return ok ? out as SectionValue<M> : undefined;
    },
    print(value) {
      return Object.fromEntries(
        names.map((k) => {
          const field = fields[k]!;
          const v = (value as Record<string, unknown>)[k];
          return [k, field.secret ? (v ? "<redacted>" : v) : field.print(v)];
        }),
      );
    },
  };
}

/** Every documented field of a schema, as `path → field`, for docs and tests. */
export function walkFields(
  field: Field<unknown>,
  path = "",
  out: Map<string, Field<unknown>> = new Map(),
): Map<string, Field<unknown>> {
  if (path) out.set(path, field);
  if ("fields" in field) {
    for (const [k, f] of Object.entries(field.fields as FieldMap)) {
      walkFields(f, path ? `${path}.${k}` : k, out);
    }
  }
  if ("item" in field) walkFields(field.item as Field<unknown>, `${path}[]`, out);
  return out;
}
