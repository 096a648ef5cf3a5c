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
  /** The request needs something the chosen transport cannot send (`OPTIONS *` through fetch). */
  | "not_implemented"
  /** No backend may receive traffic right now. */
  | "no_backend"
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
  not_implemented: "internal",
  no_backend: "internal",
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
  // RFC 9110 §15.6.2: the server lacks the functionality the request needs.
  not_implemented: [501, "not implemented"],
  no_backend: [503, "no healthy backend"],
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
