/**
 * Header rules at the proxy boundary: what is stripped, what is added, in
 * each direction.
 *
 * @module
 */

import type { HeaderFields, HeaderList } from "../core/mod.ts";

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

// [SECURITY] Request smuggling via `Connection: content-length`: a client may not
// strip the fields that frame or route its own request.
/**
 * Headers a `Connection` list may not remove: they frame or route the
 * request itself, and letting a client strip them would change what the
 * backend parses rather than what the hop does.
 */
const PROTECTED = new Set(["host", "content-length"]);

// [SECURITY] MIME sniffing, clickjacking, referrer leaks, powerful-feature abuse
// and server fingerprinting: the same values on every response, over the backend's.
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
 * {@linkcode SECURITY_HEADERS} as pairs, shared by every response list
 * (frozen: a list holding them must never write to its pairs).
 */
const SECURITY_PAIRS = Object.freeze(
  Object.entries(SECURITY_HEADERS).map((pair) => Object.freeze(pair) as [string, string]),
);

const REQUEST_HOP = new Set(HOP_BY_HOP_REQUEST);
const RESPONSE_HOP = new Set(HOP_BY_HOP_RESPONSE);

/** Names listed in the fields' `Connection` headers, lower case, or undefined if none. */
function connectionNamed(fields: HeaderFields): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (const [name, value] of fields) {
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    for (const token of value.split(",")) {
      const n = token.trim().toLowerCase();
      if (n && !PROTECTED.has(n)) (named ??= new Set()).add(n);
    }
  }
  return named;
}

/**
 * The fields without the listed hop-by-hop headers and without every header
 * named in a `Connection` field (RFC 9110 §7.6.1).
 */
export function stripHopByHop(fields: HeaderFields, list: readonly string[]): HeaderList {
  const hop = new Set(list);
  const named = connectionNamed(fields);
  const out: HeaderList = [];
  for (const field of fields) {
    const lower = field[0].toLowerCase();
    if (!hop.has(lower) && !named?.has(lower)) out.push(field);
  }
  return out;
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
  /** Aegis's `traceparent` (and `tracestate`), sent instead of the client's; theirs pass when absent. */
  readonly trace?: HeaderList;
}

/** The W3C Trace Context fields, replaced whole when Aegis takes part in the trace. */
const TRACE_CONTEXT = new Set(["traceparent", "tracestate"]);

/** Request headers Aegis sets itself, whatever the client sent. */
const SET_UPSTREAM = new Set([
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-request-id",
  "host",
]);

/**
 * The headers sent to the backend: the client's, minus hop-by-hop ones, plus
 * `X-Forwarded-For` (the socket peer appended to any existing chain),
 * `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Request-ID`.
 */
export function upstreamHeaders(incoming: HeaderFields, input: UpstreamHeaderInput): HeaderList {
  const named = connectionNamed(incoming);
  const out: HeaderList = [];
  let chain = "";
  for (const field of incoming) {
    const lower = field[0].toLowerCase();
    // [SECURITY] Request smuggling and header injection: hop-by-hop fields, and
    // those the client names in Connection, describe its hop, not the request.
    if (REQUEST_HOP.has(lower) || named?.has(lower)) continue;
    // [SECURITY] Forged or malformed trace context: with tracing on, the backend
    // gets only the trace fields Aegis checked and wrote.
    if (input.trace && TRACE_CONTEXT.has(lower)) continue;
    // [SECURITY] Spoofed forwarding headers: X-Forwarded-Proto/Host, X-Request-ID
    // and Host are Aegis's to set; only the X-Forwarded-For chain is kept.
    if (!SET_UPSTREAM.has(lower)) out.push(field);
    else if (lower === "x-forwarded-for" && field[1]) {
      chain = chain ? `${chain}, ${field[1]}` : field[1];
    }
  }
  // [SECURITY] IP spoofing: the address Aegis appends is the socket peer's, never
  // taken from a header, so backends can trust the last entry.
  out.push(
    ["x-forwarded-for", chain ? `${chain}, ${input.clientIp}` : input.clientIp],
    ["x-forwarded-proto", input.proto],
    ["x-forwarded-host", input.host],
    ["x-request-id", input.requestId],
  );
  if (input.trace) out.push(...input.trace);
  if (input.preserveHost) out.push(["host", input.host]);
  return out;
}

