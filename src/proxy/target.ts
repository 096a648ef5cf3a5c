/**
 * The request target exactly as the client sent it. `Request.url` in Deno
 * keeps the raw path (`%2e%2e`, backslashes and all), while `new URL()` would
 * quietly resolve dot segments and turn `\` into `/`; validation and
 * forwarding must both see the raw form, so the URL is split by hand.
 *
 * @module
 */

/** The parts of a request URL, undecoded. */
export interface RequestTarget {
  /** `host[:port]` as received, lower-cased. */
  readonly authority: string;
  /** The path, starting with `/` (or `*`), still percent-encoded. */
  readonly path: string;
  /** The query including its leading `?`, or the empty string. */
  readonly query: string;
}

/**
 * Splits a request URL into authority, raw path and raw query. A fragment,
 * which clients should never send, is dropped.
 *
 * @example
 * ```ts
 * splitTarget("http://Example.com:8080/a/%2e%2e/b?x=1#f");
 * // { authority: "example.com:8080", path: "/a/%2e%2e/b", query: "?x=1" }
 * ```
 */
export function splitTarget(url: string): RequestTarget {
  const schemeEnd = url.indexOf("://");
  const start = schemeEnd < 0 ? 0 : schemeEnd + 3;
  let pathStart = start;
  while (pathStart < url.length && !"/?#".includes(url[pathStart]!)) pathStart++;
  const authority = url.slice(start, pathStart).toLowerCase();
  let end = url.indexOf("#", pathStart);
  if (end < 0) end = url.length;
  const q = url.indexOf("?", pathStart);
  const pathEnd = q >= 0 && q < end ? q : end;
  const path = url.slice(pathStart, pathEnd) || "/";
  const query = pathEnd < end ? url.slice(pathEnd, end) : "";
  return { authority, path, query };
}
