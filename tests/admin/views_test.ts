/**
 * The admin API's views: every snapshot field reaches the answer under its
 * snake_case name, with its value untouched. Every value below is distinct,
 * so a field mapped from the wrong source shows in the diff.
 * `tests/integration/admin_keys_test.ts` walks the keys of real answers.
 */

import assert from "node:assert/strict";
import { drainView, healthView, reloadView, statusView } from "../../src/admin/views.ts";
import type { Snapshot } from "../../src/snapshot/mod.ts";

const SNAPSHOT: Snapshot = {
  time: 1_700_000_000_000,
  uptimeMs: 5_600,
  version: "1.2.3",
  listen: "http://0.0.0.0:8080",
  listeners: [{
    protocol: "http",
    udp: null,
    name: "web",
    url: "http://0.0.0.0:8080",
    pools: ["api"],
    healthyP95: 52,
    limiter: {
      rate: 53,
      minRate: 54,
      maxRate: 55,
      burst: 56,
      trackedClients: 57,
      maxClients: 58,
      evictions: 59,
      lastChange: null,
    },
    traffic: {
      requests: 60,
      responses: { "1xx": 0, "2xx": 61, "3xx": 0, "4xx": 0, "5xx": 0 },
      rateLimited: 62,
      rejects: {},
      activeConnections: 63,
      totalConnections: 64,
      bytesIn: 65,
      bytesOut: 66,
    },
    connections: {
      active: 63,
      total: 64,
      maxConnections: 67,
      maxConnectionsPerClient: 68,
      rejected: { max_connections: 69, per_client: 70, denied: 0, rate_limited: 0 },
      acceptErrors: 71,
    },
  }],
  global: {
    requests: 1,
    responses: { "1xx": 2, "2xx": 3, "3xx": 4, "4xx": 5, "5xx": 6 },
    rateLimited: 7,
    rejects: { path_traversal: 8 },
    activeConnections: 9,
    totalConnections: 10,
    bytesIn: 11,
    bytesOut: 12,
  },
  connections: {
    maxConnections: 13,
    maxConnectionsPerClient: 14,
    rejected: { max_connections: 15, per_client: 16, denied: 0, rate_limited: 0 },
    acceptErrors: 17,
  },
  durations: [],
  backends: [{
    pool: "api",
    id: "http://10.0.0.1:9001",
    weight: 18,
    effectiveWeight: 19,
    health: "unhealthy",
    warmupPercent: 25,
    available: false,
    breaker: {
      state: "half_open",
      consecutiveFailures: 20,
      halfOpenInFlight: 21,
      halfOpenSuccesses: 22,
      openedAt: 23,
      opens: 24,
    },
    metrics: {
      requests: 26,
      errors: 27,
      inFlight: 28,
      bytesIn: 29,
      bytesOut: 30,
      latency: { count: 31, p50: 32, p95: 33, p99: 34, mean: 35, max: 36 },
    },
  }],
  healthyP95: 37,
  limiter: {
    rate: 38,
    minRate: 39,
    maxRate: 40,
    burst: 41,
    trackedClients: 42,
    maxClients: 43,
    evictions: 44,
    lastChange: { from: 45, to: 46, p95: 47, reason: "reduce", time: 48 },
  },
  websocket: { open: [], pools: [] },
  events: [{
    time: 49,
    kind: "health",
    message: "http://10.0.0.1:9001 is unhealthy: 3 failed checks",
    fields: { backend: "http://10.0.0.1:9001", warmup_percent: 0 },
  }],
};

const DRAIN = { draining: true, connections: 50, inFlight: 51 };

