/**
 * Request validation (seed layer 2): every check runs before anything is
 * forwarded, independently of rate limiting and circuit breaking.
 *
 * @module
 */

import type { RequestTarget } from "./target.ts";
import { fieldValue, type HeaderFields } from "../core/mod.ts";

/** The limits and allow-lists a request is checked against. */
export interface ValidationRules {
  /** `server.max_body_bytes`. */
  readonly maxBodyBytes: number;
  /** `server.max_header_bytes`: request line plus headers. */
  readonly maxHeaderBytes: number;
  /** `security.allowed_methods`. */
  readonly allowedMethods: ReadonlySet<string>;
  /** `security.allowed_hosts` compiled; `undefined` accepts any host. */
  readonly hostAllowed?: (authority: string) => boolean;
}

/** Why a request was refused, and what the client is told. */
export interface Rejection {
  /** HTTP status. */
  readonly status: number;
  /** The `error` text of the JSON body. */
  readonly error: string;
  /** A stable label for logs and metrics, e.g. `path_traversal`. */
  readonly reason: string;
  /** Extra response headers (`Allow` for 405). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What validation needs to know about a request besides the `Request` and its target. */
export interface RequestFacts {
  /** Its header fields, read once; the request's `Headers` by default. */
  readonly fields?: HeaderFields;
  /**
   * Port of the listener that accepted the connection. Without it the
   * missing-`Host` check cannot tell the runtime's stand-in authority from a
   * real one, and is skipped.
   */
  readonly listenerPort?: number;
}

/**
 * Checks a request. Returns the first rule it breaks, or `undefined`.
 *
 * Order: header size (431), method (405), message framing (400), declared
 * body size (413), target form (400), missing host (400), host allow-list
 * (400), path (400). Bodies sent without a Content-Length are measured while
 * they stream (see `body.ts`).
 *
 * @example
 * ```ts
 * const target = splitTarget(request.url, request.method);
 * const refused = validateRequest(request, target, rules, { listenerPort: 8080 });
 * if (refused) return jsonResponse(refused.status, { error: refused.error }, refused.headers);
 * ```
 */
export function validateRequest(
  req: Request,
  target: RequestTarget,
  rules: ValidationRules,
  facts: RequestFacts = {},
): Rejection | undefined {
  const fields = facts.fields ?? req.headers;
  // [SECURITY] Resource exhaustion: bounds the head one request makes Aegis hold
  // and pass on, below the runtime's own fixed limits (128 fields, 65,540 bytes).
  if (headerBytes(req.method, target, fields) > rules.maxHeaderBytes) {
    return {
      status: 431,
      error: "request header fields too large",
      reason: "header_too_large",
    };
  }
  // [SECURITY] Attack surface: methods outside the allow-list (TRACE and cross-site
  // tracing, CONNECT tunnels, WebDAV) never reach a backend.
  if (!rules.allowedMethods.has(req.method)) {
    return {
      status: 405,
      error: "method not allowed",
      reason: "method_not_allowed",
      headers: { allow: [...rules.allowedMethods].join(", ") },
    };
  }
  const length = req.headers.get("content-length");
  // [SECURITY] Request smuggling: Deno's server already refuses these over
  // HTTP/1.1; this keeps the rule true for every front end (RFC 9112 §6.1: a
  // request with both is an attack).
  if (length !== null && req.headers.has("transfer-encoding")) {
    return { status: 400, error: "bad request", reason: "content_length_with_transfer_encoding" };
  }
  if (length !== null) {
    // [SECURITY] Request smuggling: only a plain decimal frames a body (RFC 9110
    // §8.6); `+5`, `0x10` or a list are read differently by different parsers.
    if (!/^\d+$/.test(length)) {
      return { status: 400, error: "bad request", reason: "invalid_content_length" };
    }
    // [SECURITY] Resource exhaustion: a declared body over the limit is refused
    // before a byte of it is read.
    if (Number(length) > rules.maxBodyBytes) {
      return { status: 413, error: "payload too large", reason: "body_too_large" };
    }
  }
  if (!targetIsForwardable(target)) {
    return { status: 400, error: "invalid target", reason: "invalid_target" };
  }
  if (hostIsMissing(target, fields, facts.listenerPort)) {
    return { status: 400, error: "missing host", reason: "missing_host" };
  }
  // [SECURITY] Host-header attacks (cache poisoning, password-reset links, DNS
  // rebinding of a backend that trusts its Host): only the hosts named are proxied.
  if (rules.hostAllowed && !rules.hostAllowed(target.authority)) {
    return { status: 400, error: "invalid host", reason: "host_not_allowed" };
  }
  if (!pathIsSafe(target.path)) {
    return { status: 400, error: "invalid path", reason: "path_traversal" };
  }
  return undefined;
}

/** A path that starts with a URI scheme and an empty authority: `/file:///etc/passwd`. */
const SCHEME_WITHOUT_AUTHORITY = /^\/[A-Za-z][A-Za-z0-9+.-]*:\/\/\//;

/**
 * False for a target Aegis must not forward: an absolute-form target
 * (RFC 9112 §3.2.2) whose scheme is not `http` or `https` (`ftp://h/x`,
 * `file://h/etc/passwd`), one with user-info (`http://user@h/`), and a path
 * that begins with a scheme and an empty authority, which is how the runtime
 * hands over an absolute-form target like `file:///etc/passwd` or
 * `https:///x` (exactly as it hands over the origin-form path
 * `/file:///etc/passwd`, which no real client sends, so that is refused too).
 * A URL further inside a path (`/https://x/y`, `/proxy/http://h/`) is an
 * ordinary path and passes.
 *
 * @example
 * ```ts
 * targetIsForwardable(splitTarget("ftp://b.example/x")); // false
 * targetIsForwardable(splitTarget("http://h/file:///etc/passwd")); // false
 * targetIsForwardable(splitTarget("http://h/https://x/y")); // true
 * ```
 */
export function targetIsForwardable(target: RequestTarget): boolean {
  // [SECURITY] SSRF and local-file reads through the backend: only `http` and
  // `https` URIs (RFC 9110 §4.2) name what Aegis forwards; `file:` or `gopher:`
  // targets would go to whatever a backend's URL handling does with them.
  if (target.scheme !== "http" && target.scheme !== "https") return false;
  // [SECURITY] Authority confusion: user-info in an http(s) URI is deprecated and
  // a phishing tool (RFC 9110 §4.2.4: treat it as an error); it would reach Host.
  if (target.authority.includes("@")) return false;
  // [SECURITY] Local-file reads: `GET file:///etc/passwd` arrives as this path,
  // which a backend that strips the leading slash would read as a file URL.
  return !SCHEME_WITHOUT_AUTHORITY.test(target.path);
}

/**
 * True when the request came without a `Host` (or with an empty one, which
 * names no host: RFC 9110 §4.2.1) and so carries the authority the runtime
 * makes up for such requests, `localhost:<port of the listener>`.
 *
 * The runtime does not say whether a request had a Host field: `Request.url`
 * always has an authority, and for a request without one it is
 * `localhost:<listener port>`, whatever address is bound. HTTP/2 requests
 * never have a `host` field (their authority is the `:authority`
 * pseudo-header, already in the URL), so the field's absence alone proves
 * nothing; the stand-in authority together with an absent field does.
 *
 * @example
 * ```ts
 * hostIsMissing(splitTarget("http://localhost:8080/"), [], 8080); // true
 * hostIsMissing(splitTarget("http://localhost:8080/"), [["host", "localhost:8080"]], 8080); // false
 * hostIsMissing(splitTarget("http://api.example/"), [], 8080); // false: HTTP/2, say
 * ```
 */
export function hostIsMissing(
  target: RequestTarget,
  fields: HeaderFields,
  listenerPort: number | undefined,
): boolean {
  if (listenerPort === undefined) return false;
  // [SECURITY] Host spoofing by omission: a request without Host is answered 400
  // (RFC 9112 §3.2). Forwarded, it would reach the backend with a Host Aegis made
  // up (`localhost:PORT`), which backends trust for routing and absolute links.
  return !fieldValue(fields, "host") && target.authority === `localhost:${listenerPort}`;
}

/**
 * Size of the request line and header block as it was on the wire, near
 * enough: `METHOD target HTTP/1.1\r\n` and `name: value\r\n` per field.
 */
function headerBytes(method: string, target: RequestTarget, fields: HeaderFields): number {
  let n = method.length + target.path.length + target.query.length + 12;
  for (const [name, value] of fields) n += name.length + value.length + 4;
  return n + 2;
}

/** Percent-decoding rounds tried, so `%252e%252e` (double-encoded) is caught too. */
const DECODE_ROUNDS = 3;

/**
 * False when a raw path could climb out of the directory it names, or be
 * read differently by the backend than by Aegis: a `..` segment in any
 * percent-encoding (also double-encoded), an encoded slash (`%2f`), a
 * backslash or its encoding (`%5c`), a NUL byte, or a `..;` segment.
 */
export function pathIsSafe(rawPath: string): boolean {
  // [SECURITY] Path traversal: checked on the raw target before any
  // normalization, in every encoding a backend might decode.
  let path = rawPath;
  for (let round = 0; round <= DECODE_ROUNDS; round++) {
    if (/[\\\0]|%(2f|5c|00)/i.test(path)) return false;
    // `..;` is how Tomcat-style path parameters smuggle a `..` past a proxy.
    if (path.split("/").some((seg) => seg === ".." || seg.startsWith("..;"))) return false;
    const decoded = decodeOnce(path);
    if (decoded === path) return true;
    path = decoded;
  }
  // Still changing after several rounds of decoding: nobody encodes a path like that by accident.
  return false;
}

function decodeOnce(s: string): string {
  // Decode byte-wise as Latin-1 so invalid UTF-8 sequences cannot throw or hide a dot.
  return s.replace(
    /%([0-9a-fA-F]{2})/g,
    (_, hex: string) => String.fromCharCode(parseInt(hex, 16)),
  );
}

/**
 * Compiles `security.allowed_hosts` into a predicate over `host[:port]`.
 * An entry without a port matches any port; `*.example.com` matches
 * subdomains of example.com but not example.com itself. Returns `undefined`
 * for an empty list: every host is accepted.
 */
export function compileHostAllowList(
  patterns: readonly string[],
): ((authority: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const rules = patterns.map((p) => {
    const { host, port } = splitAuthority(p.toLowerCase());
    return { host, port, wildcard: host.startsWith("*.") };
  });
  return (authority) => {
    const { host, port } = splitAuthority(authority.toLowerCase());
    if (host === "") return false;
    return rules.some((r) =>
      (r.port === undefined || r.port === port) &&
      (r.wildcard ? host.endsWith(r.host.slice(1)) : host === r.host)
    );
  };
}

function splitAuthority(a: string): { host: string; port?: string } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(a);
  if (!m) return { host: "" };
  return { host: m[1]!.replace(/\.$/, ""), port: m[2] || undefined };
}
