/**
 * Hand-made snapshots for the dashboard tests: plain data literals of the
 * `Snapshot` type, with a few knobs for what each test varies.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ColumnKey, render } from "../../src/dashboard/mod.ts";
import type { AegisEvent } from "../../src/events/mod.ts";
import type { BackendSnapshot, Snapshot } from "../../src/snapshot/mod.ts";

/** 2025-01-01T12:00:00Z, the time of every fixture snapshot. */
export const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

/** Backend fixture knobs. */
export interface BackendOptions {
  readonly id?: string;
  readonly health?: BackendSnapshot["health"];
  readonly breaker?: BackendSnapshot["breaker"]["state"];
  readonly warmupPercent?: number;
  readonly weight?: number;
  readonly requests?: number;
  readonly errors?: number;
  readonly inFlight?: number;
  readonly latency?: readonly [p50: number, p95: number, p99: number];
}

/** One backend, healthy and closed unless told otherwise. */
export function backend(i: number, o: BackendOptions = {}): BackendSnapshot {
  const health = o.health ?? "healthy";
  const state = o.breaker ?? "closed";
  const warmupPercent = o.warmupPercent ?? (health === "healthy" ? 100 : 0);
  const weight = o.weight ?? 1 + (i % 2);
  const [p50, p95, p99] = o.latency ?? [12 + i, 48 + i, 95 + i];
  return {
    pool: "default",
    id: o.id ?? `http://10.0.0.${i + 1}:${8081 + i}`,
    weight,
    effectiveWeight: health === "healthy" ? Math.ceil((weight * warmupPercent) / 100) : 0,
    health,
    warmupPercent,
    available: health === "healthy" && state !== "open",
    breaker: {
      state,
      consecutiveFailures: state === "closed" ? 0 : 5,
      halfOpenInFlight: 0,
      halfOpenSuccesses: 0,
      openedAt: state === "closed" ? null : 1000,
      opens: state === "closed" ? 0 : 1,
    },
    metrics: {
      requests: o.requests ?? 1000 * (i + 1),
      errors: o.errors ?? 0,
      inFlight: o.inFlight ?? i + 1,
      bytesIn: 0,
      bytesOut: 0,
      latency: { count: 500, p50, p95, p99, mean: p50, max: p99 + 10 },
    },
  };
}

/** An event `secondsAgo` before {@linkcode NOW}. */
export function event(
  secondsAgo: number,
  kind: string,
  message: string,
  fields: AegisEvent["fields"] = {},
): AegisEvent {
  return { time: NOW - secondsAgo * 1000, kind, message, fields };
}

/** Snapshot fixture knobs. */
export interface SnapshotOptions {
  readonly backends?: readonly BackendSnapshot[];
  readonly events?: readonly AegisEvent[];
  /** WebSocket counters; none by default. */
  readonly websocket?: Snapshot["websocket"];
  readonly time?: number;
  readonly requests?: number;
  readonly rateLimited?: number;
  readonly responses5xx?: number;
  readonly responses2xx?: number;
  readonly rate?: number;
  readonly lastChange?: Snapshot["limiter"]["lastChange"];
}

/** A snapshot of a proxy up for 1h02m03s; `n` backends unless `backends` is given. */
export function snapshot(n = 3, o: SnapshotOptions = {}): Snapshot {
  const backends = o.backends ?? Array.from({ length: n }, (_, i) => backend(i));
  const limiter: Snapshot["limiter"] = {
    rate: o.rate ?? 100,
    minRate: 10,
    maxRate: 500,
    burst: 150,
    trackedClients: 12,
    maxClients: 100_000,
    evictions: 0,
    lastChange: o.lastChange === undefined
      ? { from: 125, to: 100, p95: 612, reason: "reduce", time: NOW - 42_000 }
      : o.lastChange,
  };
  const global: Snapshot["global"] = {
    requests: o.requests ?? 6000,
    responses: {
      "1xx": 0,
      "2xx": o.responses2xx ?? 5900,
      "3xx": 0,
      "4xx": 40,
      "5xx": o.responses5xx ?? 60,
    },
    rateLimited: o.rateLimited ?? 40,
    rejects: {},
    activeConnections: 12,
    totalConnections: 340,
    bytesIn: 0,
    bytesOut: 0,
  };
  const connections: Snapshot["connections"] = {
    maxConnections: 18_000,
    maxConnectionsPerClient: 256,
    rejected: { max_connections: 0, per_client: 0, denied: 0, rate_limited: 0 },
    acceptErrors: 0,
  };
  return {
    time: o.time ?? NOW,
    uptimeMs: 3_723_000,
    version: "0.1.0",
    listen: "http://0.0.0.0:8080",
    listeners: [{
      protocol: "http",
      udp: null,
      name: "default",
      url: "http://0.0.0.0:8080",
      pools: ["default"],
      healthyP95: 50,
      limiter,
      traffic: global,
      connections: { ...connections, active: 12, total: 340 },
    }],
    global,
    connections,
    durations: [],
    backends,
    healthyP95: 50,
    limiter,
    websocket: o.websocket ?? { open: [], pools: [] },
    events: o.events ?? defaultEvents(),
  };
}

