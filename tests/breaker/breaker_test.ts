import assert from "node:assert/strict";
import {
  type BreakerOptions,
  type BreakerPermit,
  type BreakerTransition,
  CircuitBreaker,
} from "../../src/breaker/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

const OPTIONS: BreakerOptions = {
  failureThreshold: 3,
  successThreshold: 2,
  openTimeoutMs: 1000,
  halfOpenMaxRequests: 2,
};

/** A breaker on a manual clock that records every transition. */
function setup(overrides: Partial<BreakerOptions> = {}) {
  const clock = new ManualClock();
  const transitions: BreakerTransition[] = [];
  const breaker = new CircuitBreaker(
    { ...OPTIONS, ...overrides },
    clock,
    (t) => transitions.push(t),
  );
  return { clock, breaker, transitions };
}

/** Takes a permit, failing the test if the breaker refuses. */
function take(breaker: CircuitBreaker): BreakerPermit {
  const permit = breaker.acquire();
  assert.ok(permit, `expected a permit while ${breaker.state}`);
  return permit;
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) take(breaker).failure();
}

/** A breaker that has just opened (at clock time 1000). */
function opened(overrides: Partial<BreakerOptions> = {}) {
  const s = setup(overrides);
  fail(s.breaker, overrides.failureThreshold ?? OPTIONS.failureThreshold);
  assert.equal(s.breaker.state, "open");
  return s;
}

/** A breaker that has just become half-open. */
function halfOpen(overrides: Partial<BreakerOptions> = {}) {
  const s = opened(overrides);
  s.clock.advance(overrides.openTimeoutMs ?? OPTIONS.openTimeoutMs);
  assert.equal(s.breaker.state, "half_open");
  return s;
}

Deno.test("CircuitBreaker starts closed and admits requests", none, () => {
  const { breaker, transitions } = setup();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.available(), true);
  take(breaker).success();
  assert.deepEqual(transitions, []);
});

Deno.test(
  "CircuitBreaker opens at exactly failureThreshold consecutive failures, not before",
  none,
  async (t) => {
    const { breaker } = setup();
    await t.step("two failures leave it closed", () => {
      fail(breaker, 2);
      assert.equal(breaker.state, "closed");
      assert.equal(breaker.snapshot().consecutiveFailures, 2);
    });
    await t.step("the third opens it", () => {
      fail(breaker, 1);
      assert.equal(breaker.state, "open");
      assert.equal(breaker.snapshot().opens, 1);
    });
  },
);

Deno.test("CircuitBreaker: a success while closed resets the consecutive count", none, () => {
  const { breaker } = setup();
  fail(breaker, 2);
  take(breaker).success();
  assert.equal(breaker.snapshot().consecutiveFailures, 0);
  fail(breaker, 2);
  assert.equal(breaker.state, "closed", "2 + 2 failures with a success between are not 3 in a row");
  fail(breaker, 1);
  assert.equal(breaker.state, "open");
});

Deno.test("CircuitBreaker refuses every request while open", none, () => {
  const { clock, breaker } = opened();
  clock.advance(999);
  assert.equal(breaker.available(), false);
  assert.equal(breaker.acquire(), undefined);
  assert.equal(breaker.acquire(), undefined);
  assert.equal(breaker.state, "open");
});

Deno.test(
  "CircuitBreaker becomes half-open exactly at openTimeoutMs, not 1 ms before",
  none,
  async (t) => {
    // Each step uses a fresh breaker, because every reader applies the lazy transition.
    const readers: Record<string, (b: CircuitBreaker) => boolean> = {
      "state": (b) => b.state === "half_open",
      "available()": (b) => b.available(),
      "acquire()": (b) => b.acquire() !== undefined,
      "snapshot()": (b) => b.snapshot().state === "half_open",
    };
    for (const [name, isHalfOpen] of Object.entries(readers)) {
      await t.step(`observed through ${name}`, () => {
        const { clock, breaker, transitions } = opened();
        clock.advance(999);
        assert.equal(isHalfOpen(breaker), false);
        clock.advance(1);
        assert.equal(isHalfOpen(breaker), true);
        assert.deepEqual(transitions.at(-1), {
          from: "open",
          to: "half_open",
          reason: "open timeout elapsed",
        });
      });
    }
  },
);

