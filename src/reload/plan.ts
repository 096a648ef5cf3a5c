/**
 * What a reload would do, decided from two configurations alone: the one
 * running and the one just read. Pure, so every rule is tested with plain
 * configurations and no socket; `reloader.ts` applies the plan.
 *
 * A setting falls in one of three groups:
 * - **refused**: parts built once at start cannot take a new value live
 *   (the admin and metrics listeners' addresses, a pool's backend
 *   connection pools); a reload that changes one is refused whole, and
 *   the running configuration stays;
 * - **planned**: listeners by name are opened, closed, moved (the new
 *   socket bound before the old one closes) or kept; backends by pool and
 *   URL are added, removed or kept (keeping their state);
 * - **replaced**: everything derived from the configuration (pools,
 *   limiters, proxies, health and adaptive loops) is rebuilt from the new
 *   one on every reload, keeping the state of what stays; the logger is
 *   rebuilt when `logging` changed.
 *
 * @module
 */

import { type Config, isL4Pool, type PoolConfig } from "../config/mod.ts";

/**
 * Backends as a reload changes them, each in configuration order, named
 * `<pool> <url>`: state is keyed by both, so the same URL in two pools is
 * two backends.
 */
export interface BackendChanges {
  /** In the new configuration only: they start unhealthy until checked. */
  readonly added: readonly string[];
  /** In the running configuration only: they get no new requests. */
  readonly removed: readonly string[];
  /** In both: they keep their live state (health, breaker, warm-up). */
  readonly kept: readonly string[];
}

/** Listeners by name as a reload changes them, each in configuration order. */
export interface ListenerChanges {
  /** In the new configuration only: bound before anything else changes. */
  readonly opened: readonly string[];
  /** In the running configuration only: drained and closed after the swap. */
  readonly closed: readonly string[];
  /** In both, at another address: the new socket is bound before the old one closes. */
  readonly moved: readonly string[];
  /** In both, at the same address: the socket stays, with the new limits and timeouts. */
  readonly kept: readonly string[];
}

/** A reload that can go ahead, and what it changes. */
export interface ReloadChanges extends BackendChanges {
  readonly ok: true;
  /** The configuration to swap in. */
  readonly next: Config;
  /** What happens to each listener. */
  readonly listeners: ListenerChanges;
  /** True when `logging.level` or `logging.format` changed: the logger is rebuilt. */
  readonly newLogger: boolean;
}

/** A reload that must not happen: the running configuration stays. */
export interface ReloadRefusal {
  readonly ok: false;
  /** One line per setting that cannot change live, naming it and saying why. */
  readonly problems: readonly string[];
}

/** The outcome of {@linkcode planReload}. */
export type ReloadPlan = ReloadChanges | ReloadRefusal;

/** The upstream fields a pool's transport (its connection pools) is built from. */
const TRANSPORT_KEYS = [
  "transport",
  "connect_timeout",
  "max_connections",
  "max_idle_connections",
  "idle_connection_timeout",
  "ca_file",
  "server_name",
] as const;

/** The pools both configurations have, by name, in the next one's order. */
function keptPools(running: Config, next: Config): Array<[string, PoolConfig, PoolConfig]> {
  return Object.entries(next.pools)
    .filter(([name]) => Object.hasOwn(running.pools, name))
    .map(([name, pool]) => [name, running.pools[name]!, pool]);
}

/** The lines of a refusal: one per fixed setting `next` changes. */
function fixedChanges(running: Config, next: Config): string[] {
  const problems: string[] = [];
  for (const [name, before, after] of keptPools(running, next)) {
    // An L4 pool has no HTTP transport: its relay reads these per connection.
    if (isL4Pool(after)) continue;
    for (const k of TRANSPORT_KEYS) {
      if (before.upstream[k] !== after.upstream[k]) {
        problems.push(
          `pools.${name}.upstream.${k}: the pool's backend connections are built when it starts; restart Aegis, or give the pool a new name`,
        );
      }
    }
  }
  if (running.server.workers !== next.server.workers) {
    problems.push(
      "server.workers: the worker isolates are started once, with the process; restart Aegis",
    );
  }
  if (running.admin.address !== next.admin.address) {
    problems.push("admin.address: the admin listener cannot move while running; restart Aegis");
  }
  if (running.admin.metrics_address !== next.admin.metrics_address) {
    problems.push(
      "admin.metrics_address: the metrics listener cannot open, close or move while running; restart Aegis",
    );
  }
  for (const after of next.listeners) {
    const before = running.listeners.find((l) => l.name === after.name);
    if (before && before.protocol !== after.protocol) {
      problems.push(
        `listeners[${after.name}].protocol: a listener cannot change from ${before.protocol} to ${after.protocol} while running; restart Aegis`,
      );
    }
    // The socket kind changes, and the old one holds the address until the new one is bound.
    if (before && before.address === after.address && !before.tls !== !after.tls) {
      problems.push(
        `listeners[${after.name}].tls: a listener cannot switch between plain HTTP and TLS on the same address while running; restart Aegis, or give it a new address`,
      );
    }
  }
  return problems;
}

/** Which backends `next` adds, removes and keeps, by pool and URL. */
function backendChanges(running: Config, next: Config): BackendChanges {
  const ids = (c: Config) =>
    Object.entries(c.pools).flatMap(([name, p]) =>
      p.backends.map((b) => `${name} ${b.url ?? b.address}`)
    );
  const before = new Set(ids(running));
  const after = new Set(ids(next));
  return {
    added: [...after].filter((id) => !before.has(id)),
    removed: [...before].filter((id) => !after.has(id)),
    kept: [...after].filter((id) => before.has(id)),
  };
}

/** Which listeners `next` opens, closes, moves and keeps, by name. */
function listenerChanges(running: Config, next: Config): ListenerChanges {
  const before = new Map(running.listeners.map((l) => [l.name, l.address]));
  const after = next.listeners.map((l) => [l.name, l.address] as const);
  const names = new Set(after.map(([name]) => name));
  return {
    opened: after.filter(([name]) => !before.has(name)).map(([name]) => name),
    closed: [...before.keys()].filter((name) => !names.has(name)),
    moved: after.filter(([n, a]) => before.has(n) && before.get(n) !== a).map(([n]) => n),
    kept: after.filter(([n, a]) => before.get(n) === a).map(([n]) => n),
  };
}

/**
 * Decides what a reload from `running` to `next` does, or why it must be
 * refused. Both configurations are valid ones; this only compares them.
 *
 * @example
 * ```ts
 * const plan = planReload(running, next);
 * if (!plan.ok) console.log(plan.problems); // ["admin.address: ... restart Aegis"]
 * else console.log(plan.listeners.opened, plan.added, plan.removed, plan.kept);
 * ```
 */
export function planReload(running: Config, next: Config): ReloadPlan {
  const problems = fixedChanges(running, next);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    next,
    listeners: listenerChanges(running, next),
    ...backendChanges(running, next),
    newLogger: next.logging.level !== running.logging.level ||
      next.logging.format !== running.logging.format,
  };
}
