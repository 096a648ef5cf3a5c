/**
 * Request validation (seed layer 2): every check runs before anything is
 * forwarded, independently of rate limiting and circuit breaking.
 *
 * @module
 */

import type { HeaderFields } from "./headers.ts";
import type { RequestTarget } from "./target.ts";

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

/**
 * Checks a request. Returns the first rule it breaks, or `undefined`.
 *
 * Order: header size (431), method (405), message framing (400), declared
 * body size (413), host (400), path (400). Bodies sent without a
 * Content-Length are measured while they stream (see `body.ts`).
 */
export function validateRequest(
  req: Request,
  target: RequestTarget,
  rules: ValidationRules,
  fields: HeaderFields = req.headers,
): Rejection | undefined {
  if (headerBytes(req.method, target, fields) > rules.maxHeaderBytes) {
    return {
      status: 431,
      error: "request header fields too large",
      reason: "header_too_large",
    };
  }
  if (!rules.allowedMethods.has(req.method)) {
    return {
      status: 405,
      error: "method not allowed",
      reason: "method_not_allowed",
      headers: { allow: [...rules.allowedMethods].join(", ") },
    };
  }
  const length = req.headers.get("content-length");
  // Deno's server already refuses these over HTTP/1.1; this keeps the rule
  // true for every front end (RFC 9112 §6.1: a request with both is an attack).
  if (length !== null && req.headers.has("transfer-encoding")) {
    return { status: 400, error: "bad request", reason: "content_length_with_transfer_encoding" };
  }
  if (length !== null) {
    if (!/^\d+$/.test(length)) {
      return { status: 400, error: "bad request", reason: "invalid_content_length" };
    }
    if (Number(length) > rules.maxBodyBytes) {
      return { status: 413, error: "payload too large", reason: "body_too_large" };
    }
  }
  if (rules.hostAllowed && !rules.hostAllowed(target.authority)) {
    return { status: 400, error: "invalid host", reason: "host_not_allowed" };
  }
  if (!pathIsSafe(target.path)) {
    return { status: 400, error: "invalid path", reason: "path_traversal" };
  }
  return undefined;
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
