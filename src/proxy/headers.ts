/**
 * Header rules at the proxy boundary: what is stripped, what is added, in
 * each direction.
 *
 * @module
 */

/**
 * Hop-by-hop request headers (RFC 9110 §7.6.1), plus `Proxy-Connection`,
 * `HTTP2-Settings` (RFC 9113 §3.2.1) and `Proxy-Authenticate`: they describe
 * the client's connection to Aegis, not the request, and forwarding them is a
 * classic request-smuggling lever.
 */
export const HOP_BY_HOP_REQUEST: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
];

/** Hop-by-hop response headers, removed before the response reaches the client. */
export const HOP_BY_HOP_RESPONSE: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
];

/**
 * Headers a `Connection` list may not remove: they frame or route the
 * request itself, and letting a client strip them would change what the
 * backend parses rather than what the hop does.
 */
const PROTECTED = new Set(["host", "content-length"]);

/** Security headers set on every response (seed layer 3). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "x-xss-protection": "0",
  "referrer-policy": "strict-origin-when-cross-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
  "server": "aegis",
};

/**
 * Removes the listed hop-by-hop headers and every header named in the
 * `Connection` field (RFC 9110 §7.6.1), in place.
 */
export function stripHopByHop(headers: Headers, list: readonly string[]): void {
  const named = headers.get("connection");
  if (named) {
    for (const token of named.split(",")) {
      const name = token.trim().toLowerCase();
      if (name && !PROTECTED.has(name)) headers.delete(name);
    }
  }
  for (const name of list) headers.delete(name);
}

/** What the upstream request headers are built from. */
export interface UpstreamHeaderInput {
  /** The socket peer, never a header. */
  readonly clientIp: string;
  /** The request id sent to the backend and returned to the client. */
  readonly requestId: string;
  /** `http` or `https`: how the client reached Aegis. */
  readonly proto: string;
  /** The host the client asked for (Host header or the request target's authority). */
  readonly host: string;
  /** Keep the client's Host (true) or let the backend's host be used (false). */
  readonly preserveHost: boolean;
}

/**
 * The headers sent to the backend: the client's, minus hop-by-hop ones, plus
 * `X-Forwarded-For` (the socket peer appended to any existing chain),
 * `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Request-ID`.
 */
export function upstreamHeaders(incoming: Headers, input: UpstreamHeaderInput): Headers {
  const h = new Headers(incoming);
  stripHopByHop(h, HOP_BY_HOP_REQUEST);
  const chain = h.get("x-forwarded-for");
  h.set("x-forwarded-for", chain ? `${chain}, ${input.clientIp}` : input.clientIp);
  h.set("x-forwarded-proto", input.proto);
  h.set("x-forwarded-host", input.host);
  h.set("x-request-id", input.requestId);
  if (input.preserveHost) h.set("host", input.host);
  else h.delete("host");
  return h;
}

/**
 * The headers sent to the client for a backend response: everything the
 * backend sent (every `Set-Cookie` included) except hop-by-hop headers and
 * `X-Powered-By`, with the security headers and `X-Request-ID` set.
 */
export function clientHeaders(upstream: Headers, requestId: string): Headers {
  const h = new Headers(upstream);
  stripHopByHop(h, HOP_BY_HOP_RESPONSE);
  h.delete("x-powered-by");
  applySecurityHeaders(h, requestId);
  return h;
}

/** Sets the security headers, `Server: aegis` and `X-Request-ID`, in place. */
export function applySecurityHeaders(h: Headers, requestId: string): void {
  for (const name in SECURITY_HEADERS) h.set(name, SECURITY_HEADERS[name]!);
  h.set("x-request-id", requestId);
}

const REQUEST_ID = /^[A-Za-z0-9._:+\/=-]{1,128}$/;

/**
 * The request id to use: the client's `X-Request-ID` when it is a plain
 * token of at most 128 characters, a fresh UUID otherwise (so a hostile id
 * cannot smuggle text into logs or backends).
 */
export function requestIdFrom(incoming: Headers): string {
  const given = incoming.get("x-request-id");
  return given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}
