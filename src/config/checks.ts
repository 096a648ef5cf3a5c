/**
 * Value checks shared by the configuration schema: backend URLs, listen
 * addresses, HTTP methods, host patterns and networks. Each returns a message
 * a user can act on, or `undefined` when the value is fine.
 *
 * @module
 */

import { parseCidr, parseIp } from "../net/mod.ts";
import { clip, quote } from "./echo.ts";
import { parseHashKey } from "./hash_key.ts";

const AUTHORITY = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/;

/**
 * Checks a backend URL: `http` or `https`, a host, no credentials, a port in
 * 1–65535, no query or fragment. A path is allowed and prefixes every
 * forwarded request path.
 */
export function checkBackendUrl(raw: string): string | undefined {
  const authority = AUTHORITY.exec(raw)?.[1];
  if (authority === undefined) {
    return `${quote(raw)} is not an absolute URL (http://host:port)`;
  }
  // [SECURITY] Credential leaks: user:password@ in a URL ends up in logs,
  // the dashboard and /status.
  if (authority.includes("@")) {
    return "must not contain credentials (user:password@); put secrets in headers at the backend";
  }
  const port = /:(\d*)$/.exec(authority.replace(/^\[[^\]]*\]/, ""))?.[1];
  if (port !== undefined && port !== "" && (Number(port) < 1 || Number(port) > 65535)) {
    return `port ${clip(port)} is out of range: must be 1–65535`;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${quote(raw)} is not a valid URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `scheme must be http or https, not ${clip(url.protocol.slice(0, -1))}`;
  }
  if (url.hostname === "") return "has no host";
  if (url.search !== "" || url.hash !== "" || raw.includes("?") || raw.includes("#")) {
    return "must not have a query string or fragment";
  }
  return undefined;
}

/**
 * The identity of a backend URL for duplicate detection: scheme, host and
 * explicit port, and path without a trailing slash.
 */
export function backendKey(raw: string): string {
  const url = new URL(raw);
  if (url.protocol === "tcp:") return `tcp://${url.host}`;
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.protocol}//${url.hostname}:${port}${url.pathname.replace(/\/+$/, "")}`;
}

/** A listen address split into host and port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Splits `host:port` or `[v6]:port`; `undefined` when malformed. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (m[1] !== undefined && !parseIp(host)) return undefined;
  return { host, port };
}

/** Checks an L4 backend's address: `host:port` or `[v6]:port`, port 1–65535. */
export function checkBackendAddress(text: string): string | undefined {
  const hp = parseHostPort(text);
  if (!hp) return `${quote(text)} is not host:port (for IPv6 use [2001:db8::1]:5432)`;
  if (hp.port < 1 || hp.port > 65535) return `port ${hp.port} is out of range: must be 1–65535`;
  return checkHost(hp.host.includes(":") ? "::" : hp.host);
}

/** Checks the URL spans are posted to: http or https, no credentials in it. */
export function checkCollectorUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${quote(text)} is not a URL (for example http://127.0.0.1:4318/v1/traces)`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `scheme must be http or https, found ${quote(url.protocol.slice(0, -1))}`;
  }
  // [SECURITY] Secret leaks: the resolved configuration is printed and logged.
  if (url.username || url.password) return "must not contain credentials";
  return undefined;
}

/** Checks an admin listen address: `host:port`, port 0–65535 (0 picks a free port). */
export function checkListenAddress(text: string): string | undefined {
  const hp = parseHostPort(text);
  if (!hp) return `${quote(text)} is not host:port (for IPv6 use [::1]:9090)`;
  if (hp.port > 65535) return `port ${hp.port} is out of range: must be 0–65535`;
  return undefined;
}

/** Checks a listen host: an IP address or a host name. */
export function checkHost(text: string): string | undefined {
  if (
    parseIp(text) ||
    /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(text)
  ) {
    return undefined;
  }
  return `${quote(text)} is not an IP address or host name`;
}

/** Checks an HTTP method name (RFC 9110 §9: case-sensitive tokens). */
export function checkMethod(text: string): string | undefined {
  if (/^[A-Z][A-Z0-9_-]*$/.test(text)) return undefined;
  if (/^[a-zA-Z][a-zA-Z0-9_-]*$/.test(text)) {
    return `methods are case-sensitive: write ${clip(text.toUpperCase())}`;
  }
  return `${quote(text)} is not an HTTP method`;
}

const HOST_PATTERN =
  /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i;

/**
 * Checks a Host allow-list entry: `example.com`, `example.com:8080`,
 * `*.example.com`, an IPv4 address or a bracketed IPv6 address.
 */
export function checkHostPattern(text: string): string | undefined {
  if (HOST_PATTERN.test(text)) return undefined;
  const bracketed = /^\[([^\]]+)\](:\d{1,5})?$/.exec(text);
  if (bracketed && parseIp(bracketed[1]!)) return undefined;
  return `${quote(text)} is not a host name, host:port or *.domain pattern`;
}

const ROUTE_HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i;

/**
 * Checks a route's `match.host`: a host name (`api.example.com`), a wildcard
 * for every name under a domain (`*.example.com`), an IPv4 address or a
 * bracketed IPv6 address; no port, since routing ignores the request's.
 */
export function checkRouteHost(text: string): string | undefined {
  if (ROUTE_HOST.test(text)) return undefined;
  const bracketed = /^\[([^\]]+)\]$/.exec(text);
  if (bracketed && parseIp(bracketed[1]!)) return undefined;
  if (/:\d+$/.test(text)) return `${quote(text)} has a port: routes match the host alone`;
  return `${quote(text)} is not a host name or a *.domain pattern`;
}

/**
 * Checks a route's `match.path_prefix`: starts with `/`, holds only
 * characters a path may hold (RFC 3986 §3.3), and no `.` or `..` segment
 * (request paths with those are refused before routing, so such a prefix
 * could never match).
 */
export function checkPathPrefix(text: string): string | undefined {
  if (!text.startsWith("/")) return "must start with /";
  if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(text) || /%(?![0-9A-Fa-f]{2})/.test(text)) {
    return `${quote(text)} is not a path: no query, fragment, spaces or broken %-escapes`;
  }
  if (text.split("/").some((s) => s === "." || s === "..")) {
    return `${quote(text)} has a . or .. segment, which no request that passes validation has`;
  }
  return undefined;
}

/** Checks `load_balancing.hash_key`: `client_ip`, `header:NAME` or `cookie:NAME`. */
export function checkHashKey(text: string): string | undefined {
  return parseHashKey(text)
    ? undefined
    : `${quote(text)} is not client_ip, header:NAME or cookie:NAME`;
}

/** Checks a network in CIDR notation. */
export function checkCidr(text: string): string | undefined {
  return parseCidr(text) ? undefined : `${quote(text)} is not a network such as 10.0.0.0/8`;
}

/**
 * Checks a WebSocket `Origin` to allow: exactly what a browser sends,
 * `scheme://host[:port]`, with no path and no trailing slash.
 */
export function checkOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${quote(text)} is not an origin (https://app.example.com)`;
  }
  // `null` for schemes with opaque origins (data:, file:): never what a browser sends as Origin.
  if (url.origin === "null" || url.origin !== text) {
    return `${quote(text)} is not an origin: write scheme://host[:port], as browsers send it (${
      url.origin === "null" ? "https://app.example.com" : url.origin
    })`;
  }
  return undefined;
}