Deno.test("statusView names every snapshot field in snake_case and keeps its value", () => {
  const config = { admin: { token: "<redacted>" } };
  assert.deepEqual(
    statusView(SNAPSHOT, {
      drain: DRAIN,
      adminListen: "http://127.0.0.1:9090",
      metricsListen: "http://127.0.0.1:9091",
      config,
    }),
    {
      version: "1.2.3",
      uptime_seconds: 6,
      listen: {
        public: "http://0.0.0.0:8080",
        admin: "http://127.0.0.1:9090",
        metrics: "http://127.0.0.1:9091",
      },
      drain: { draining: true, connections: 50, in_flight: 51 },
      global: {
        requests: 1,
        responses: { "1xx": 2, "2xx": 3, "3xx": 4, "4xx": 5, "5xx": 6 },
        rate_limited: 7,
        rejects: { path_traversal: 8 },
        active_connections: 9,
        total_connections: 10,
        bytes_in: 11,
        bytes_out: 12,
      },
      connections: {
        max_connections: 13,
        max_connections_per_client: 14,
        rejected: { max_connections: 15, per_client: 16, denied: 0, rate_limited: 0 },
        accept_errors: 17,
      },
      backends: [{
        pool: "api",
        url: "http://10.0.0.1:9001",
        weight: 18,
        effective_weight: 19,
        health: "unhealthy",
        available: false,
        warmup_percent: 25,
        breaker: {
          state: "half_open",
          consecutive_failures: 20,
          half_open_in_flight: 21,
          half_open_successes: 22,
          opened_at: 23,
          opens: 24,
        },
        requests: 26,
        errors: 27,
        in_flight: 28,
        bytes_in: 29,
        bytes_out: 30,
        latency_ms: { count: 31, p50: 32, p95: 33, p99: 34, mean: 35, max: 36 },
      }],
      limiter: {
        rate: 38,
        min_rate: 39,
        max_rate: 40,
        burst: 41,
        tracked_clients: 42,
        max_clients: 43,
        evictions: 44,
        last_change: { from: 45, to: 46, p95_ms: 47, reason: "reduce", time: 48 },
      },
      websocket: { open: [], pools: [] },
      listeners: [{
        name: "web",
        protocol: "http",
        address: "http://0.0.0.0:8080",
        pools: ["api"],
        requests: 60,
        responses: { "1xx": 0, "2xx": 61, "3xx": 0, "4xx": 0, "5xx": 0 },
        rate_limited: 62,
        rejects: {},
        bytes_in: 65,
        bytes_out: 66,
        connections: {
          active: 63,
          total: 64,
          max_connections: 67,
          max_connections_per_client: 68,
          rejected: { max_connections: 69, per_client: 70, denied: 0, rate_limited: 0 },
          accept_errors: 71,
        },
        healthy_p95_ms: 52,
        limiter: {
          rate: 53,
          min_rate: 54,
          max_rate: 55,
          burst: 56,
          tracked_clients: 57,
          max_clients: 58,
          evictions: 59,
          last_change: null,
        },
      }],
      pools: [{ name: "api", backends: ["http://10.0.0.1:9001"], healthy: 0, available: 0 }],
      events: [{
        time: 49,
        kind: "health",
        message: "http://10.0.0.1:9001 is unhealthy: 3 failed checks",
        fields: { backend: "http://10.0.0.1:9001", warmup_percent: 0 },
      }],
      config,
    },
  );
});

Deno.test("statusView shows no rate change yet as last_change: null", () => {
  const snap = { ...SNAPSHOT, limiter: { ...SNAPSHOT.limiter, lastChange: null } };
  const view = statusView(snap, { drain: DRAIN, adminListen: "", metricsListen: "", config: {} });
  assert.equal(view.limiter.last_change, null);
});

Deno.test("healthView says unavailable when no backend can take traffic", () => {
  assert.deepEqual(healthView(SNAPSHOT, DRAIN), {
    status: "unavailable",
    draining: true,
    backends: [{
      pool: "api",
      url: "http://10.0.0.1:9001",
      health: "unhealthy",
      available: false,
      breaker: "half_open",
      warmup_percent: 25,
    }],
    listeners: [{
      name: "web",
      protocol: "http",
      address: "http://0.0.0.0:8080",
      status: "unavailable",
      pools: ["api"],
    }],
    pools: [{ name: "api", status: "unavailable", available: 0, backends: 1 }],
  });
});

Deno.test("drainView and reloadView name their keys in snake_case", () => {
  assert.deepEqual(drainView(DRAIN), { draining: true, connections: 50, in_flight: 51 });
  const listeners = { opened: ["d"], closed: ["e"], moved: ["f"] };
  assert.deepEqual(
    reloadView({ ok: true, added: ["a"], removed: ["b"], kept: ["c"], listeners }),
    { reloaded: true, added: ["a"], removed: ["b"], kept: ["c"], listeners },
  );
  assert.deepEqual(reloadView({ ok: false, problems: ["p"] }), {
    error: "invalid configuration, nothing changed",
    problems: ["p"],
  });
  assert.deepEqual(reloadView({ ok: false, error: "nothing to reload", problems: ["p"] }), {
    error: "nothing to reload",
    problems: ["p"],
  });
});
