/**
 * A small typed schema for `aegis.yml`: each field knows its type, default,
 * documentation and how to decode itself from a YAML node, so one table gives
 * the TypeScript type of the configuration, the defaults `aegis check` prints,
 * and errors that point at a line and column.
 *
 * Decoding never stops at the first problem: every field reports into one
 * {@linkcode Decoder} and the caller gets all diagnostics at once. This
 * module has the node helpers, lists and sections; `scalars.ts` has the leaf
 * fields.
 *
 * @module
 */

import { isAlias, isMap, isScalar, isSeq, type Node } from "yaml";
import type { Decoder } from "./decoder.ts";
import { clip, echoValue, quote } from "./echo.ts";

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
  /** Absent means absent: no default and not required (see {@linkcode optional}). */
  readonly optional?: boolean;
  /**
   * The top-level section whose fields this one overrides (`rate_limit` in a
   * listener): documented once there, so the docs walk stops here.
   */
  readonly inherits?: string;
  /** Decodes `node`, or reports and returns `undefined`. */
  decode(node: Node, path: string, d: Decoder): T | undefined;
  /** Turns a decoded value back into plain YAML data. */
  print(value: T): unknown;
}

/** The value type a field decodes to. */
export type Infer<F> = F extends Field<infer T> ? T : never;

/**
 * `field`, made optional: absent from the file, it stays absent from the
 * decoded value (a listener that does not set `read_timeout` inherits it).
 */
export function optional<T>(field: Field<T>): OptionalField<T> {
  return {
    ...field,
    default: undefined,
    optional: true,
    decode: (node, path, d) => field.decode(node, path, d),
    print: (v) => (v === undefined ? undefined : field.print(v)),
  };
}

/** A map of field names to fields. */
export type FieldMap = Record<string, Field<unknown>>;

/** A field made optional by {@linkcode optional}. */
export type OptionalField<T> = Field<T | undefined> & { readonly optional: true };

/** The keys of `M` whose fields are optional. */
type OptionalKeys<M> = { [K in keyof M]: M[K] extends { readonly optional: true } ? K : never }[
  keyof M
];

/** The decoded object of a section: an optional field may be absent. */
export type SectionValue<M extends FieldMap> =
  & { readonly [K in Exclude<keyof M, OptionalKeys<M>>]: Infer<M[K]> }
  & { readonly [K in OptionalKeys<M>]?: Infer<M[K]> };

/** Follows YAML aliases (`*anchor`) to the node they name. */
export function deref(node: Node, d: Decoder): Node {
  let n: Node = node;
  for (let i = 0; i < 16 && isAlias(n); i++) n = d.resolve(n) ?? n;
  return n;
}

/** True for an empty value (`key:` or `~`), through aliases. */
export function isNullScalar(node: Node, d: Decoder): boolean {
  const n = deref(node, d);
  return isScalar(n) && n.value === null;
}

/** What `node` is, for "expected X, found Y" messages; values are cut short. */
export function describe(node: Node, d: Decoder): string {
  const n = deref(node, d);
  if (isMap(n)) return "a mapping";
  if (isSeq(n)) return "a list";
  if (isScalar(n)) {
    const v = n.value;
    if (v === null) return "nothing (null)";
    if (typeof v === "string") return `the string ${quote(v)}`;
    return `${typeof v} ${echoValue(v)}`;
  }
  return "an unsupported value";
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
  const required = names.filter((k) => fields[k]!.default === undefined && !fields[k]!.optional);
  const defaults = required.length === 0
    ? Object.fromEntries(
      names.filter((k) => !fields[k]!.optional).map((k) => [k, fields[k]!.default]),
    ) as SectionValue<M>
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
        // [SECURITY] Prototype confusion: `constructor`, `__proto__` or
        // `toString` must not find Object.prototype's members as fields
        // (they crashed the decoder); own keys only.
        if (key === undefined || !Object.hasOwn(fields, key)) {
          const where = key === undefined ? path || "(root)" : at(clip(key));
          const known = names.join(", ");
          d.report(
            where,
            `unknown key${key === undefined ? "" : ` ${quote(key)}`}; expected one of: ${known}`,
            keyNode,
          );
          ok = false;
          continue;
        }
        seen.add(key);
        d.present.add(at(key));
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
        if (field.optional) continue;
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
      const v = value as Record<string, unknown>;
      return Object.fromEntries(
        names.filter((k) => v[k] !== undefined).map((k) => {
          const field = fields[k]!;
          return [k, field.secret ? (v[k] ? "<redacted>" : v[k]) : field.print(v[k])];
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
  if (field.inherits !== undefined) return out;
  if ("entry" in field) walkFields(field.entry as Field<unknown>, `${path}.<name>`, out);
  if ("fields" in field) {
    for (const [k, f] of Object.entries(field.fields as FieldMap)) {
      walkFields(f, path ? `${path}.${k}` : k, out);
    }
  }
  if ("item" in field) walkFields(field.item as Field<unknown>, `${path}[]`, out);
  return out;
}