Deno.test(
  "CircuitBreaker admits at most halfOpenMaxRequests concurrent probes while half-open",
  none,
  () => {
    const { breaker } = halfOpen({ halfOpenMaxRequests: 3 });
    const probes = [take(breaker), take(breaker)];
    assert.equal(breaker.available(), true);
    probes.push(take(breaker));
    assert.equal(breaker.snapshot().halfOpenInFlight, 3);
    assert.equal(breaker.available(), false);
    assert.equal(breaker.acquire(), undefined, "the 4th concurrent probe is refused");
    assert.equal(breaker.snapshot().halfOpenInFlight, 3, "a refusal takes no slot");
  },
);

Deno.test(
  "CircuitBreaker: disposing a probe without an outcome frees its slot and counts nothing",
  none,
  () => {
    const { breaker } = halfOpen({ halfOpenMaxRequests: 1 });
    const probe = take(breaker);
    assert.equal(breaker.acquire(), undefined);
    probe[Symbol.dispose]();
    assert.deepEqual(
      { ...breaker.snapshot() },
      {
        state: "half_open",
        consecutiveFailures: 3,
        halfOpenInFlight: 0,
        halfOpenSuccesses: 0,
        openedAt: 1000,
        opens: 1,
      },
    );
    assert.ok(breaker.acquire(), "the freed slot admits another probe");
  },
);

Deno.test(
  "CircuitBreaker closes after successThreshold successful probes and resets its counts",
  none,
  async (t) => {
    const { breaker, transitions } = halfOpen({ successThreshold: 3, halfOpenMaxRequests: 1 });
    await t.step("successes are counted across one-at-a-time probes", () => {
      take(breaker).success();
      take(breaker).success();
      assert.equal(breaker.state, "half_open");
      assert.equal(breaker.snapshot().halfOpenSuccesses, 2);
    });
    await t.step("the last one closes it", () => {
      take(breaker).success();
      assert.equal(breaker.state, "closed");
      assert.deepEqual(transitions.at(-1), {
        from: "half_open",
        to: "closed",
        reason: "3 probes succeeded",
      });
      assert.deepEqual({ ...breaker.snapshot() }, {
        state: "closed",
        consecutiveFailures: 0,
        halfOpenInFlight: 0,
        halfOpenSuccesses: 0,
        openedAt: null,
        opens: 1,
      });
    });
    await t.step("a closed breaker needs the full threshold again to open", () => {
      fail(breaker, 2);
      assert.equal(breaker.state, "closed");
      fail(breaker, 1);
      assert.equal(breaker.state, "open");
    });
  },
);

Deno.test("CircuitBreaker re-opens on any failed probe with a fresh timeout", none, async (t) => {
  const { clock, breaker, transitions } = halfOpen({ successThreshold: 3 });
  clock.advance(250);
  take(breaker).success();
  take(breaker).failure();
  await t.step("it is open again, from now", () => {
    assert.equal(breaker.state, "open");
    assert.deepEqual(transitions.at(-1), { from: "half_open", to: "open", reason: "probe failed" });
    const snap = breaker.snapshot();
    assert.equal(snap.openedAt, 2250);
    assert.equal(snap.opens, 2);
    assert.equal(snap.halfOpenSuccesses, 0);
  });
  await t.step("the new open period lasts the full timeout", () => {
    clock.advance(999);
    assert.equal(breaker.acquire(), undefined);
    clock.advance(1);
    assert.equal(breaker.state, "half_open");
    assert.equal(breaker.snapshot().halfOpenSuccesses, 0, "earlier successes do not carry over");
  });
});

