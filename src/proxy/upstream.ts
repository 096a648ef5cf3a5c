/**
 * A pool as the request path uses it: the backends to pick from, the
 * transport that reaches them, and the pool's own timeouts and retry rule.
 * Routing hands the handler one of these per request, so one listener can
 * send each request to a different pool, each with its own settings.
 *
 * @module
 */

import type { PoolConfig } from "../config/mod.ts";
import type { Pool } from "../pool/mod.ts";
import type { Send } from "../core/mod.ts";

/** A pool, ready for the request path. */
export interface Upstream {
  /** The pool's name: access logs, metrics and events carry it. */
  readonly name: string;
  /** The backends and how one is chosen. */
  readonly pool: Pool;
  /** The pool's transport. */
  readonly send: Send;
  /** `upstream.response_header_timeout`. */
  readonly responseHeaderTimeoutMs: number;
  /** `upstream.read_timeout`: longest pause in a backend's response body. */
  readonly readTimeoutMs: number;
  /** `upstream.preserve_host`. */
  readonly preserveHost: boolean;
  /** `retries.attempts`. */
  readonly retries: number;
  /** Sent with a 503 when no backend is available: about one health check interval. */
  readonly retryAfterSeconds: number;
}

/** Where a request goes: the pool, and the path to send it (its prefix stripped, if asked). */
export interface RouteDecision {
  readonly upstream: Upstream;
  /** The raw path to forward, still percent-encoded. */
  readonly path: string;
}

/**
 * Chooses the pool for a request, or `undefined` when no route takes it.
 *
 * @param authority `host[:port]` as the request named it
 * @param path the raw path, still percent-encoded
 */
export type Router = (method: string, authority: string, path: string) => RouteDecision | undefined;

/**
 * A pool's settings for the request path.
 *
 * @example
 * ```ts
 * const api = createUpstream("api", config.pools.api, pool, transport.send);
 * const router: Router = (_m, _a, path) => ({ upstream: api, path });
 * ```
 */
export function createUpstream(name: string, config: PoolConfig, pool: Pool, send: Send): Upstream {
  return {
    name,
    pool,
    send,
    responseHeaderTimeoutMs: config.upstream.response_header_timeout,
    readTimeoutMs: config.upstream.read_timeout,
    preserveHost: config.upstream.preserve_host,
    retries: config.retries.attempts,
    retryAfterSeconds: Math.max(1, Math.ceil(config.health_check.interval / 1000)),
  };
}
