/**
 * The admin API and `/metrics` with two listeners and two pools: every
 * per-listener series carries `listener`, every per-backend one `pool` and
 * `backend`; `/health` and `/status` group by listener and pool. A real
 * snapshot over real pools, no socket.
 */

import assert from "node:assert/strict";
import { createAdminHandler } from "../../src/admin/mod.ts";
import { EventLog } from "../../src/events/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DurationHistograms, StatsByName } from "../../src/metrics/mod.ts";
import { createPool } from "../../src/pool/mod.ts";
import { buildSnapshot, type ListenerSource } from "../../src/snapshot/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import { NO_CONNECTIONS } from "../_helpers/snapshot.ts";
import { parsePrometheus, total } from "../stress/_prometheus.ts";

const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const SHARED = "http://127.0.0.1:9001";
const ONLY_WEB = "http://127.0.0.1:9002";
const LIMITER = {
  rate: 5,
  minRate: 1,
  maxRate: 10,
  burst: 5,
  trackedClients: 0,
  maxClients: 10,
  evictions: 0,
};

/** `api` and `web` pools (SHARED in both), listeners `public` (both pools) and `internal` (api). */
async function admin() {
  const clock = new ManualClock();
  const config = await parseTestConfig({
    listeners: [
      {
        name: "public",
        address: "127.0.0.1:0",
        routes: [{ match: { path_prefix: "/api" }, pool: "api" }, { pool: "web" }],
      },
      { name: "internal", address: "127.0.0.1:0", routes: [{ pool: "api" }] },
    ],
    pools: {
      api: { backends: [{ url: SHARED, weight: 1 }] },
      web: { backends: [{ url: SHARED, weight: 1 }, { url: ONLY_WEB, weight: 1 }] },
    },
  });
  const api = createPool(config.pools.api!, { clock });
  const web = createPool(config.pools.web!, { clock });
  web.states[1]!.observeHealth(false);
  web.states[1]!.observeHealth(false);
  web.states[1]!.observeHealth(false); // ONLY_WEB in web is down
  api.states[0]!.observeHealth(false);
  api.states[0]!.observeHealth(false);
  api.states[0]!.observeHealth(false); // api has nothing available
  api.states[0]!.stats.requests = 3;
  web.states[0]!.stats.requests = 7;
  const stats = new StatsByName();
  stats.get("public").requests = 10;
  stats.get("public").recordResponse(200);
  stats.get("internal").requests = 4;
  stats.get("internal").recordReject("no_route");
  const durations = new DurationHistograms();
  durations.record({ listener: "public", pool: "web", backend: SHARED }, 200, 0.01);
  durations.record({ listener: "internal", pool: "api", backend: SHARED }, 502, 0.02);
  const listener = (name: string, pools: string[]): ListenerSource => ({
    name,
    url: `http://127.0.0.1:${name === "public" ? 8080 : 8081}`,
    pools,
    limiter: () => LIMITER,
    lastRateChange: () => undefined,
    stats: stats.get(name),
    connections: () => ({ ...NO_CONNECTIONS, active: name === "public" ? 2 : 1 }),
  });
  const snapshot = () =>
    buildSnapshot({
      version: "9.9.9",
      startedAt: 0,
      pools: () => [["api", api], ["web", web]],
      listeners: () => [listener("public", ["api", "web"]), listener("internal", ["api"])],
      stats,
      durations,
      connections: () => NO_CONNECTIONS,
      events: new EventLog({ now: () => 0 }),
      clock,
      now: () => 1000,
    });
  const handle = createAdminHandler({
    snapshot,
    history: () => [],
    closing: new AbortController().signal,
    config: () => config,
    adminListen: "http://127.0.0.1:9090",
    metricsListen: "",
    reload: () => Promise.resolve({ ok: false, problems: [] }),
    drain: () => {},
    drainStatus: () => ({ draining: false, connections: 0, inFlight: 0 }),
  }, createLogger({ level: "error", sink: () => {} }));
  const get = async (path: string) => await handle(new Request(`http://admin${path}`));
  return { get };
}

Deno.test(
  "/metrics labels per-listener series by listener and per-backend ones by pool",
  yamlEnv,
  async () => {
    const { get } = await admin();
    const samples = parsePrometheus(await (await get("/metrics")).text());
    const of = (name: string) => samples.filter((s) => s.name === name);
    assert.deepEqual(of("proxy_requests_total").map((s) => [s.labels.listener, s.value]), [
      ["public", 10],
      ["internal", 4],
    ]);
    assert.deepEqual(of("proxy_active_connections").map((s) => [s.labels.listener, s.value]), [
      ["public", 2],
      ["internal", 1],
    ]);
    assert.equal(
      total(
        samples,
        "proxy_requests_rejected_total",
        (l) => l.listener === "internal" && l.reason === "no_route",
      ),
      1,
    );
    assert.deepEqual(
      of("proxy_rate_limit_rate").map((s) => s.labels.listener),
      ["public", "internal"],
    );
    // The same URL in two pools is two backends, two series.
    assert.deepEqual(
      of("proxy_backend_requests_total").map((s) => [s.labels.pool, s.labels.backend, s.value]),
      [["api", SHARED, 3], ["web", SHARED, 7], ["web", ONLY_WEB, 0]],
    );
    assert.deepEqual(
      of("proxy_request_duration_seconds_count").map((
        s,
      ) => [s.labels.listener, s.labels.pool, s.labels.backend]),
      [["public", "web", SHARED], ["internal", "api", SHARED]],
    );
  },
);

Deno.test(
  "/health groups backends by pool and says what each listener can reach",
  yamlEnv,
  async () => {
    const { get } = await admin();
    const res = await get("/health");
    assert.equal(res.status, 200, "a backend is available somewhere");
    const body = await res.json();
    assert.deepEqual(body.pools, [
      { name: "api", status: "unavailable", available: 0, backends: 1 },
      { name: "web", status: "ok", available: 1, backends: 2 },
    ]);
    assert.deepEqual(body.listeners, [
      {
        name: "public",
        protocol: "http",
        address: "http://127.0.0.1:8080",
        status: "degraded",
        pools: ["api", "web"],
      },
      {
        name: "internal",
        protocol: "http",
        address: "http://127.0.0.1:8081",
        status: "unavailable",
        pools: ["api"],
      },
    ]);
    assert.deepEqual(body.backends.map((b: { pool: string; url: string }) => [b.pool, b.url]), [
      ["api", SHARED],
      ["web", SHARED],
      ["web", ONLY_WEB],
    ]);
  },
);

Deno.test(
  "/status shows each listener's traffic and limiter, and each pool's backends",
  yamlEnv,
  async () => {
    const { get } = await admin();
    const body = await (await get("/status")).json();
    assert.deepEqual(
      body.listeners.map((
        l: { name: string; requests: number; rejects: object },
      ) => [l.name, l.requests, l.rejects]),
      [["public", 10, {}], ["internal", 4, { no_route: 1 }]],
    );
    assert.equal(body.listeners[0].limiter.tracked_clients, 0);
    assert.equal(body.listeners[0].connections.active, 2);
    assert.deepEqual(body.pools, [
      { name: "api", backends: [SHARED], healthy: 0, available: 0 },
      { name: "web", backends: [SHARED, ONLY_WEB], healthy: 1, available: 1 },
    ]);
    assert.equal(body.global.requests, 14, "the totals add every listener up");
  },
);
