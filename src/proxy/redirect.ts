/**
 * The answer of a plain-HTTP listener that sends every client to https:
 * `308` to the same host, path and query on the TLS port. It runs as the
 * last phase of an ordinary listener's proxy, after validation and the
 * rate limiter, so every other rule of the listener still holds: hostile
 * paths and oversized heads are refused, and the answer is logged and
 * counted like any other.
 *
 * @module
 */

import type { GlobalStats } from "../metrics/mod.ts";
import { parseIp } from "../net/mod.ts";
import type { Phase } from "./context.ts";
import type { RequestTarget } from "./target.ts";
import { fieldValue, type HeaderFields, jsonResponse } from "../core/mod.ts";

/** A DNS name: labels of letters, digits and inner hyphens, dot-separated (RFC 1123 §2.1). */
const HOST_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/;
/** `name`, `1.2.3.4` or `[v6]`, then an optional port. */
const AUTHORITY = /^(\[[0-9a-f:.]+\]|[^:\[\]]+)(?::(\d{1,5}))?$/;
/** What a `Location` value may hold: visible ASCII, nothing a header could be split on. */
const VISIBLE = /^[\x21-\x7e]+$/;

/**
 * Where a request is sent on https: `https://<host><path><query>`, the
 * host from `Host` with its port replaced by `port` (left out for 443), or
 * `undefined` when the host is missing or not a host name or IP literal.
 *
 * @example
 * ```ts
 * const target = splitTarget("http://example.com:8080/a?b=1");
 * httpsLocation([["host", "example.com:8080"]], target, 443); // "https://example.com/a?b=1"
 * httpsLocation([["host", "evil.com/x"]], target, 443); // undefined
 * ```
 */
export function httpsLocation(
  fields: HeaderFields,
  target: RequestTarget,
  port: number,
): string | undefined {
  // HTTP/2 has no Host field: its :authority is the URL's.
  const host = (fieldValue(fields, "host") ?? target.authority).toLowerCase();
  // [SECURITY] Open redirect: the host must be the one the request was
  // routed and validated by (an absolute-form target naming another is
  // refused), and a plain host name or IP literal, so that no `@`, `/`,
  // space or control character can turn the Location into another URL.
  if (host !== target.authority) return undefined;
  const m = AUTHORITY.exec(host);
  if (!m) return undefined;
  const name = m[1]!;
  const ipv6 = name.startsWith("[");
  if (ipv6 ? !parseIp(name.slice(1, -1)) : !HOST_NAME.test(name)) return undefined;
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) return undefined;
  // [SECURITY] A path of `//evil.com` stays a path on this host: leading
  // slashes are collapsed, so no client sees a scheme-relative reference.
  const path = target.path === "*" ? "/" : target.path.replace(/^\/+/, "/");
  const location = `https://${name}${port === 443 ? "" : `:${port}`}${path}${target.query}`;
  return VISIBLE.test(location) ? location : undefined;
}

/**
 * Answers every request with `308 Permanent Redirect` to its https URL
 * (RFC 9110 §15.4.9: the method and body are kept on the second try), or
 * `400` when its host cannot be redirected to.
 */
export function httpsRedirectPhase(port: number, stats?: GlobalStats): Phase {
  return (ctx) => {
    const location = httpsLocation(ctx.fields, ctx.target, port);
    if (location === undefined) {
      ctx.reason = "invalid_host";
      stats?.recordReject("invalid_host");
      return jsonResponse(400, { error: "invalid host" });
    }
    ctx.reason = "https_redirect";
    return new Response(null, { status: 308, headers: { location } });
  };
}
