/**
 * The syntax of `load_balancing.hash_key`: where the affinity key of a
 * request comes from. It lives with the configuration because it is
 * configuration syntax: validation needs it, and the pool, which computes
 * keys from it, sits above configuration and imports it from here.
 *
 * @module
 */

/** Where the affinity key of a request comes from: `load_balancing.hash_key`. */
export type HashKeySource =
  | { readonly kind: "client_ip" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "cookie"; readonly name: string };

/**
 * Parses `client_ip`, `header:NAME` or `cookie:NAME`; `undefined` when
 * malformed. NAME is an RFC 9110 §5.6.2 token; header names are lowercased
 * (they are case-insensitive), cookie names kept as written (they are not).
 *
 * @example
 * ```ts
 * parseHashKey("header:X-User"); // { kind: "header", name: "x-user" }
 * parseHashKey("cookie:SID"); // { kind: "cookie", name: "SID" }
 * parseHashKey("header:"); // undefined
 * ```
 */
export function parseHashKey(text: string): HashKeySource | undefined {
  if (text === "client_ip") return { kind: "client_ip" };
  const m = /^(header|cookie):([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(text);
  if (!m) return undefined;
  return {
    kind: m[1] as "header" | "cookie",
    name: m[1] === "header" ? m[2]!.toLowerCase() : m[2]!,
  };
}
