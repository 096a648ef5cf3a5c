/**
 * One error type for the request path, and the one place that turns it into
 * what the client sees. Errors say *what* failed, *where* (the backend, the
 * client, or Aegis itself) and *whether retrying elsewhere is safe*; the
 * client only ever gets a status and a fixed JSON body, never an address,
 * a stack or a backend's own error text.
 *
 * @module
 */

/** What went wrong. */
export type ErrorKind =
  /** The backend could not be connected to; nothing was sent. */
  | "connect"
  /** The backend failed after the request was (possibly) sent. */
  | "upstream"
  /** The backend did not send response headers in time. */
  | "upstream_timeout"
  /** The request body exceeded `server.max_body_bytes` while streaming. */
  | "body_too_large"
  /** The client paused longer than `server.read_timeout` while sending its body. */
  | "client_timeout"
  /** The client went away before the response was ready. */
  | "client_closed"
  /**
   * The client's body broke its own framing (a chunk size that is not hex or
   * overflows, no CRLF after chunk data): the message cannot be read, so it
   * cannot be forwarded (RFC 9112 §7.1).
   */
  | "malformed_body"
  /** No route of the listener takes the request (its host, path and method). */
  | "no_route"
  /** The request needs something the chosen transport cannot send (`OPTIONS *` through fetch). */
  | "not_implemented"
  /** No backend may receive traffic right now. */
  | "no_backend"
  /**
   * Aegis itself ran out of a local resource (descriptors, socket buffers,
   * memory, local ports) while reaching a backend: not the backend's fault.
   */
  | "local_resource"
  /** A bug in Aegis. */
  | "internal";

/** Which side of the proxy the failure belongs to. */
export type ErrorSource = "upstream" | "downstream" | "internal";

const SOURCE: Readonly<Record<ErrorKind, ErrorSource>> = {
  connect: "upstream",
  upstream: "upstream",
  upstream_timeout: "upstream",
  body_too_large: "downstream",
  client_timeout: "downstream",
  client_closed: "downstream",
  malformed_body: "downstream",
  no_route: "downstream",
  not_implemented: "internal",
  no_backend: "internal",
  local_resource: "internal",
  internal: "internal",
};

/** A failure on the request path. */
export class ProxyError extends Error {
  override name = "ProxyError";
  /** What went wrong. */
  readonly kind: ErrorKind;
  /** Which side it belongs to. */
  readonly source: ErrorSource;
  /** True when the request never reached the backend, so another may take it. */
  readonly retryable: boolean;

  constructor(kind: ErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.kind = kind;
    this.source = SOURCE[kind];
    this.retryable = kind === "connect";
  }
}

/** The client-facing answer for each kind: status and `error` text. */
const ANSWER: Readonly<Record<ErrorKind, readonly [number, string]>> = {
  connect: [502, "bad gateway"],
  upstream: [502, "bad gateway"],
  upstream_timeout: [504, "gateway timeout"],
  body_too_large: [413, "payload too large"],
  client_timeout: [408, "request timeout"],
  // Nobody reads this one; 499 is nginx's convention for the access log.
  client_closed: [499, "client closed request"],
  // [SECURITY] Request smuggling: a body whose framing is broken is refused, never
  // passed on in part; a backend that resynchronises differently could read the
  // rest as a second request (RFC 9112 §11.2).
  malformed_body: [400, "bad request"],
  // RFC 9110 §15.5.5: nothing here answers to that target. The body names
  // no host, path or pool, so it tells a scanner nothing about the routes.
  no_route: [404, "no route"],
  // RFC 9110 §15.6.2: the server lacks the functionality the request needs.
  not_implemented: [501, "not implemented"],
  no_backend: [503, "no healthy backend"],
  // 503 with Retry-After: the condition is Aegis's own and temporary (RFC 9110 §15.6.4).
  local_resource: [503, "service unavailable"],
  internal: [500, "internal error"],
};

const encoder = new TextEncoder();

/**
 * A small JSON response, the only kind of body Aegis writes itself. The body
 * is encoded once, here, and its `Content-Length` set from the bytes, so the
 * access log and `proxy_bytes_sent_total` count what is really sent.
 *
 * @example
 * ```ts
 * const res = jsonResponse(429, { error: "too many requests" }, { "retry-after": "1" });
 * res.headers.get("content-length"); // "29"
 * ```
 */
export function jsonResponse(
  status: number,
  body: Readonly<Record<string, unknown>>,
  headers?: HeadersInit,
): Response {
  const bytes = encoder.encode(JSON.stringify(body));
  const h = new Headers(headers);
  // [SECURITY] Content sniffing / XSS: always JSON, whatever a caller passed, so
  // with nosniff a browser never renders an error body as HTML.
  h.set("content-type", "application/json");
  h.set("content-length", String(bytes.byteLength));
  // 408 tells HTTP/1.1 clients the connection is finished (RFC 9110 §15.5.9).
  if (status === 408) h.set("connection", "close");
  return new Response(bytes, { status, headers: h });
}

