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
  /**
   * The scheme, lower-cased: `http` for origin-form targets (the runtime
   * fills it in), the client's own for absolute-form ones (`ftp`, `file`…),
   * empty when the URL has none.
   */
  readonly scheme: string;
  /** `host[:port]` as received, lower-cased. */
  readonly authority: string;
  /** The path, starting with `/` (or exactly `*`, see {@linkcode splitTarget}), still percent-encoded. */
  readonly path: string;
  /** The query including its leading `?`, or the empty string. */
  readonly query: string;
}

/** `scheme://` at the very start (RFC 3986 §3.1); `://` further in belongs to the path. */
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * Splits a request URL into scheme, authority, raw path and raw query. A
 * fragment, which clients should never send, is dropped.
 *
 * The runtime turns the asterisk form `OPTIONS * HTTP/1.1` (RFC 9112
 * §3.2.4) into the path `/*`, exactly as it gives the origin form
 * `OPTIONS /* HTTP/1.1`. Since `*` is only valid for OPTIONS, an OPTIONS
 * request whose path is exactly `/*` with no query is read as the asterisk
 * form, and its path is `*`: the rare client that means a resource named
 * `/*` is the one that loses.
 *
 * @param method the request method; only `OPTIONS` can have the asterisk form
 *
 * @example
 * ```ts
 * splitTarget("http://Example.com:8080/a/%2e%2e/b?x=1#f");
 * // { scheme: "http", authority: "example.com:8080", path: "/a/%2e%2e/b", query: "?x=1" }
 * splitTarget("http://example.com/*", "OPTIONS").path; // "*"
 * ```
 */
export function splitTarget(url: string, method?: string): RequestTarget {
  // [SECURITY] Parser differentials: the target is split by hand and kept raw,
  // so validation judges the very bytes the backend will parse.
  const prefix = SCHEME_PREFIX.exec(url);
  const scheme = prefix ? prefix[1]!.toLowerCase() : "";
  const start = prefix ? prefix[0].length : 0;
  let pathStart = start;
  while (pathStart < url.length && !"/?#".includes(url[pathStart]!)) pathStart++;
  const authority = url.slice(start, pathStart).toLowerCase();
  let end = url.indexOf("#", pathStart);
  if (end < 0) end = url.length;
  const q = url.indexOf("?", pathStart);
  const pathEnd = q >= 0 && q < end ? q : end;
  const path = url.slice(pathStart, pathEnd) || "/";
  const query = pathEnd < end ? url.slice(pathEnd, end) : "";
  if (method === "OPTIONS" && path === "/*" && query === "") {
    return { scheme, authority, path: "*", query };
  }
  return { scheme, authority, path, query };
}