Deno.test("CircuitBreaker ignores permits taken before a transition", none, async (t) => {
  await t.step("a closed-era failure after opening neither extends nor re-opens", () => {
    const { clock, breaker, transitions } = setup();
    const late = take(breaker);
    fail(breaker, 3);
    clock.advance(500);
    late.failure();
    const snap = breaker.snapshot();
    assert.equal(snap.openedAt, 1000);
    assert.equal(snap.opens, 1);
    assert.equal(snap.consecutiveFailures, 3);
    clock.advance(500);
    assert.equal(breaker.state, "half_open", "the original timeout still applies");
    assert.equal(transitions.length, 2);
  });
  await t.step("a closed-era success after opening does not close or reset it", () => {
    const { breaker } = setup();
    const late = take(breaker);
    fail(breaker, 3);
    late.success();
    assert.equal(breaker.state, "open");
    assert.equal(breaker.snapshot().consecutiveFailures, 3);
  });
  await t.step("a closed-era failure does not count in a later closed episode", () => {
    const { clock, breaker } = setup({ halfOpenMaxRequests: 1 });
    const early = [take(breaker), take(breaker), take(breaker)];
    fail(breaker, 3);
    clock.advance(1000);
    take(breaker).success();
    take(breaker).success();
    assert.equal(breaker.state, "closed");
    fail(breaker, 2);
    for (const permit of early) permit.failure();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.snapshot().consecutiveFailures, 2);
  });
  await t.step("a probe from an earlier half-open episode does not count in a later one", () => {
    const { clock, breaker } = halfOpen({ halfOpenMaxRequests: 2 });
    const stale = take(breaker);
    take(breaker).failure(); // re-opens; `stale` belongs to the episode that just ended
    clock.advance(1000);
    assert.equal(breaker.state, "half_open");
    const current = take(breaker);
    stale.success();
    assert.equal(breaker.snapshot().halfOpenSuccesses, 0);
    assert.equal(breaker.snapshot().halfOpenInFlight, 1, "nor does it free a current slot");
    stale[Symbol.dispose]();
    assert.equal(breaker.snapshot().halfOpenInFlight, 1);
    current.success();
    assert.equal(breaker.snapshot().halfOpenSuccesses, 1);
  });
  await t.step("a stale probe failure does not re-open a breaker that closed", () => {
    const { breaker, transitions } = halfOpen({ successThreshold: 1, halfOpenMaxRequests: 2 });
    const slow = take(breaker);
    take(breaker).success();
    assert.equal(breaker.state, "closed");
    slow.failure();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.snapshot().consecutiveFailures, 0);
    assert.equal(transitions.length, 3);
  });
});

Deno.test("CircuitBreaker counts only the first report on a permit", none, async (t) => {
  await t.step("failure twice counts once", () => {
    const { breaker } = setup();
    const permit = take(breaker);
    permit.failure();
    permit.failure();
    assert.equal(breaker.snapshot().consecutiveFailures, 1);
  });
  await t.step("success then failure counts the success", () => {
    const { breaker } = setup();
    fail(breaker, 2);
    const permit = take(breaker);
    permit.success();
    permit.failure();
    assert.equal(breaker.snapshot().consecutiveFailures, 0);
  });
  await t.step("a report after disposal is ignored", () => {
    const { breaker } = halfOpen();
    const permit = take(breaker);
    permit[Symbol.dispose]();
    permit.failure();
    assert.equal(breaker.state, "half_open");
  });
  await t.step("a probe reported and then disposed frees its slot once", () => {
    const { breaker } = halfOpen({ successThreshold: 5 });
    const a = take(breaker);
    take(breaker);
    a.success();
    a[Symbol.dispose]();
    a.success();
    const snap = breaker.snapshot();
    assert.equal(snap.halfOpenInFlight, 1);
    assert.equal(snap.halfOpenSuccesses, 1);
  });
});

Deno.test("CircuitBreaker permits work with `using`", none, async (t) => {
  await t.step("a probe is released when its scope ends without a report", () => {
    const { breaker } = halfOpen({ halfOpenMaxRequests: 1 });
    {
      using permit = breaker.acquire();
      assert.ok(permit);
      assert.equal(breaker.available(), false);
    }
    assert.equal(breaker.available(), true);
    assert.equal(breaker.snapshot().halfOpenSuccesses, 0);
  });
  await t.step("a probe is released when its scope ends by an exception", () => {
    const { breaker } = halfOpen({ halfOpenMaxRequests: 1 });
    assert.throws(() => {
      using permit = breaker.acquire();
      assert.ok(permit);
      throw new Error("client went away");
    }, /client went away/);
    assert.equal(breaker.snapshot().halfOpenInFlight, 0);
    assert.equal(breaker.state, "half_open", "an abandoned request is not a failure");
  });
  await t.step("a report inside the scope counts once at scope exit", () => {
    const { breaker } = halfOpen({ successThreshold: 2 });
    {
      using permit = breaker.acquire();
      permit?.success();
    }
    assert.deepEqual(
      [breaker.snapshot().halfOpenInFlight, breaker.snapshot().halfOpenSuccesses],
      [0, 1],
    );
  });
  await t.step("`using` accepts the undefined of a refusal", () => {
    const { breaker } = opened();
    {
      using permit = breaker.acquire();
      assert.equal(permit, undefined);
    }
    assert.equal(breaker.state, "open");
  });
});

