import assert from "node:assert/strict";
import { HealthTracker } from "../../src/health/mod.ts";

const none = { permissions: "none" } as const;
const thresholds = { unhealthyThreshold: 3, healthyThreshold: 2 };

Deno.test(
  "HealthTracker marks a backend unhealthy after unhealthy_threshold consecutive failures",
  none,
  () => {
    const h = new HealthTracker(thresholds);
    assert.equal(h.observe(false), undefined);
    assert.equal(h.observe(false), undefined);
    assert.equal(h.health, "healthy");
    const change = h.observe(false);
    assert.deepEqual(change, {
      from: "healthy",
      to: "unhealthy",
      warmupStep: 0,
      reason: "3 consecutive failed checks",
    });
    assert.equal(h.weightFraction, 0);
  },
);

Deno.test("HealthTracker: a success in between resets the failure count", none, () => {
  const h = new HealthTracker(thresholds);
  h.observe(false);
  h.observe(false);
  h.observe(true);
  h.observe(false);
  h.observe(false);
  assert.equal(h.health, "healthy");
  assert.equal(h.consecutiveFailures, 2);
});

Deno.test(
  "HealthTracker brings a backend back after healthy_threshold successes, then warms it up 25→50→75→100%",
  none,
  () => {
    const h = new HealthTracker(thresholds, "unhealthy");
    assert.equal(h.weightFraction, 0);
    assert.equal(h.observe(true), undefined, "one success is not enough");
    assert.equal(h.observe(true)?.to, "healthy");
    const fractions = [h.weightFraction];
    for (let i = 0; i < 4; i++) {
      h.observe(true);
      fractions.push(h.weightFraction);
    }
    assert.deepEqual(fractions, [0.25, 0.5, 0.75, 1, 1]);
  },
);

Deno.test(
  "HealthTracker: a failure during warm-up holds the step, and enough failures take it out again",
  none,
  () => {
    const h = new HealthTracker(thresholds, "unhealthy");
    h.observe(true);
    h.observe(true); // healthy at 25%
    h.observe(true); // 50%
    h.observe(false);
    assert.equal(h.weightFraction, 0.5);
    h.observe(false);
    assert.equal(h.observe(false)?.to, "unhealthy");
    assert.equal(h.weightFraction, 0);
    assert.equal(h.warmupStep, 0);
  },
);

Deno.test("HealthTracker reports every warm-up step as a change", none, () => {
  const h = new HealthTracker({ unhealthyThreshold: 1, healthyThreshold: 1 }, "unhealthy");
  const reasons = [true, true, true, true, true].map((ok) => h.observe(ok)?.reason);
  assert.deepEqual(reasons, [
    "1 consecutive successful checks; warming up at 25%",
    "warming up at 50%",
    "warming up at 75%",
    "warming up at 100%",
    undefined,
  ]);
});
