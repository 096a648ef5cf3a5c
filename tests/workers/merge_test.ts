/**
 * mergeSnapshots(): the process's snapshot from the control isolate's own
 * and its workers' snapshots, built here from real pools and counters.
 */

import assert from "node:assert/strict";
import { EventLog } from "../../src/events/mod.ts";
import { DurationHistograms, StatsByName } from "../../src/metrics/mod.ts";
import { createPool } from "../../src/pool/mod.ts";
import { buildSnapshot, type Snapshot } from "../../src/snapshot/mod.ts";
import { mergeSnapshots } from "../../src/workers/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { testConfig } from "../_helpers/config.ts";
import { oneListener, TEST_LIMITER } from "../_helpers/snapshot.ts";

const env: Pick<Deno.TestDefinition, "permissions"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/** A snapshot of one isolate that served `requests` requests of `latencyMs` each. */
async function isolate(
  requests: number,
  latencyMs: number,
  events: EventLog = new EventLog(),
): Promise<Snapshot> {
  const clock = new ManualClock();
  const config = await testConfig(["http://127.0.0.1:9001"]);
  const pool = createPool(config.pools.default!, { clock });
  const stats = new StatsByName();
  const durations = new DurationHistograms();
  const backend = pool.states[0]!;
  for (let i = 0; i < requests; i++) {
    stats.get("default").requests++;
    stats.get("default").recordResponse(200);
    backend.stats.requests++;
    backend.stats.latency.record(latencyMs, clock.now());
    durations.record(
      { listener: "default", pool: "default", backend: backend.id },
      200,
      latencyMs / 1000,
    );
  }
  return buildSnapshot({
    version: "9.9.9",
    startedAt: 0,
    ...oneListener({
      url: "http://127.0.0.1:8080",
      pools: [["default", pool]],
      limiter: TEST_LIMITER,
      stats,
    }),
    durations,
    events,
    clock,
  });
}

Deno.test(
  "mergeSnapshots() sums the workers' counters and merges their histograms exactly",
  env,
  async () => {
    const control = await isolate(0, 0);
    const merged = mergeSnapshots(control, [await isolate(3, 10), await isolate(5, 40)]);
    assert.equal(merged.global.requests, 8);
    assert.equal(merged.global.responses["2xx"], 8);
    assert.equal(merged.listeners[0]!.traffic.requests, 8);
    assert.equal(merged.backends[0]!.metrics.requests, 8);
    const latency = merged.backends[0]!.metrics.latency;
    assert.equal(latency.count, 8);
    assert.equal(latency.mean, (3 * 10 + 5 * 40) / 8);
    // Windows do not merge: the percentiles are the highest a worker saw.
    assert.equal(latency.p95, 40);
    const series = merged.durations;
    assert.equal(series.length, 1);
    assert.equal(series[0]!.count, 8);
    assert.equal(series[0]!.cumulative.at(-1), 8);
    assert.ok(Math.abs(series[0]!.sum - 0.23) < 1e-9);
    assert.ok(Object.isFrozen(merged.backends[0]!.metrics));
  },
);

Deno.test(
  "mergeSnapshots() keeps the control's health, limiter and events, and only the workers' own events",
  env,
  async () => {
    const controlEvents = new EventLog();
    controlEvents.record("reload", "configuration reloaded", {});
    const workerEvents = new EventLog();
    workerEvents.record("reload", "configuration reloaded", {});
    workerEvents.record("breaker", "circuit breaker open", {});
    const control = await isolate(0, 0, controlEvents);
    const merged = mergeSnapshots(control, [await isolate(1, 5, workerEvents)]);
    assert.deepEqual(merged.events.map((e) => e.kind).sort(), ["breaker", "reload"]);
    assert.equal(merged.backends[0]!.health, control.backends[0]!.health);
    assert.deepEqual(merged.limiter, control.limiter);
    assert.equal(merged.uptimeMs, control.uptimeMs);
  },
);

Deno.test("mergeSnapshots() with no report yet is the control's own snapshot", env, async () => {
  const control = await isolate(0, 0);
  assert.deepEqual(mergeSnapshots(control, []), control);
});
