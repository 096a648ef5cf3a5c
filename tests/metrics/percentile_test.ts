import assert from "node:assert/strict";
import { nearestRank } from "../../src/metrics/mod.ts";
import { summarize } from "../../src/metrics/percentile.ts";

const none = { permissions: "none" } as const;

/** 1, 2, …, n as a sorted array. */
const upTo = (n: number) => Float64Array.from({ length: n }, (_, i) => i + 1);

Deno.test("nearestRank() picks the sample at rank ceil(P/100 × n)", none, async (t) => {
  await t.step("1..100: P50 = 50, P95 = 95, P99 = 99", () => {
    assert.equal(nearestRank(upTo(100), 50), 50);
    assert.equal(nearestRank(upTo(100), 95), 95);
    assert.equal(nearestRank(upTo(100), 99), 99);
  });
  await t.step("1..10: P50 = 5, P95 = 10 (rank ceil 9.5), P99 = 10", () => {
    assert.equal(nearestRank(upTo(10), 50), 5);
    assert.equal(nearestRank(upTo(10), 95), 10);
    assert.equal(nearestRank(upTo(10), 99), 10);
  });
  await t.step("1..20: P95 = 19 (rank exactly 19), P99 = 20 (rank ceil 19.8)", () => {
    assert.equal(nearestRank(upTo(20), 95), 19);
    assert.equal(nearestRank(upTo(20), 99), 20);
  });
  await t.step("P0 is the smallest sample and P100 the largest", () => {
    assert.equal(nearestRank(upTo(10), 0), 1);
    assert.equal(nearestRank(upTo(10), 100), 10);
  });
  await t.step("a whole rank is not pushed up by rounding (0.07 × 100 ≠ 7 in floats)", () => {
    assert.equal(nearestRank(upTo(100), 7), 7);
    assert.equal(nearestRank(upTo(100), 57), 57);
  });
  await t.step("no samples gives undefined", () => {
    assert.equal(nearestRank([], 50), undefined);
  });
});

Deno.test("summarize() of no samples is all zeros", none, () => {
  assert.deepEqual(summarize([]), { count: 0, p50: 0, p95: 0, p99: 0, mean: 0, max: 0 });
});
