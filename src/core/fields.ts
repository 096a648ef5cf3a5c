/**
 * Header fields as the request path passes them around: `[name, value]`
 * lists, and the two ways of reading them every layer needs.
 *
 * @module
 */

/**
 * Header fields as `[name, value]` pairs, in order, names in any case: the
 * shape the request path passes around, because iterating or copying a
 * `Headers` object costs microseconds per request on every hop. Lists share
 * pairs (a filtered list holds the very pairs of its source), so a pair is
 * never written to: replace it in the list instead.
 */
export type HeaderList = Array<[string, string]>;

/** Header fields as anything that yields pairs: a `Headers`, a {@linkcode HeaderList}. */
export type HeaderFields = Iterable<[string, string]>;

/**
 * A `Headers` object as a {@linkcode HeaderList}, with the pairs iteration
 * gives (names lower case and sorted, repeated fields joined, each
 * `Set-Cookie` on its own). Built with `forEach`: the runtime rebuilds and
 * re-sorts the whole list on every step of a `for…of` over a `Headers`, which
 * costs tens of microseconds for a browser's fifteen fields, ten times this.
 */
export function fieldList(headers: Headers): HeaderList {
  const out: HeaderList = [];
  headers.forEach((value, name) => {
    out.push([name, value]);
  });
  return out;
}

/** The first value of the field `name` (given in lower case), in any case, or undefined. */
export function fieldValue(fields: HeaderFields, name: string): string | undefined {
  for (const [n, value] of fields) {
    if (n.length === name.length && n.toLowerCase() === name) return value;
  }
  return undefined;
}

/**
 * `list` in the cheapest shape the runtime's `Response` constructor takes:
 * a record when no name repeats (the common case), the list itself
 * otherwise (every `Set-Cookie` kept). The runtime converts each pair of a
 * list through a WebIDL sequence check, an iterator and a fresh array per
 * field; a record's properties it reads directly, which halves what a
 * response's headers cost to build and to collect.
 */
export function headersInit(list: HeaderList): HeaderList | Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]!;
    const lower = name.toLowerCase();
    // A repeated name, or one an object cannot hold as a plain property.
    if (Object.hasOwn(record, lower) || lower === "__proto__") return list;
    record[lower] = value;
  }
  return record;
}
