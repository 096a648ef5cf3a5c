/**
 * What a reload would do, decided from two configurations alone: the one
 * running and the one just read. Pure, so every rule is tested with plain
 * configurations and no socket; `reloader.ts` applies the plan.
 *
 * A setting falls in one of three groups:
 * - **refused**: parts built once at start cannot take a new value live
 *   (the listeners' addresses, the upstream connection pools); a reload
 *   that changes one is refused whole, and the running configuration stays;
 * - **replaced**: everything derived from the configuration (pool, limiter,
 *   proxy, health and adaptive loops) is rebuilt from the new one on every
 *   reload, keeping the state of backends that stay; the logger is rebuilt
 *   when `logging` changed;
 * - **kept**: the rest (listeners, transport, snapshots, counters, events)
 *   goes on as it runs; the listeners take the new connection limits.
 *
 * When listeners become reloadable, their rows move from {@linkcode FIXED}
 * into the plan as listeners to open, close or keep.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";

/** Backends by id (their URL) as a reload changes them, each in configuration order. */
export interface BackendChanges {
  /** In the new configuration only: they start unhealthy until checked. */
  readonly added: readonly string[];
  /** In the running configuration only: they get no new requests. */
  readonly removed: readonly string[];
  /** In both: they keep their live state (health, breaker, warm-up). */
  readonly kept: readonly string[];
}

/** A reload that can go ahead, and what it changes. */
export interface ReloadChanges extends BackendChanges {
  readonly ok: true;
  /** The configuration to swap in. */
  readonly next: Config;
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

/** A setting fixed at start: a change to it refuses the reload. */
interface FixedSetting {
  /** How the problem line names it. */
  readonly label: string;
  /** Its value, as a list so that several fields can move together. */
  readonly read: (config: Config) => readonly unknown[];
  /** Why it cannot change live. */
  readonly why: string;
}

/** The upstream fields the transport's connection pools are built from. */
const TRANSPORT_KEYS = [
  "transport",
  "connect_timeout",
  "max_connections",
  "max_idle_connections",
  "idle_connection_timeout",
] as const;

/** Settings a running Aegis cannot take without a restart, in the order problems are listed. */
const FIXED: readonly FixedSetting[] = [
  ...TRANSPORT_KEYS.map((k): FixedSetting => ({
    label: `upstream.${k}`,
    read: (c) => [c.upstream[k]],
    why: "the backend connection pools are built at start",
  })),
  {
    label: "server.host/server.port",
    read: (c) => [c.server.host, c.server.port],
    why: "the public listener cannot move while running",
  },
  {
    label: "admin.address",
    read: (c) => [c.admin.address],
    why: "the admin listener cannot move while running",
  },
];

function same(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The lines of a refusal: one per fixed setting `next` changes. */
function fixedChanges(running: Config, next: Config): string[] {
  return FIXED
    .filter((s) => !same(s.read(running), s.read(next)))
    .map((s) => `${s.label}: ${s.why}; restart Aegis`);
}

/** Which backends `next` adds, removes and keeps, by URL. */
function backendChanges(running: Config, next: Config): BackendChanges {
  const before = new Set(running.backends.map((b) => b.url));
  const after = new Set(next.backends.map((b) => b.url));
  return {
    added: [...after].filter((id) => !before.has(id)),
    removed: [...before].filter((id) => !after.has(id)),
    kept: [...after].filter((id) => before.has(id)),
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
 * else console.log(plan.added, plan.removed, plan.kept);
 * ```
 */
export function planReload(running: Config, next: Config): ReloadPlan {
  const problems = fixedChanges(running, next);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    next,
    ...backendChanges(running, next),
    newLogger: next.logging.level !== running.logging.level ||
      next.logging.format !== running.logging.format,
  };
}
