import assert from "node:assert/strict";
import { SnapshotHistory } from "../../src/snapshot/mod.ts";
import { NOW, snapshot } from "../dashboard/_fixtures.ts";

/** A snapshot `s` seconds after NOW with the counters given. */
function at(s: number, requests: number, ok = requests, errors = 0) {
  return snapshot(3, {
    time: NOW + s * 1000,
    requests,
    responses2xx: ok,
    responses5xx: errors,
    rateLimited: 0,
  });
}

Deno.test("history: each point has the rates since the previous one", () => {
  const history = new SnapshotHistory();
  const first = history.record(at(0, 100));
  assert.equal(first?.requestsPerSecond, null, "no rate without a previous snapshot");
  history.record(at(1, 150, 140, 10));
  history.record(at(3, 250, 240, 10));
  const points = history.points();
  assert.deepEqual(points.map((p) => p.requestsPerSecond), [null, 50, 50]);
  assert.deepEqual(points.map((p) => p.errorShare), [0, 10 / 50, 0]);
  assert.deepEqual(points.map((p) => p.p95), [50, 50, 50]);
  assert.deepEqual(points.map((p) => p.connections), [12, 12, 12]);
});

Deno.test("history: snapshots closer than half a step are skipped", () => {
  const history = new SnapshotHistory({ stepMs: 1000 });
  history.record(at(0, 0));
  assert.equal(history.record(at(0.2, 10)), undefined, "an admin request's snapshot");
  assert.ok(history.record(at(1, 100)));
  // The skipped snapshot is not a base: the rate is over the whole second.
  assert.equal(history.points()[1]!.requestsPerSecond, 100);
});

Deno.test("history: points older than the window are dropped", () => {
  const history = new SnapshotHistory({ windowMs: 10_000, stepMs: 1000 });
  for (let s = 0; s <= 30; s++) history.record(at(s, s * 10));
  const points = history.points();
  assert.equal(points.length, 11);
  assert.equal(points[0]!.time, NOW + 20_000);
  assert.equal(points.at(-1)!.time, NOW + 30_000);
});

Deno.test("history: 15 minutes at one point a second stays bounded", () => {
  const history = new SnapshotHistory();
  for (let s = 0; s < 3600; s++) history.record(at(s, s));
  assert.equal(history.points().length, 15 * 60 + 1);
});

Deno.test("history: a counter that went back gives no rate, not a negative one", () => {
  const history = new SnapshotHistory();
  history.record(at(0, 500));
  const p = history.record(at(1, 20));
  assert.equal(p?.requestsPerSecond, null);
});

Deno.test("history: a wall clock set back starts the history again", () => {
  const history = new SnapshotHistory();
  history.record(at(10, 0));
  history.record(at(11, 10));
  history.record(at(2, 20));
  const points = history.points();
  assert.equal(points.length, 1);
  assert.equal(points[0]!.time, NOW + 2000);
  assert.equal(points[0]!.requestsPerSecond, null);
});

Deno.test("history: points() is a copy the caller cannot change", () => {
  const history = new SnapshotHistory();
  history.record(at(0, 0));
  const points = history.points() as unknown[];
  points.length = 0;
  assert.equal(history.points().length, 1);
});
