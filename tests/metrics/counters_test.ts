import assert from "node:assert/strict";
import { BackendStats, GlobalStats, statusClass } from "../../src/metrics/mod.ts";

const none = { permissions: "none" } as const;

Deno.test("statusClass() splits on the first digit, edges included", none, () => {
  const cases: Array<[number, string]> = [
    [100, "1xx"],
    [101, "1xx"],
    [199, "1xx"],
    [200, "2xx"],
    [299, "2xx"],
    [300, "3xx"],
    [399, "3xx"],
    [400, "4xx"],
    [499, "4xx"],
    [500, "5xx"],
    [599, "5xx"],
  ];
  for (const [status, cls] of cases) assert.equal(statusClass(status), cls, `${status}`);
});

Deno.test("statusClass() counts impossible codes in the nearest class", none, () => {
  assert.equal(statusClass(0), "1xx");
  assert.equal(statusClass(600), "5xx");
  assert.equal(statusClass(NaN), "5xx");
});

Deno.test("BackendStats starts at zero with its own latency window", none, () => {
  const a = new BackendStats();
  const b = new BackendStats({ capacity: 10, maxAgeMs: 500 });
  assert.deepEqual(
    [a.requests, a.errors, a.inFlight, a.bytesIn, a.bytesOut],
    [0, 0, 0, 0, 0],
  );
  assert.equal(a.latency.capacity, 1000);
  assert.equal(b.latency.capacity, 10);
  assert.equal(b.latency.maxAgeMs, 500);
  a.latency.record(5, 0);
  assert.equal(b.latency.percentiles(0).count, 0, "windows are not shared");
});

Deno.test("GlobalStats.recordResponse() bumps only the response's class", none, () => {
  const g = new GlobalStats();
  for (const status of [101, 200, 204, 301, 404, 429, 502, 503, 504]) g.recordResponse(status);
  assert.deepEqual(g.responses, { "1xx": 1, "2xx": 2, "3xx": 1, "4xx": 2, "5xx": 3 });
  assert.equal(g.requests, 0, "requests are counted on arrival, not here");
});

Deno.test("GlobalStats.recordReject() counts each reason apart", none, () => {
  const g = new GlobalStats();
  g.recordReject("path_traversal");
  g.recordReject("body_too_large");
  g.recordReject("path_traversal");
  assert.deepEqual(g.rejects, new Map([["path_traversal", 2], ["body_too_large", 1]]));
});

Deno.test("GlobalStats starts at zero", none, () => {
  const g = new GlobalStats();
  assert.deepEqual(
    [g.requests, g.rateLimited, g.activeConnections, g.totalConnections, g.bytesIn, g.bytesOut],
    [0, 0, 0, 0, 0, 0],
  );
  assert.deepEqual(g.responses, { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 });
  assert.equal(g.rejects.size, 0);
});
