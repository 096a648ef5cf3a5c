/**
 * Overrides of a top-level section: `rate_limit` written under a listener,
 * `health_check` under a pool. Only the fields written are kept, so that
 * every field left out can take the top-level section's value (which takes
 * its default) when the configuration is expanded: a listener that sets
 * `rate_limit: { burst: 10 }` keeps the top-level `requests_per_second`.
 *
 * @module
 */

import type { Decoder } from "./decoder.ts";
import { clip, quote } from "./echo.ts";
import {
  deref,
  describe,
  type Field,
  type FieldMap,
  isNullScalar,
  type SectionField,
  type SectionValue,
} from "./schema.ts";
import { isMap, isScalar, type Node } from "yaml";

/** The fields an override wrote; absent ones are inherited. */
export type Overrides<M extends FieldMap> = Partial<SectionValue<M>>;

/**
 * A mapping with the fields of `base`, each optional; `{}` when absent or
 * empty. Unknown keys are errors, as in every section.
 *
 * @param name the top-level section `base` is (`rate_limit`), for the docs
 *
 * @example
 * ```ts
 * const listener = section("A listener", { rate_limit: overrides("rate_limit", rateLimit) });
 * // rate_limit: { burst: 10 } decodes to { burst: 10 }
 * ```
 */
export function overrides<M extends FieldMap>(
  name: string,
  base: SectionField<M>,
): Field<Overrides<M>> {
  const fields = base.fields;
  const names = Object.keys(fields);
  return {
    type: "mapping",
    doc: `Overrides of the top-level ${name} section; fields left out take its values`,
    default: {},
    inherits: name,
    decode(node: Node, path: string, d: Decoder) {
      const n = deref(node, d);
      if (isNullScalar(n, d)) return {};
      if (!isMap(n)) {
        d.report(path, `expected a mapping, found ${describe(node, d)}`, node);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const pair of n.items) {
        const keyNode = pair.key as Node;
        const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
        // [SECURITY] Prototype confusion, as in `section`: own keys only.
        if (key === undefined || !Object.hasOwn(fields, key)) {
          const where = key === undefined ? path : `${path}.${clip(key)}`;
          const what = key === undefined ? "" : ` ${quote(key)}`;
          d.report(where, `unknown key${what}; expected one of: ${names.join(", ")}`, keyNode);
          ok = false;
          continue;
        }
        const at = `${path}.${key}`;
        d.present.add(at);
        const valueNode = pair.value as Node | null;
        const empty = valueNode === null || isNullScalar(valueNode, d);
        d.remember(at, empty ? keyNode : valueNode);
        const field = fields[key]!;
        if (empty) {
          d.report(at, `has no value; expected ${field.type}`, keyNode);
          ok = false;
          continue;
        }
        const v = field.decode(valueNode, at, d);
        if (v === undefined) ok = false;
        else {
          out[key] = v;
          d.values.set(at, v);
        }
      }
      return ok ? out as Overrides<M> : undefined;
    },
    print(value) {
      const v = value as Record<string, unknown>;
      return Object.fromEntries(
        names.filter((k) => v[k] !== undefined).map((k) => [k, fields[k]!.print(v[k])]),
      );
    },
  };
}
