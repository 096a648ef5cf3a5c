import assert from "node:assert/strict";
import { type Cidr, parseCidr } from "../../src/net/mod.ts";
import { type LimitDecision, type LimiterOptions, RateLimiter } from "../../src/limit/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

/** Parses CIDR text that must be valid. */
function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  assert.ok(parsed, `${text} should parse`);
  return parsed;
}

/** A limiter on a manual clock: 1 token/s, burst 3, 1000 clients unless overridden. */
function setup(options: Partial<LimiterOptions> = {}) {
  const clock = new ManualClock();
  const limiter = new RateLimiter({ rate: 1, burst: 3, maxClients: 1000, clock, ...options });
  return { clock, limiter };
}

/** Checks `ip` `n` times and returns how many were allowed. */
function allowedOf(limiter: RateLimiter, ip: string, n: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (limiter.check(ip).allowed) allowed++;
  return allowed;
}

/** The retry-after of a decision that must be a refusal. */
function retryAfter(decision: LimitDecision): number {
  assert.equal(decision.allowed, false);
  return decision.allowed ? NaN : decision.retryAfterSeconds;
}

/** The i-th of 2^24 distinct IPv4 addresses in 10.0.0.0/8. */
function ipv4(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

Deno.test(
  "RateLimiter allows a client's burst, then refuses with a retry-after",
  none,
  async (t) => {
    const { clock, limiter } = setup();
    await t.step("the burst of 3 is allowed", () => {
      for (let i = 0; i < 3; i++) assert.deepEqual(limiter.check("192.0.2.1"), { allowed: true });
    });
    await t.step("the 4th is refused; one token at 1/s is 1 s away", () => {
      assert.deepEqual(limiter.check("192.0.2.1"), { allowed: false, retryAfterSeconds: 1 });
    });
    await t.step("a second later one more is allowed, and only one", () => {
      clock.advance(1000);
      assert.equal(allowedOf(limiter, "192.0.2.1", 5), 1);
    });
  },
);

Deno.test("RateLimiter rounds retry-after up to whole seconds, at least 1", none, async (t) => {
  const cases: Array<[rate: number, advanceMs: number, seconds: number]> = [
    [100, 0, 1], // 10 ms away
    [1, 999, 1], // 1 ms away
    [1, 0, 1], // exactly 1000 ms away
    [1, 0.5, 1], // 999.5 ms
    [0.5, 0, 2], // 2000 ms
    [0.4, 0, 3], // 2500 ms
    [0.4, 100, 3], // 2400 ms
    [0.4, 600, 2], // 1900 ms
    [0.01, 0, 100], // beyond the cached refusals
  ];
  for (const [rate, advanceMs, seconds] of cases) {
    await t.step(`rate ${rate}/s, ${advanceMs} ms after the last token: ${seconds} s`, () => {
      const { clock, limiter } = setup({ rate, burst: 1 });
      assert.equal(limiter.check("192.0.2.1").allowed, true);
      clock.advance(advanceMs);
      assert.equal(retryAfter(limiter.check("192.0.2.1")), seconds);
    });
  }
});

Deno.test(
  "RateLimiter keeps clients apart: one client's burst does not spend another's",
  none,
  () => {
    const { limiter } = setup();
    assert.equal(allowedOf(limiter, "192.0.2.1", 10), 3);
    assert.equal(allowedOf(limiter, "192.0.2.2", 10), 3);
    assert.equal(allowedOf(limiter, "2001:db8:1::1", 10), 3);
    assert.equal(limiter.trackedClients, 3);
  },
);

Deno.test("RateLimiter groups IPv6 clients by /64", none, async (t) => {
  await t.step("different addresses in one /64 share one bucket", () => {
    const { limiter } = setup();
    assert.equal(limiter.check("2001:db8:1:2::1").allowed, true);
    assert.equal(limiter.check("2001:db8:1:2:ffff:ffff:ffff:ffff").allowed, true);
    assert.equal(limiter.check("2001:DB8:1:2:0:0:0:abcd").allowed, true);
    assert.equal(limiter.check("2001:db8:1:2::99").allowed, false);
    assert.equal(limiter.trackedClients, 1);
  });
  await t.step("different /64s do not", () => {
    const { limiter } = setup();
    assert.equal(allowedOf(limiter, "2001:db8:1:2::1", 5), 3);
    assert.equal(allowedOf(limiter, "2001:db8:1:3::1", 5), 3);
    assert.equal(allowedOf(limiter, "2001:db8:2:2::1", 5), 3);
    assert.equal(limiter.trackedClients, 3);
  });
  await t.step("rotating through 1000 addresses in a /64 still gets one burst", () => {
    const { limiter } = setup();
    let allowed = 0;
    for (let i = 1; i <= 1000; i++) {
      if (limiter.check(`2001:db8::${i.toString(16)}`).allowed) allowed++;
    }
    assert.equal(allowed, 3);
  });
  await t.step("the prefix length is configurable", () => {
    const { limiter } = setup({ ipv6Prefix: 48 });
    assert.equal(limiter.check("2001:db8:1:2::1").allowed, true);
    assert.equal(limiter.check("2001:db8:1:3::1").allowed, true);
    assert.equal(limiter.check("2001:db8:1:4::1").allowed, true);
    assert.equal(limiter.check("2001:db8:1:5::1").allowed, false);
    assert.equal(limiter.check("2001:db8:2::1").allowed, true);
  });
});

Deno.test("RateLimiter treats an IPv4-mapped IPv6 peer as its IPv4 address", none, () => {
  const { limiter } = setup();
  assert.equal(limiter.check("198.51.100.9").allowed, true);
  assert.equal(limiter.check("::ffff:198.51.100.9").allowed, true);
  assert.equal(limiter.check("::ffff:c633:6409").allowed, true);
  assert.equal(limiter.check("198.51.100.9").allowed, false);
  assert.equal(limiter.trackedClients, 1);
});

Deno.test(
  "RateLimiter never limits exempt networks and keeps no bucket for them",
  none,
  async (t) => {
    const exempt = [cidr("10.0.0.0/8"), cidr("2001:db8:1:2::1/128")];
    await t.step("an exempt IPv4 client", () => {
      const { limiter } = setup({ exempt });
      assert.equal(allowedOf(limiter, "10.1.2.3", 1000), 1000);
      assert.equal(limiter.trackedClients, 0);
    });
    await t.step("an exempt IPv4 client seen as IPv4-mapped IPv6", () => {
      const { limiter } = setup({ exempt });
      assert.equal(allowedOf(limiter, "::ffff:10.1.2.3", 1000), 1000);
      assert.equal(limiter.trackedClients, 0);
    });
    await t.step("an exempt /128 whose /64 neighbours are limited", () => {
      const { limiter } = setup({ exempt });
      assert.equal(allowedOf(limiter, "2001:db8:1:2::2", 10), 3);
      assert.equal(allowedOf(limiter, "2001:db8:1:2::1", 1000), 1000);
      assert.equal(allowedOf(limiter, "2001:db8:1:2::3", 10), 0);
    });
    await t.step("clients outside the exempt networks are still limited", () => {
      const { limiter } = setup({ exempt });
      assert.equal(allowedOf(limiter, "11.0.0.1", 10), 3);
      assert.equal(allowedOf(limiter, "2001:db8:1:3::1", 10), 3);
    });
  },
);

Deno.test("RateLimiter.setRate() reaches every existing bucket at once", none, async (t) => {
  const { clock, limiter } = setup({ rate: 1, burst: 10 });
  const clients = ["192.0.2.1", "192.0.2.2", "2001:db8::1"];
  for (const ip of clients) assert.equal(allowedOf(limiter, ip, 10), 10);
  await t.step("credit earned at the old rate is kept", () => {
    clock.advance(2000); // 2 tokens each at 1/s
    limiter.setRate(10);
    assert.equal(limiter.rate, 10);
  });
  await t.step("the new rate applies from the change on, to every client", () => {
    clock.advance(300); // 3 tokens each at 10/s
    for (const ip of clients) assert.equal(allowedOf(limiter, ip, 10), 5, ip);
  });
  await t.step("retry-after follows the new rate", () => {
    limiter.setRate(0.25);
    assert.equal(retryAfter(limiter.check("192.0.2.1")), 4);
  });
  await t.step("a bad rate is refused and the old one kept", () => {
    assert.throws(() => limiter.setRate(0), RangeError);
    assert.equal(limiter.rate, 0.25);
  });
});

Deno.test(
  "RateLimiter.purge() removes buckets idle for idleMs or longer, and only those",
  none,
  async (t) => {
    const { clock, limiter } = setup();
    limiter.check("192.0.2.1");
    clock.advance(1000);
    limiter.check("192.0.2.2");
    limiter.check("192.0.2.3");
    clock.advance(1000);
    limiter.check("192.0.2.1"); // seen again: no longer the oldest
    clock.advance(500);
    await t.step("nothing is idle for 2 s yet", () => {
      assert.equal(limiter.purge(2000), 0);
      assert.equal(limiter.trackedClients, 3);
    });
    await t.step("at exactly 2 s idle the two quiet clients go", () => {
      clock.advance(500);
      assert.equal(limiter.purge(2000), 2);
      assert.equal(limiter.trackedClients, 1);
    });
    await t.step("the recently seen client kept its spent bucket", () => {
      // Started with 3, spent 1, earned 1 (1 s), spent 1, earned 1 more (1 s).
      assert.equal(allowedOf(limiter, "192.0.2.1", 10), 3);
    });
    await t.step("a purged client comes back with a full bucket", () => {
      assert.equal(allowedOf(limiter, "192.0.2.2", 10), 3);
    });
    await t.step("purge(0) removes everything", () => {
      assert.equal(limiter.purge(0), 2);
      assert.equal(limiter.trackedClients, 0);
      assert.equal(limiter.evictions, 0);
    });
  },
);

Deno.test("RateLimiter never holds more than maxClients buckets", none, () => {
  const maxClients = 1000;
  const sprayed = 200_000;
  const { limiter } = setup({ maxClients });
  let most = 0;
  for (let i = 0; i < sprayed; i++) {
    limiter.check(ipv4(i));
    most = Math.max(most, limiter.trackedClients);
  }
  assert.equal(most, maxClients);
  assert.equal(limiter.trackedClients, maxClients);
  assert.equal(limiter.evictions, sprayed - maxClients);
  // Seeing a tracked client again evicts nobody.
  limiter.check(ipv4(sprayed - 1));
  assert.equal(limiter.evictions, sprayed - maxClients);
});

Deno.test("RateLimiter evicts the least recently seen client first", none, async (t) => {
  const { limiter } = setup({ maxClients: 3 });
  const [a, b, c, d, e] = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"];
  assert.equal(allowedOf(limiter, a, 5), 3); // a spends its burst
  limiter.check(b);
  limiter.check(c);
  await t.step("a client seen again moves to the back of the line", () => {
    limiter.check(a); // order now b, c, a
    limiter.check(d); // evicts b
    assert.equal(limiter.evictions, 1);
    assert.equal(limiter.trackedClients, 3);
  });
  await t.step("the recently seen client survived with its bucket still spent", () => {
    assert.equal(limiter.check(a).allowed, false);
  });
  await t.step("the next newcomer evicts the next oldest", () => {
    limiter.check(e); // order was c, d, a (a checked last): evicts c
    assert.equal(limiter.evictions, 2);
    assert.equal(limiter.check(a).allowed, false, "a still tracked and spent");
  });
  await t.step("an evicted client returns with a full bucket, evicting the oldest", () => {
    assert.equal(allowedOf(limiter, b, 5), 3);
    assert.equal(limiter.evictions, 3);
    assert.equal(limiter.trackedClients, 3);
  });
});

Deno.test(
  "RateLimiter keys text that is not an address by the raw text, without crashing",
  none,
  () => {
    const { limiter } = setup({ exempt: [cidr("10.0.0.0/8")] });
    for (const raw of ["", "not an ip", "10.0.0", "[::1", "::ffff:999.1.1.1", "%"]) {
      assert.equal(allowedOf(limiter, raw, 5), 3, JSON.stringify(raw));
    }
    assert.equal(limiter.trackedClients, 6);
  },
);

Deno.test("RateLimiter reports its settings", none, () => {
  const { limiter } = setup({ rate: 7, burst: 9, maxClients: 42 });
  assert.equal(limiter.rate, 7);
  assert.equal(limiter.burst, 9);
  assert.equal(limiter.maxClients, 42);
  assert.equal(limiter.trackedClients, 0);
  assert.equal(limiter.evictions, 0);
});

Deno.test("RateLimiter refuses options that cannot work", none, async (t) => {
  const bad: Array<[string, Partial<LimiterOptions>]> = [
    ["rate 0", { rate: 0 }],
    ["rate NaN", { rate: NaN }],
    ["burst 0", { burst: 0 }],
    ["maxClients 0", { maxClients: 0 }],
    ["maxClients 1.5", { maxClients: 1.5 }],
    ["ipv6Prefix -1", { ipv6Prefix: -1 }],
    ["ipv6Prefix 129", { ipv6Prefix: 129 }],
    ["ipv6Prefix 64.5", { ipv6Prefix: 64.5 }],
  ];
  for (const [name, options] of bad) {
    await t.step(name, () => assert.throws(() => setup(options), RangeError));
  }
});

Deno.test("RateLimiter counts admissions per client only when asked to", none, async (t) => {
  await t.step("without countAdmissions, nothing is counted", () => {
    const { limiter } = setup();
    allowedOf(limiter, "192.0.2.1", 2);
    assert.deepEqual([...limiter.takeAdmissions()], []);
  });
  await t.step(
    "with it, admissions (not refusals) are counted, and taking restarts the count",
    () => {
      const { limiter } = setup({ countAdmissions: true });
      allowedOf(limiter, "192.0.2.1", 5); // 3 admitted, 2 refused
      allowedOf(limiter, "2001:db8::1", 1);
      assert.deepEqual([...limiter.takeAdmissions()], [["192.0.2.1", 3], ["2001:db8::/64", 1]]);
      assert.deepEqual([...limiter.takeAdmissions()], []);
    },
  );
  await t.step("exempt clients are not counted", () => {
    const { limiter } = setup({ countAdmissions: true, exempt: [cidr("192.0.2.0/24")] });
    allowedOf(limiter, "192.0.2.1", 2);
    assert.deepEqual([...limiter.takeAdmissions()], []);
  });
  await t.step("at most maxClients clients are counted between two takes", () => {
    const { limiter } = setup({ countAdmissions: true, maxClients: 2 });
    for (let i = 0; i < 4; i++) allowedOf(limiter, ipv4(i), 1);
    assert.equal(limiter.takeAdmissions().size, 2);
  });
});

Deno.test(
  "RateLimiter.debit() lowers a bucket to the fleet's count, never raises it",
  none,
  async (t) => {
    await t.step("a fleet bucket lower than the local one takes tokens back", () => {
      const { limiter } = setup({ countAdmissions: true });
      limiter.check("192.0.2.1"); // 2 left here
      limiter.takeAdmissions();
      limiter.debit("192.0.2.1", 0);
      assert.equal(limiter.check("192.0.2.1").allowed, false);
    });
    await t.step("a fleet in debt keeps the bucket in debt until it refills", () => {
      const { clock, limiter } = setup({ countAdmissions: true });
      limiter.check("192.0.2.1");
      limiter.takeAdmissions();
      limiter.debit("192.0.2.1", -2);
      // 3 tokens short of one whole token at 1/s: Retry-After says so.
      assert.equal(retryAfter(limiter.check("192.0.2.1")), 3);
      clock.advance(2999);
      assert.equal(limiter.check("192.0.2.1").allowed, false);
      clock.advance(1);
      assert.equal(limiter.check("192.0.2.1").allowed, true);
    });
    await t.step("a fleet bucket fuller than the local one changes nothing", () => {
      const { limiter } = setup({ countAdmissions: true });
      allowedOf(limiter, "192.0.2.1", 3);
      limiter.takeAdmissions();
      limiter.debit("192.0.2.1", 3);
      assert.equal(limiter.check("192.0.2.1").allowed, false);
    });
    await t.step(
      "admissions counted since the fleet was read are subtracted from its count",
      () => {
        const { limiter } = setup({ countAdmissions: true });
        limiter.check("192.0.2.1"); // sent in a sync…
        limiter.takeAdmissions();
        limiter.check("192.0.2.1"); // …admitted while the sync ran: 1 left here
        limiter.debit("192.0.2.1", 1.5); // the fleet's 1.5 did not see the second
        assert.equal(limiter.check("192.0.2.1").allowed, false);
      },
    );
    await t.step("a client without a bucket here gets none", () => {
      const { limiter } = setup({ countAdmissions: true });
      limiter.debit("192.0.2.9", -10);
      assert.equal(limiter.trackedClients, 0);
      assert.equal(limiter.check("192.0.2.9").allowed, true);
    });
  },
);
