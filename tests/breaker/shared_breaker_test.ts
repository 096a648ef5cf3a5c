/**
 * Breakers over shared cells (`server.workers`): several CircuitBreakers,
 * one per isolate, deciding as one. Time is a number the test moves.
 */

import assert from "node:assert/strict";
import {
  type BreakerOptions,
  type BreakerTransition,
  CircuitBreaker,
  createSharedBreaker,
  sharedBreakerMemory,
} from "../../src/breaker/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

const OPTIONS: BreakerOptions = {
  failureThreshold: 4,
  successThreshold: 1,
  openTimeoutMs: 1000,
  halfOpenMaxRequests: 1,
};

/** Two breakers (two isolates' views) over one set of cells, each recording what it reports. */
function setup() {
  const time = { now: 0 };
  const buffer = createSharedBreaker();
  const view = () => {
    const transitions: BreakerTransition[] = [];
    const breaker = new CircuitBreaker(
      OPTIONS,
      new ManualClock(),
      (t) => transitions.push(t),
      sharedBreakerMemory(buffer, () => time.now),
    );
    return { breaker, transitions };
  };
  return { time, a: view(), b: view() };
}

Deno.test("shared breaker: failures in every isolate count toward one threshold", none, () => {
  const { a, b } = setup();
  for (const view of [a, b, a]) view.breaker.acquire()!.failure();
  assert.equal(b.breaker.state, "closed");
  assert.equal(a.breaker.snapshot().consecutiveFailures, 3);
  b.breaker.acquire()!.failure();
  assert.equal(a.breaker.state, "open");
  assert.equal(a.breaker.acquire(), undefined);
  // Reported once, by the isolate whose failure opened it.
  assert.deepEqual(b.transitions.map((t) => t.to), ["open"]);
  assert.deepEqual(a.transitions, []);
  assert.equal(a.breaker.snapshot().opens, 1);
  assert.equal(a.breaker.snapshot().openedAt, 0);
});

Deno.test("shared breaker: the half-open probe slot is taken once for every isolate", none, () => {
  const { time, a, b } = setup();
  for (let i = 0; i < 4; i++) a.breaker.acquire()!.failure();
  time.now += 1000;
  const probe = b.breaker.acquire();
  assert.ok(probe, "the open period is over: one probe");
  assert.equal(a.breaker.acquire(), undefined, "no second probe in another isolate");
  assert.equal(a.breaker.available(), false);
  probe.success();
  assert.equal(a.breaker.state, "closed");
  assert.deepEqual(b.transitions.map((t) => t.to), ["half_open", "closed"]);
});

Deno.test("shared breaker: a permit from an earlier episode changes nothing", none, () => {
  const { time, a, b } = setup();
  const late = a.breaker.acquire()!;
  for (let i = 0; i < 4; i++) b.breaker.acquire()!.failure();
  time.now += 1000;
  b.breaker.acquire()!.success();
  late.failure();
  assert.equal(a.breaker.state, "closed");
  assert.equal(a.breaker.snapshot().consecutiveFailures, 0);
});

Deno.test("a listener that reads its breaker sees the new state, shared or not", none, () => {
  const buffer = createSharedBreaker();
  const seen: string[] = [];
  const breaker: CircuitBreaker = new CircuitBreaker(
    { ...OPTIONS, failureThreshold: 1 },
    new ManualClock(),
    () => seen.push(breaker.state),
    sharedBreakerMemory(buffer, () => 0),
  );
  breaker.acquire()!.failure();
  assert.deepEqual(seen, ["open"]);
});