/** Response headers Aegis sets itself, or drops, whatever the backend sent. */
const SET_DOWNSTREAM = new Set([...Object.keys(SECURITY_HEADERS), "x-request-id", "x-powered-by"]);

const STS = "strict-transport-security";

/**
 * What a response's `Strict-Transport-Security` becomes: Aegis's policy
 * (`{ set }`), the backend's own (`keep`: over TLS with no policy of
 * Aegis's), or none (`drop`: the client came over plain HTTP).
 */
export type StsRule = { readonly set: string } | "keep" | "drop";

/** The `security.hsts` settings a policy is written from. */
export interface HstsPolicy {
  /** Milliseconds, whole seconds. */
  readonly max_age: number;
  readonly include_subdomains: boolean;
  readonly preload: boolean;
}

/**
 * The `Strict-Transport-Security` value of a policy (RFC 6797 §6.1).
 *
 * @example
 * ```ts
 * hstsValue({ max_age: 31_536_000_000, include_subdomains: true, preload: false });
 * // "max-age=31536000; includeSubDomains"
 * ```
 */
export function hstsValue(policy: HstsPolicy): string {
  return `max-age=${Math.floor(policy.max_age / 1000)}` +
    (policy.include_subdomains ? "; includeSubDomains" : "") +
    (policy.preload ? "; preload" : "");
}

/**
 * The rule for a response to a request that came over `proto`: Aegis's
 * policy over TLS when it has one, the backend's otherwise, and never one
 * over plain HTTP (RFC 6797 §7.2).
 */
export function stsRule(proto: "http" | "https", policy: string | undefined): StsRule {
  if (proto === "http") return "drop";
  return policy === undefined ? "keep" : { set: policy };
}

/**
 * The headers sent to the client for a backend response: everything the
 * backend sent (every `Set-Cookie` included) except hop-by-hop headers and
 * `X-Powered-By`, with the security headers and `X-Request-ID` set, and
 * `Strict-Transport-Security` as `sts` says (the backend's by default).
 */
export function clientHeaders(
  upstream: HeaderFields,
  requestId: string,
  sts: StsRule = "keep",
): HeaderList {
  const named = connectionNamed(upstream);
  const out: HeaderList = [];
  for (const field of upstream) {
    const lower = field[0].toLowerCase();
    // [SECURITY] Response splitting and fingerprinting: hop-by-hop fields, the
    // backend's own security headers and X-Powered-By never reach the client.
    if (RESPONSE_HOP.has(lower) || named?.has(lower) || SET_DOWNSTREAM.has(lower)) continue;
    // [SECURITY] HSTS is the front door's: Aegis's policy over the backend's,
    // and none over plain HTTP, where it could only mislead (RFC 6797 §7.2).
    if (sts !== "keep" && lower === STS) continue;
    out.push(field);
  }
  out.push(...SECURITY_PAIRS, ["x-request-id", requestId]);
  if (typeof sts === "object") out.push([STS, sts.set]);
  return out;
}

/**
 * Sets the security headers, `Server: aegis` and `X-Request-ID`, in place,
 * and `Strict-Transport-Security` when `sts` carries a policy.
 */
export function applySecurityHeaders(h: Headers, requestId: string, sts: StsRule = "keep"): void {
  for (const [name, value] of SECURITY_PAIRS) h.set(name, value);
  h.set("x-request-id", requestId);
  if (typeof sts === "object") h.set(STS, sts.set);
}

const REQUEST_ID = /^[A-Za-z0-9._:+\/=-]{1,128}$/;

/**
 * The request id to use: the client's `X-Request-ID` when it is a single
 * plain token of at most 128 characters, a fresh UUID otherwise (so a hostile
 * id cannot smuggle text into logs or backends).
 */
export function requestIdFrom(incoming: HeaderFields): string {
  let given: string | undefined;
  for (const [name, value] of incoming) {
    if (name.length !== 12 || name.toLowerCase() !== "x-request-id") continue;
    // Two ids are no id: a `Headers` would join them with ", ", which no token holds.
    if (given !== undefined) return crypto.randomUUID();
    given = value;
  }
  // [SECURITY] Log and header injection: only a plain token is propagated.
  return given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}