Deno.test(
  "CircuitBreaker: concurrent probes completing in mixed order re-open on the first failure",
  none,
  () => {
    const { clock, breaker, transitions } = halfOpen({
      successThreshold: 3,
      halfOpenMaxRequests: 4,
    });
    const [p1, p2, p3, p4] = [take(breaker), take(breaker), take(breaker), take(breaker)];
    assert.equal(breaker.acquire(), undefined);
    p3.success();
    p1.success();
    assert.deepEqual(
      [breaker.snapshot().halfOpenSuccesses, breaker.snapshot().halfOpenInFlight],
      [2, 2],
    );
    p4.failure();
    assert.equal(breaker.state, "open");
    p2.success(); // the third success of a finished episode must not close it
    assert.equal(breaker.state, "open");
    assert.deepEqual({ ...breaker.snapshot() }, {
      state: "open",
      consecutiveFailures: 3,
      halfOpenInFlight: 0,
      halfOpenSuccesses: 0,
      openedAt: 2000,
      opens: 2,
    });
    clock.advance(1000);
    assert.equal(breaker.available(), true);
    assert.equal(breaker.snapshot().halfOpenSuccesses, 0);
    assert.deepEqual(transitions.map((t) => t.to), ["open", "half_open", "open", "half_open"]);
  },
);

Deno.test("CircuitBreaker reports every transition to onTransition, with reasons", none, () => {
  const clock = new ManualClock();
  const seen: Array<BreakerTransition & { stateInside: string }> = [];
  const breaker: CircuitBreaker = new CircuitBreaker(
    { failureThreshold: 5, successThreshold: 3, openTimeoutMs: 100, halfOpenMaxRequests: 1 },
    clock,
    (t) => seen.push({ ...t, stateInside: breaker.snapshot().state }),
  );
  fail(breaker, 5);
  clock.advance(100);
  take(breaker).failure();
  clock.advance(100);
  for (let i = 0; i < 3; i++) take(breaker).success();
  assert.deepEqual(seen, [
    { from: "closed", to: "open", reason: "5 consecutive failures", stateInside: "open" },
    { from: "open", to: "half_open", reason: "open timeout elapsed", stateInside: "half_open" },
    { from: "half_open", to: "open", reason: "probe failed", stateInside: "open" },
    { from: "open", to: "half_open", reason: "open timeout elapsed", stateInside: "half_open" },
    { from: "half_open", to: "closed", reason: "3 probes succeeded", stateInside: "closed" },
  ]);
});

Deno.test("CircuitBreaker reasons use the singular for thresholds of one", none, () => {
  const { clock, breaker, transitions } = setup({ failureThreshold: 1, successThreshold: 1 });
  fail(breaker, 1);
  clock.advance(1000);
  take(breaker).success();
  assert.deepEqual(transitions.map((t) => t.reason), [
    "1 consecutive failure",
    "open timeout elapsed",
    "1 probe succeeded",
  ]);
});

Deno.test(
  "CircuitBreaker.snapshot() is frozen plain data that does not follow the breaker",
  none,
  () => {
    const { breaker } = setup();
    const before = breaker.snapshot();
    assert.ok(Object.isFrozen(before));
    assert.equal(Object.getPrototypeOf(before), Object.prototype);
    assert.deepEqual(JSON.parse(JSON.stringify(before)), {
      state: "closed",
      consecutiveFailures: 0,
      halfOpenInFlight: 0,
      halfOpenSuccesses: 0,
      openedAt: null,
      opens: 0,
    });
    fail(breaker, 3);
    assert.equal(before.state, "closed");
    assert.deepEqual({ ...breaker.snapshot() }, {
      state: "open",
      consecutiveFailures: 3,
      halfOpenInFlight: 0,
      halfOpenSuccesses: 0,
      openedAt: 1000,
      opens: 1,
    });
  },
);

Deno.test("CircuitBreaker rejects options it cannot run with", none, () => {
  const clock = new ManualClock();
  for (
    const bad of [
      { failureThreshold: 0 },
      { successThreshold: 0 },
      { halfOpenMaxRequests: 0 },
      { openTimeoutMs: -1 },
      { openTimeoutMs: Number.NaN },
    ]
  ) {
    assert.throws(() => new CircuitBreaker({ ...OPTIONS, ...bad }, clock), RangeError);
  }
});
