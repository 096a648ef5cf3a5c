/**
 * From the file as written to the resolved configuration: the flat form
 * becomes one `http` listener and one pool, both named `default`; every
 * field a listener or pool leaves out takes the top-level section's value.
 * Pure, and run only on a file that passed every check.
 *
 * @module
 */

import type { FileConfig } from "./fields.ts";
import { FRONT_KEYS } from "./fields_front.ts";
import { websocketSection } from "./fields_front.ts";
import { udpSection } from "./fields_topology.ts";
import type { Config, ListenerConfig, PoolConfig, RouteConfig } from "./resolved.ts";

/** What HTTP health checks request when `health_check.path` is not set. */
export const DEFAULT_HEALTH_PATH = "/health";

/** The name of the listener and of the pool the flat form stands for. */
export const DEFAULT_NAME = "default";

type FileListener = NonNullable<FileConfig["listeners"]>[number];
type FilePool = NonNullable<FileConfig["pools"]>[string];
type FileRoute = NonNullable<FileListener["routes"]>[number];

/**
 * `host:port`, with brackets around an IPv6 host.
 *
 * @example
 * ```ts
 * joinHostPort("::", 8080); // "[::]:8080"
 * ```
 */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A route with nothing unset in it: an empty `match` is no match block at all. */
function resolveRoute(route: FileRoute): RouteConfig {
  const match = Object.fromEntries(
    Object.entries(route.match ?? {}).filter(([, v]) => v !== undefined),
  );
  return {
    ...(Object.keys(match).length > 0 ? { match } : {}),
    pool: route.pool,
    strip_prefix: route.strip_prefix,
  };
}

function resolveListener(file: FileConfig, l: FileListener): ListenerConfig {
  const front = Object.fromEntries(
    FRONT_KEYS.map((k) => [k, l[k] ?? file.server[k]]),
  ) as Pick<ListenerConfig, (typeof FRONT_KEYS)[number]>;
  const l4 = l.protocol !== "http";
  const hsts = l.security.hsts ?? file.security.hsts;
  return {
    name: l.name,
    protocol: l.protocol,
    address: l.address,
    ...(l4 ? { pool: l.pool } : {}),
    allow: l.allow,
    deny: l.deny,
    accept_proxy_protocol: l.accept_proxy_protocol,
    ...(l.protocol === "udp" ? { udp: l.udp ?? udpSection.default! } : {}),
    ...(l.tls ? { tls: l.tls } : {}),
    ...(l4 ? {} : { websocket: l.websocket ?? websocketSection.default! }),
    ...(l.redirect_to_https !== undefined ? { redirect_to_https: l.redirect_to_https } : {}),
    ...front,
    rate_limit: { ...file.rate_limit, ...l.rate_limit },
    adaptive: { ...file.adaptive, ...l.adaptive },
    security: {
      allowed_methods: l.security.allowed_methods ?? file.security.allowed_methods,
      allowed_hosts: l.security.allowed_hosts ?? file.security.allowed_hosts,
      ...(hsts ? { hsts } : {}),
    },
    ...(l4 || l.redirect_to_https !== undefined
      ? {}
      : { routes: (l.routes ?? []).map(resolveRoute) }),
  };
}

/** The one listener of the flat form: `server`'s address, everything to pool `default`. */
function flatListener(file: FileConfig): FileListener {
  return {
    name: DEFAULT_NAME,
    protocol: "http",
    address: joinHostPort(file.server.host, file.server.port),
    allow: [],
    deny: [],
    accept_proxy_protocol: [],
    rate_limit: {},
    adaptive: {},
    security: {},
    routes: [{ pool: DEFAULT_NAME, strip_prefix: false }],
  } as FileListener;
}

/** True for a pool of `address` backends, which tcp and udp listeners forward to. */
export function isL4Pool(pool: { readonly backends: readonly { readonly address?: string }[] }) {
  return pool.backends.some((b) => b.address !== undefined);
}

function resolvePool(file: FileConfig, p: FilePool): PoolConfig {
  const written = { ...file.health_check, ...p.health_check };
  // An L4 pool without a path of its own or inherited is checked by connecting.
  const path = written.path ?? (isL4Pool(p) ? undefined : DEFAULT_HEALTH_PATH);
  const health = { ...written, ...(path === undefined ? {} : { path }) };
  return {
    backends: p.backends,
    load_balancing: { ...file.load_balancing, ...p.load_balancing },
    health_check: health,
    circuit_breaker: { ...file.circuit_breaker, ...p.circuit_breaker },
    retries: { ...file.retries, ...p.retries },
    upstream: { ...file.upstream, ...p.upstream },
  };
}

/**
 * The resolved configuration of a checked file.
 *
 * @example
 * ```ts
 * const config = expandConfig(file); // flat file
 * config.listeners[0].name; // "default"
 * Object.keys(config.pools); // ["default"]
 * ```
 */
export function expandConfig(file: FileConfig): Config {
  const listeners = file.listeners ?? [flatListener(file)];
  const pools: Record<string, FilePool> = file.pools ?? {
    [DEFAULT_NAME]: { backends: file.backends ?? [] } as FilePool,
  };
  return {
    server: { shutdown_timeout: file.server.shutdown_timeout, workers: file.server.workers },
    listeners: listeners.map((l) => resolveListener(file, l)),
    pools: Object.fromEntries(
      Object.entries(pools).map(([name, p]) => [name, resolvePool(file, p)]),
    ),
    security: { allowed_backend_networks: file.security.allowed_backend_networks },
    logging: file.logging,
    tui: file.tui,
    development: file.development,
    admin: file.admin,
    tracing: file.tracing,
  };
}
