/**
 * A mapping from names to items of one kind: `pools: { api: {…}, web: {…} }`.
 * Names are the identities runtime state is keyed by (a pool's backends keep
 * their health across reloads under the pool's name), so they are short,
 * lower-case and safe in a metric label, a log field and a dotted path.
 *
 * @module
 */

import { isMap, isScalar, type Node } from "yaml";
import type { Decoder } from "./decoder.ts";
import { quote } from "./echo.ts";
import { deref, describe, type Field, isNullScalar } from "./schema.ts";

/** What a name may look like: lower case letters and digits, then `_` and `-` too. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Checks a name against {@linkcode NAME_PATTERN}. */
export function checkName(name: string): string | undefined {
  return NAME_PATTERN.test(name)
    ? undefined
    : `${
      quote(name)
    } is not a name: use lower-case letters, digits, _ and - (starting with a letter or digit), at most 63 characters`;
}

/** A named mapping field, which also exposes its item field for documentation. */
export interface NamedField<T> extends Field<Record<string, T>> {
  /** How each entry decodes. */
  readonly entry: Field<T>;
}

/**
 * Names mapped to items decoded by `entry`; at least `min` of them. The
 * decoded value is a plain object: read it with `Object.hasOwn`, never by
 * plain lookup, or a route naming `toString` would find a "pool".
 *
 * @example
 * ```ts
 * const pools = named(poolSection, { doc: "Backend groups by name", min: 1 });
 * // pools: { api: { backends: [...] } } decodes to { api: { backends: [...], ... } }
 * ```
 */
export function named<T>(entry: Field<T>, o: { doc: string; min?: number }): NamedField<T> {
  return {
    type: `mapping of names to ${entry.type}`,
    doc: o.doc,
    default: undefined,
    entry,
    decode(node, path, d: Decoder) {
      const n = deref(node, d);
      if (!isMap(n)) {
        d.report(path, `expected a mapping of names, found ${describe(node, d)}`, node);
        return undefined;
      }
      const out: Record<string, T> = {};
      const names: string[] = [];
      let ok = true;
      for (const pair of n.items) {
        const keyNode = pair.key as Node;
        const name = isScalar(keyNode) ? String(keyNode.value) : undefined;
        const problem = name === undefined ? "a name must be a plain string" : checkName(name);
        if (problem || name === undefined) {
          d.report(path, problem!, keyNode);
          ok = false;
          continue;
        }
        const at = `${path}.${name}`;
        names.push(name);
        d.present.add(at);
        const valueNode = pair.value as Node | null;
        d.remember(at, keyNode);
        if (valueNode === null || isNullScalar(valueNode, d)) {
          d.report(at, `has no value; expected ${entry.type}`, keyNode);
          ok = false;
          continue;
        }
        const v = entry.decode(valueNode, at, d);
        if (v === undefined) ok = false;
        else {
          out[name] = v;
          d.values.set(at, v);
        }
      }
      d.names.set(path, names);
      if (ok && o.min !== undefined && names.length < o.min) {
        d.report(path, `needs at least ${o.min} entr${o.min === 1 ? "y" : "ies"}`, node);
        return undefined;
      }
      return ok ? out : undefined;
    },
    print: (v) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, entry.print(x)])),
  };
}