/** A few realistic events, newest first. */
export function defaultEvents(): AegisEvent[] {
  return [
    event(5, "rate", "rate 125 → 100 req/s (P95 612 ms, reduce)", {
      from: 125,
      to: 100,
      p95: 612,
      reason: "reduce",
    }),
    event(20, "breaker", "circuit breaker closed for http://10.0.0.2:8082: 3 probes succeeded", {
      backend: "http://10.0.0.2:8082",
      to: "closed",
    }),
    event(65, "health", "http://10.0.0.3:8083 is unhealthy: 3 failed checks", {
      backend: "http://10.0.0.3:8083",
      health: "unhealthy",
    }),
    event(3600, "reload", "configuration reloaded: 0 added, 0 removed, 3 kept", { ok: true }),
  ];
}

/** `count` numbered events, newest (`event 0`) first. */
export function manyEvents(count: number): AegisEvent[] {
  return Array.from({ length: count }, (_, i) => event(i, "health", `event ${i}`));
}

// deno-lint-ignore no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;

/** `text` without SGR sequences. */
export function stripAnsi(text: string): string {
  return text.replace(SGR, "");
}

/** Renders without colour and returns the lines. */
export function plain(
  s: Snapshot,
  width: number,
  height: number,
  view?: Parameters<typeof render>[2],
) {
  return render(s, { width, height, color: false }, view);
}

/** Three backends in three moods, and a previous snapshot two seconds earlier. */
export function scene(o: SnapshotOptions = {}): { now: Snapshot; previous: Snapshot } {
  const previous = snapshot(3, {
    time: NOW - 2000,
    requests: 5700,
    rateLimited: 38,
    responses2xx: 5650,
    responses5xx: 58,
    backends: [0, 1, 2].map((i) => backend(i, { requests: 950 * (i + 1) })),
  });
  const now = snapshot(3, {
    backends: [
      backend(0),
      backend(1, { breaker: "half_open", warmupPercent: 75 }),
      backend(2, { health: "unhealthy", breaker: "open", errors: 17 }),
    ],
    ...o,
  });
  return { now, previous };
}

/** The first line containing `text`; fails the test when there is none. */
export function lineWith(lines: readonly string[], text: string): string {
  const found = lines.find((l) => l.includes(text));
  assert.ok(found !== undefined, `no line contains ${JSON.stringify(text)}:\n${lines.join("\n")}`);
  return found;
}

/** Column header titles and the columns they name. */
export const TITLE_TO_KEY: Readonly<Record<string, ColumnKey>> = {
  URL: "url",
  HEALTH: "health",
  BREAKER: "breaker",
  WARM: "warmup",
  WEIGHT: "weight",
  INFL: "inFlight",
  "REQ/S": "requestsPerSecond",
  P50: "p50",
  P95: "p95",
  P99: "p99",
  ERR: "errors",
};

/** The columns of the backends table, read from its column header. */
export function columnsShown(lines: readonly string[]): ColumnKey[] {
  const header = lines.find((l) => l.startsWith("URL "));
  assert.ok(header !== undefined, lines.join("\n"));
  return header.trim().split(/\s+/).map((t) => TITLE_TO_KEY[t]!);
}
