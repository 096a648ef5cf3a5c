/**
 * A field that is either `auto` (a value Aegis works out at start, from the
 * machine it runs on) or an explicit whole number. `aegis check` prints
 * `auto` as written, so a resolved file stays portable between machines;
 * the value in force is logged at start and shown by `/status`.
 *
 * Built on the schema's own `int`, so explicit values are validated (and
 * their errors worded) like every other integer field.
 *
 * @module
 */

import { isAlias, isScalar, type Node } from "yaml";
import type { Decoder } from "./decoder.ts";
import { echoValue } from "./echo.ts";
import { int } from "./scalars.ts";
import type { Field } from "./schema.ts";

/** `auto`, or an integer within `[min, max]`; the default is `auto` unless `default` says otherwise. */
export function intOrAuto(
  o: { doc: string; min: number; max: number; default?: number | "auto" },
): Field<number | "auto"> {
  const whole = int({ doc: o.doc, min: o.min, max: o.max });
  const type = `"auto" | ${whole.type}`;
  return {
    type,
    doc: o.doc,
    default: o.default ?? "auto",
    decode(node: Node, path: string, d: Decoder) {
      const n = isAlias(node) ? d.resolve(node) ?? node : node;
      if (isScalar(n) && n.value === "auto") return "auto";
      if (isScalar(n) && typeof n.value === "string") {
        d.report(path, `expected ${type}, found ${echoValue(n.value)}`, node);
        return undefined;
      }
      return whole.decode(node, path, d);
    },
    print: (v) => v,
  };
}
