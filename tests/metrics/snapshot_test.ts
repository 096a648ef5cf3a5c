import assert from "node:assert/strict";
import {
  BackendStats,
  combinedP95,
  deepFreeze,
  GlobalStats,
  snapshotBackend,
  snapshotGlobal,
} from "../../src/metrics/mod.ts";

const none = { permissions: "none" } as const;

/** Backend stats whose window holds `latencies`, all recorded at `at`. */
function withLatencies(latencies: readonly number[], at = 1000): BackendStats {
  const stats = new BackendStats();
  for (const l of latencies) stats.latency.record(l, at);
  return stats;
}

/** lo, lo + 1, …, hi. */
const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/** True when `value` and every object under it is frozen. */
function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== "object") return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

Deno.test("snapshotBackend() copies counters and summarises the live window", none, async (t) => {
  const stats = withLatencies(range(1, 100));
  stats.requests = 120;
  stats.errors = 3;
  stats.inFlight = 2;
  stats.bytesIn = 4096;
  stats.bytesOut = 512;
  const snap = snapshotBackend(stats, 1000);

  await t.step("the figures are the stats' at the time", () => {
    assert.deepEqual(snap, {
      requests: 120,
      errors: 3,
      inFlight: 2,
      bytesIn: 4096,
      bytesOut: 512,
      latency: { count: 100, p50: 50, p95: 95, p99: 99, mean: 50.5, max: 100 },
    });
  });
  await t.step("it is deep-frozen plain data", () => {
    assert.ok(isDeepFrozen(snap));
    assert.throws(() => {
      (snap as { requests: number }).requests = 0;
    }, TypeError);
    assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
  });
  await t.step("later traffic does not change it", () => {
    stats.requests++;
    stats.errors++;
    stats.inFlight = 0;
    stats.bytesIn = 0;
    stats.latency.record(5000, 1000);
    assert.equal(snap.requests, 120);
    assert.equal(snap.errors, 3);
    assert.equal(snap.inFlight, 2);
    assert.equal(snap.bytesIn, 4096);
    assert.equal(snap.latency.max, 100);
    assert.equal(snapshotBackend(stats, 1000).latency.max, 5000, "a new snapshot sees it");
  });
  await t.step("expired samples are left out", () => {
    assert.equal(snapshotBackend(stats, 1000 + 60_000).latency.count, 0);
  });
});

Deno.test("snapshotGlobal() copies every counter into frozen plain data", none, async (t) => {
  const g = new GlobalStats();
  g.requests = 10;
  g.recordResponse(200);
  g.recordResponse(200);
  g.recordResponse(503);
  g.rateLimited = 4;
  g.recordReject("path_traversal");
  g.recordReject("body_too_large");
  g.recordReject("path_traversal");
  g.activeConnections = 3;
  g.totalConnections = 7;
  g.bytesIn = 100;
  g.bytesOut = 2000;
  const snap = snapshotGlobal(g);

  await t.step("the figures are the stats' at the time, rejects as an object", () => {
    assert.deepEqual(snap, {
      requests: 10,
      responses: { "1xx": 0, "2xx": 2, "3xx": 0, "4xx": 0, "5xx": 1 },
      rateLimited: 4,
      rejects: { body_too_large: 1, path_traversal: 2 },
      activeConnections: 3,
      totalConnections: 7,
      bytesIn: 100,
      bytesOut: 2000,
    });
  });
  await t.step("reject reasons come out in alphabetical order", () => {
    assert.deepEqual(Object.keys(snap.rejects), ["body_too_large", "path_traversal"]);
  });
  await t.step("it is deep-frozen", () => {
    assert.ok(isDeepFrozen(snap));
    assert.throws(() => {
      (snap.responses as Record<string, number>)["2xx"] = 0;
    }, TypeError);
    assert.throws(() => {
      (snap.rejects as Record<string, number>)["new"] = 1;
    }, TypeError);
  });
  await t.step("later changes to the stats do not reach it", () => {
    g.requests++;
    g.recordResponse(200);
    g.recordReject("path_traversal");
    g.recordReject("host_not_allowed");
    g.activeConnections = 0;
    assert.equal(snap.requests, 10);
    assert.equal(snap.responses["2xx"], 2);
    assert.deepEqual(snap.rejects, { body_too_large: 1, path_traversal: 2 });
    assert.equal(snap.activeConnections, 3);
  });
  await t.step("the live stats stay writable", () => {
    g.responses["4xx"]++;
    assert.equal(g.responses["4xx"], 1);
  });
});

Deno.test("combinedP95() is the nearest-rank P95 of the pooled samples", none, async (t) => {
  await t.step("three windows that together hold 1..100 give 95", () => {
    const parts = [range(51, 80), range(1, 50).reverse(), range(81, 100)];
    assert.equal(combinedP95(parts.map((p) => withLatencies(p)), 1000), 95);
  });
  await t.step("pooling, not averaging per-backend P95s", () => {
    // 18 fast samples + [500, 900] → 20 sorted, rank ceil(0.95 × 20) = 19 → 500.
    // The mean of the two windows' own P95s would be (10 + 900) / 2 = 455.
    const fast = withLatencies(Array(18).fill(10));
    const slow = withLatencies([900, 500]);
    assert.equal(combinedP95([fast, slow], 1000), 500);
  });
  await t.step("a busy slow backend dominates: 10 × 10 ms + 30 × 200 ms → 200", () => {
    // 40 samples, rank 38 falls among the 200s.
    const p95 = combinedP95(
      [withLatencies(Array(10).fill(10)), withLatencies(Array(30).fill(200))],
      1000,
    );
    assert.equal(p95, 200);
  });
  await t.step("expired samples do not count", () => {
    const old = withLatencies([10_000], 0);
    const fresh = withLatencies([1, 2, 3], 60_000);
    assert.equal(combinedP95([old, fresh], 60_000), 3);
  });
  await t.step("no live samples gives undefined", () => {
    assert.equal(combinedP95([], 1000), undefined);
    assert.equal(combinedP95([new BackendStats(), new BackendStats()], 1000), undefined);
    assert.equal(combinedP95([withLatencies([5], 0)], 60_000), undefined);
  });
});

Deno.test("deepFreeze() freezes nested objects and arrays in place", none, async (t) => {
  await t.step("everything reachable is frozen and the same object comes back", () => {
    const value = { a: { b: [1, { c: 2 }] }, d: "x" };
    const frozen = deepFreeze(value);
    assert.equal(frozen, value);
    assert.ok(isDeepFrozen(value));
  });
  await t.step("cycles terminate", () => {
    const a: Record<string, unknown> = {};
    const b: Record<string, unknown> = { a };
    a.b = b;
    deepFreeze(a);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(b));
  });
  await t.step("primitives pass through", () => {
    assert.equal(deepFreeze(3), 3);
    assert.equal(deepFreeze(null), null);
    assert.equal(deepFreeze(undefined), undefined);
  });
});