/**
 * The response a client gets for a failure.
 *
 * @param retryAfterSeconds sent with 503 so clients back off for a while
 */
export function errorResponse(error: ProxyError, retryAfterSeconds = 1): Response {
  // [SECURITY] Information disclosure: the client gets the kind's fixed text; the
  // message (addresses, system errors) stays in the log.
  const [status, text] = ANSWER[error.kind];
  const headers: Record<string, string> = {};
  if (status === 503) headers["retry-after"] = String(retryAfterSeconds);
  // [SECURITY] Request smuggling: after a framing error nobody knows where the next
  // request would start (RFC 9112 §6.3, §11.2), so the connection ends with this answer.
  if (error.kind === "malformed_body") headers["connection"] = "close";
  return jsonResponse(status, { error: text }, headers);
}

/** Wraps anything thrown into a `ProxyError`, keeping one that already is. */
export function asProxyError(e: unknown): ProxyError {
  if (e instanceof ProxyError) return e;
  return new ProxyError("internal", e instanceof Error ? e.message : String(e), { cause: e });
}

/**
 * `errno` names of a local resource running out. On the request path these
 * come from Aegis's own side of a backend connection, never from the
 * backend: `EMFILE`/`ENFILE` (no descriptor for the socket), `ENOBUFS` and
 * `ENOMEM` (no kernel buffer or memory for it), `EADDRNOTAVAIL` (on
 * `connect`, no free local port; Linux connect(2)).
 */
const LOCAL_RESOURCE_CODES: ReadonlySet<string> = new Set([
  "EMFILE",
  "ENFILE",
  "ENOBUFS",
  "ENOMEM",
  "EADDRNOTAVAIL",
]);

/**
 * The same conditions as the runtime words them (`strerror` text, then
 * `(os error N)`), for errors that carry only text: the runtime's `fetch`
 * reports a failed connect as `tcp open error: Too many open files (os error
 * 24)` inside its cause, and errno numbers differ between systems (ENOBUFS is
 * 105 on Linux, 55 on macOS). The `(os error N)` suffix is required so that
 * a URL quoted in a message (percent-encoded, no spaces or parentheses)
 * cannot pass for one.
 */
const LOCAL_RESOURCE_TEXT =
  /(too many open files|no buffer space available|cannot allocate memory|out of memory|cannot assign requested address)( in system)? \(os error \d+\)/i;

/**
 * True when `e` (or an error in its `cause` chain) says Aegis ran out of a
 * local resource: descriptors, socket buffers, memory or local ports.
 *
 * Such a failure says nothing about the backend, and every backend would
 * fail the same way, so it must not count against a backend's breaker,
 * health or error statistics, nor be retried elsewhere.
 *
 * @example
 * ```ts
 * isLocalResourceError(Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" })); // true
 * isLocalResourceError(new Deno.errors.ConnectionRefused("refused")); // false
 * ```
 */
export function isLocalResourceError(e: unknown): boolean {
  // [SECURITY] Blame: a client flood that exhausts Aegis's descriptors must
  // not be able to open every backend's breaker and fail everyone (issue 11).
  // A cause chain is short; the bound only guards against a cycle.
  for (let err = e, depth = 0; err !== undefined && err !== null && depth < 8; depth++) {
    if (err instanceof ProxyError && err.kind === "local_resource") return true;
    if (typeof err !== "object" && typeof err !== "string") return false;
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && LOCAL_RESOURCE_CODES.has(code)) return true;
    const text = typeof err === "string" ? err : (err as { message?: unknown }).message;
    if (typeof text === "string" && LOCAL_RESOURCE_TEXT.test(text)) return true;
    err = typeof err === "object" ? (err as { cause?: unknown }).cause : undefined;
  }
  return false;
}

/**
 * `e` as a `local_resource` {@linkcode ProxyError} when it is one
 * ({@linkcode isLocalResourceError}), else `undefined`: one call where a
 * transport classifies a failed connect.
 *
 * @example
 * ```ts
 * throw localResourceError(e) ?? new ProxyError("connect", `cannot connect: ${e}`);
 * ```
 */
export function localResourceError(e: unknown): ProxyError | undefined {
  if (e instanceof ProxyError) return e.kind === "local_resource" ? e : undefined;
  if (!isLocalResourceError(e)) return undefined;
  const text = e instanceof Error ? e.message : String(e);
  return new ProxyError("local_resource", `out of local resources: ${text}`, { cause: e });
}
