/**
 * Which route a request takes: by host, path prefix and method. Routes are
 * tried from the most specific to the least, then in the order declared:
 *
 * 1. host: an exact name before a wildcard, a longer wildcard suffix before
 *    a shorter one, and any host pattern before none;
 * 2. path: a longer `path_prefix` before a shorter one, and any before none;
 * 3. a route limited to some methods before one that takes every method.
 *
 * So `api.example.com` + `/v1` wins over `*.example.com`, which wins over a
 * route with no match block, whatever order they are written in; routes
 * equally specific keep their order. This is how Envoy picks a virtual host
 * (exact, then the longest wildcard) and nginx a `location` (the longest
 * prefix), combined.
 *
 * @module
 */

/** One route as configured. */
export interface RouteSpec<T> {
  /** `api.example.com`, or `*.example.com` for every name under it; any host when absent. */
  readonly host?: string;
  /** Matches this path and everything below it, on segment boundaries; any path when absent. */
  readonly pathPrefix?: string;
  /** Only these methods (upper case); every method when absent. */
  readonly methods?: readonly string[];
  /** Remove `pathPrefix` from the path sent to the backend. */
  readonly stripPrefix?: boolean;
  /** What the route leads to (a pool). */
  readonly target: T;
}

/** The route a request took, and the path to send on. */
export interface RouteMatch<T> {
  readonly route: RouteSpec<T>;
  /** The raw path to forward: as received, or with the prefix stripped. */
  readonly path: string;
}

/** A compiled, ordered route table. */
export interface RouteTable<T> {
  /** The routes in the order they are tried. */
  readonly routes: readonly RouteSpec<T>[];
  /**
   * The first route that takes the request, or `undefined`.
   *
   * @param authority `host[:port]` as the request named it (any case)
   * @param path the raw path, still percent-encoded
   */
  match(method: string, authority: string, path: string): RouteMatch<T> | undefined;
}

interface Compiled<T> {
  readonly spec: RouteSpec<T>;
  readonly host?: { readonly exact?: string; readonly suffix?: string };
  readonly prefix?: string;
  readonly methods?: ReadonlySet<string>;
}

/**
 * Compiles routes into a table.
 *
 * @example
 * ```ts
 * const table = compileRoutes([
 *   { target: "web" },
 *   { host: "api.example.com", pathPrefix: "/v1", target: "api" },
 * ]);
 * table.match("GET", "API.example.com:8080", "/v1/users")?.route.target; // "api"
 * table.match("GET", "www.example.com", "/v1/users")?.route.target; // "web"
 * ```
 */
export function compileRoutes<T>(specs: readonly RouteSpec<T>[]): RouteTable<T> {
  const compiled = specs.map((spec, index) => ({ index, route: compile(spec) }));
  compiled.sort((a, b) => compare(a.route, b.route) || a.index - b.index);
  const ordered = compiled.map((c) => c.route);
  return {
    routes: ordered.map((c) => c.spec),
    match(method, authority, path) {
      const host = hostOf(authority);
      let normalized: string | undefined;
      for (const c of ordered) {
        if (c.methods && !c.methods.has(method)) continue;
        if (c.host && !hostMatches(c.host, host)) continue;
        if (c.prefix === undefined) return { route: c.spec, path };
        normalized ??= normalizePath(path);
        if (!underPrefix(normalized, c.prefix)) continue;
        return { route: c.spec, path: c.spec.stripPrefix ? strip(path, c.prefix) : path };
      }
      return undefined;
    },
  };
}

function compile<T>(spec: RouteSpec<T>): Compiled<T> {
  const host = spec.host?.toLowerCase().replace(/\.$/, "");
  const prefix = spec.pathPrefix === undefined
    ? undefined
    : normalizePath(spec.pathPrefix).replace(/\/+$/, "");
  return {
    spec,
    ...(host === undefined
      ? {}
      : { host: host.startsWith("*.") ? { suffix: host.slice(1) } : { exact: host } }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(spec.methods ? { methods: new Set(spec.methods.map((m) => m.toUpperCase())) } : {}),
  };
}

/** Negative when `a` is more specific than `b` (see the module doc). */
function compare<T>(a: Compiled<T>, b: Compiled<T>): number {
  return hostRank(b) - hostRank(a) ||
    (b.prefix === undefined ? -1 : b.prefix.length) -
      (a.prefix === undefined ? -1 : a.prefix.length) ||
    (b.methods ? 1 : 0) - (a.methods ? 1 : 0);
}

/** Exact names first, then wildcards by the length of their suffix, then no host. */
function hostRank<T>(c: Compiled<T>): number {
  if (!c.host) return 0;
  if (c.host.exact !== undefined) return Number.MAX_SAFE_INTEGER;
  return 1 + c.host.suffix!.length;
}

function hostMatches(pattern: NonNullable<Compiled<unknown>["host"]>, host: string): boolean {
  if (pattern.exact !== undefined) return host === pattern.exact;
  // `*.example.com` takes every name under example.com, but not example.com itself.
  return host.length > pattern.suffix!.length && host.endsWith(pattern.suffix!);
}

/** The host of `host[:port]` (or `[v6]:port`), lower case, without a trailing dot. */
function hostOf(authority: string): string {
  const a = authority.toLowerCase();
  const end = a.startsWith("[") ? a.indexOf("]") + 1 : a.lastIndexOf(":");
  return (end > 0 ? a.slice(0, end) : a).replace(/\.$/, "");
}

/** True when `path` is `prefix` or lies below it; the root prefix takes every path. */
function underPrefix(path: string, prefix: string): boolean {
  if (prefix === "") return true;
  return path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === "/");
}

/**
 * The path as routing compares it: percent-encoded unreserved characters
 * decoded (`/%61pi` is `/api`, RFC 3986 §6.2.2.2), everything else as sent.
 */
function normalizePath(path: string): string {
  // [SECURITY] Route evasion: `/%61dmin` must take the route `/admin` takes,
  // or a client could reach a pool by spelling its path differently.
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : escape.toUpperCase();
  });
}

/**
 * `path` without the leading `prefix` (compared normalized), as a path:
 * `/api/users` less `/api` is `/users`, `/api` less `/api` is `/`.
 */
function strip(path: string, prefix: string): string {
  // Walk the raw path as far as the normalized prefix reaches: a decoded
  // escape is one character of the prefix, a kept one three.
  let raw = 0;
  let norm = 0;
  while (norm < prefix.length && raw < path.length) {
    if (path[raw] === "%") {
      norm += normalizePath(path.slice(raw, raw + 3)).length;
      raw += 3;
    } else {
      norm++;
      raw++;
    }
  }
  const rest = path.slice(raw);
  return rest === "" ? "/" : rest;
}
