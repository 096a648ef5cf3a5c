import assert from "node:assert/strict";
import { EventLog } from "../../src/events/mod.ts";
import { StatsByName } from "../../src/metrics/mod.ts";
import { createPool } from "../../src/pool/mod.ts";
import {
  buildSnapshot,
  SnapshotHistory,
  type SnapshotSources,
  Snapshotter,
} from "../../src/snapshot/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { parseTestConfig, testConfig } from "../_helpers/config.ts";
import { NO_CONNECTIONS, oneListener, TEST_LIMITER } from "../_helpers/snapshot.ts";

const env: Pick<Deno.TestDefinition, "permissions"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

async function sources(clock: ManualClock): Promise<SnapshotSources> {
  const config = await testConfig(["http://127.0.0.1:9001", "http://127.0.0.1:9002"], {
    health_check: { unhealthy_threshold: 1, healthy_threshold: 1 },
  });
  const pool = createPool(config.pools.default!, { clock });
  const events = new EventLog({ now: () => 1_700_000_000_000 });
  return {
    version: "9.9.9",
    startedAt: 1_700_000_000_000 - 5000,
    ...oneListener({
      url: "http://127.0.0.1:8080",
      pools: [["default", pool]],
      limiter: TEST_LIMITER,
      stats: new StatsByName(),
      connections: {
        active: 2,
        total: 7,
        maxConnections: 1000,
        maxConnectionsPerClient: 50,
        rejected: { max_connections: 3, per_client: 4, denied: 0, rate_limited: 0 },
        acceptErrors: 5,
      },
    }),
    events,
    clock,
    now: () => 1_700_000_000_000,
  };
}

Deno.test(
  "buildSnapshot() gathers backends, health, breakers, latency, limiter and events, frozen",
  env,
  async () => {
    const clock = new ManualClock();
    const s = await sources(clock);
    const [a, b] = s.pools()[0]![1].states;
    a!.stats.latency.record(10, clock.now());
    a!.stats.latency.record(30, clock.now());
    b!.stats.latency.record(500, clock.now());
    b!.observeHealth(false); // b unhealthy: its latency leaves the adaptive loop's P95
    s.events.record("health", "b is unhealthy");
    const snap = buildSnapshot(s);
    assert.equal(snap.uptimeMs, 5000);
    assert.equal(snap.version, "9.9.9");
    assert.deepEqual(
      snap.backends.map((x) => [x.health, x.available, x.warmupPercent, x.effectiveWeight]),
      [
        ["healthy", true, 100, 1],
        ["unhealthy", false, 0, 0],
      ],
    );
    assert.equal(
      snap.healthyP95,
      30,
      "P95 over the healthy backends only (nearest rank of 10, 30)",
    );
    assert.equal(snap.backends[1]!.metrics.latency.p95, 500);
    assert.deepEqual(
      [snap.global.activeConnections, snap.global.totalConnections],
      [2, 7],
    );
    assert.deepEqual(snap.connections, {
      maxConnections: 1000,
      maxConnectionsPerClient: 50,
      rejected: { max_connections: 3, per_client: 4, denied: 0, rate_limited: 0 },
      acceptErrors: 5,
    });
    assert.ok(Object.isFrozen(snap.connections.rejected));
    assert.equal(snap.limiter.rate, 80);
    assert.equal(snap.limiter.lastChange, null);
    assert.equal(snap.events[0]?.message, "b is unhealthy");
    assert.ok(
      Object.isFrozen(snap) && Object.isFrozen(snap.backends) && Object.isFrozen(snap.limiter),
    );
    // Later changes do not reach an existing snapshot.
    a!.stats.requests += 10;
    assert.equal(snap.backends[0]!.metrics.requests, 0);
  },
);

Deno.test(
  "buildSnapshot() shows each backend with its pool, and each listener's P95 over the pools it reaches",
  env,
  async () => {
    const clock = new ManualClock();
    const config = await parseTestConfig({
      listeners: [{ name: "web", address: "127.0.0.1:0", routes: [{ pool: "fast" }] }],
      pools: {
        fast: { backends: [{ url: "http://127.0.0.1:9001", weight: 1 }] },
        slow: { backends: [{ url: "http://127.0.0.1:9001", weight: 1 }] },
      },
    });
    const fast = createPool(config.pools.fast!, { clock });
    const slow = createPool(config.pools.slow!, { clock });
    fast.states[0]!.stats.latency.record(10, clock.now());
    slow.states[0]!.stats.latency.record(900, clock.now());
    const limiter = {
      rate: 1,
      minRate: 1,
      maxRate: 1,
      burst: 1,
      trackedClients: 0,
      maxClients: 1,
      evictions: 0,
    };
    const snap = buildSnapshot({
      ...(await sources(clock)),
      pools: () => [["fast", fast], ["slow", slow]],
      listeners: () => [{
        name: "web",
        url: "http://127.0.0.1:8080",
        pools: ["fast"],
        limiter: () => limiter,
        lastRateChange: () => undefined,
        stats: new StatsByName().get("web"),
        connections: () => NO_CONNECTIONS,
      }],
    });
    assert.deepEqual(snap.backends.map((b) => [b.pool, b.id]), [
      ["fast", "http://127.0.0.1:9001"],
      ["slow", "http://127.0.0.1:9001"],
    ]);
    assert.equal(snap.listeners[0]!.healthyP95, 10, "the slow pool is not this listener's");
    assert.equal(snap.healthyP95, 900, "over every pool");
    assert.equal(snap.listen, "http://127.0.0.1:8080");
  },
);

Deno.test("buildSnapshot() reports no P95 when no healthy backend has samples", env, async () => {
  const clock = new ManualClock();
  assert.equal(buildSnapshot(await sources(clock)).healthyP95, null);
});

Deno.test("Snapshotter rebuilds once per tick and stops when aborted", env, async () => {
  const clock = new ManualClock();
  const s = await sources(clock);
  const abort = new AbortController();
  const snapshots = new Snapshotter(s, 1000);
  snapshots.start(abort.signal);
  const first = snapshots.current;
  s.pools()[0]![1].states[0]!.stats.requests = 5;
  clock.advance(999);
  assert.equal(snapshots.current, first, "no new snapshot before the tick");
  clock.advance(1);
  assert.notEqual(snapshots.current, first);
  assert.equal(snapshots.current.backends[0]!.metrics.requests, 5);
  abort.abort();
  assert.equal(clock.pending, 0);
});

Deno.test("Snapshotter offers every snapshot it builds to the history", env, async () => {
  const clock = new ManualClock();
  const wall = { now: 1_700_000_000_000 };
  const s = { ...(await sources(clock)), now: () => wall.now };
  const history = new SnapshotHistory();
  const abort = new AbortController();
  const snapshots = new Snapshotter(s, 1000, history);
  snapshots.start(abort.signal);
  for (let i = 0; i < 3; i++) {
    s.stats.get("default").requests += 10;
    wall.now += 1000;
    clock.advance(1000);
  }
  abort.abort();
  const points = history.points();
  assert.equal(points.length, 4, "the first snapshot and three ticks");
  assert.deepEqual(points.map((p) => p.requestsPerSecond), [null, 10, 10, 10]);
});
