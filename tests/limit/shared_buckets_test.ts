/**
 * SharedRateLimiter: RateLimiter's bucket semantics over a table in a
 * SharedArrayBuffer, shared by every limiter made over the same memory
 * (as each worker isolate makes one). Time is a number the test moves.
 */

import assert from "node:assert/strict";
import {
  type ClientLimiter,
  createSharedBuckets,
  type SharedBucketsSettings,
  SharedRateLimiter,
} from "../../src/limit/mod.ts";
import { parseCidr } from "../../src/net/mod.ts";

const none = { permissions: "none" } as const;

/** Two limiters over one table (two isolates' views), on a clock the test moves. */
function setup(settings: Partial<SharedBucketsSettings> = {}) {
  const time = { now: 1_000_000 };
  const all = { rate: 1, burst: 3, maxClients: 1000, ...settings };
  const memory = createSharedBuckets(all, time.now);
  const view = () =>
    new SharedRateLimiter({ memory, maxClients: all.maxClients, now: () => time.now });
  return { time, a: view(), b: view() };
}

function allowedOf(limiter: ClientLimiter, ip: string, n: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (limiter.check(ip).allowed) allowed++;
  return allowed;
}

Deno.test("SharedRateLimiter spends one bucket per client whichever view checks", none, () => {
  const { a, b } = setup();
  assert.equal(allowedOf(a, "203.0.113.7", 2), 2);
  assert.equal(allowedOf(b, "203.0.113.7", 5), 1, "the burst of 3 is shared");
  assert.equal(allowedOf(b, "203.0.113.8", 3), 3, "another client has its own bucket");
  assert.equal(a.trackedClients, 2);
  assert.equal(b.trackedClients, 2);
});

Deno.test(
  "SharedRateLimiter refills at the rate, answers Retry-After, and takes a new rate everywhere",
  none,
  () => {
    const { time, a, b } = setup();
    allowedOf(a, "198.51.100.1", 3);
    const refused = b.check("198.51.100.1");
    assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 1 });
    time.now += 1000;
    assert.equal(allowedOf(b, "198.51.100.1", 2), 1);
    a.setRate(4);
    assert.equal(b.rate, 4);
    time.now += 500;
    assert.equal(allowedOf(b, "198.51.100.1", 5), 2, "half a second at 4/s");
    assert.throws(() => a.setRate(0), RangeError);
  },
);

Deno.test(
  "SharedRateLimiter evicts the least recently seen neighbour when its probes are full",
  none,
  () => {
    // 16 slots: the smallest table, so 17 clients must evict.
    const { time, a } = setup({ maxClients: 1 });
    for (let i = 0; i < 16; i++) {
      a.check(`192.0.2.${i}`);
      time.now += 1;
    }
    assert.equal(a.trackedClients, 16);
    assert.equal(a.evictions, 0);
    a.check("192.0.2.200");
    assert.equal(a.evictions, 1);
    assert.equal(a.trackedClients, 16);
    // The newcomer starts full, as a new client of RateLimiter does.
    assert.equal(allowedOf(a, "192.0.2.200", 3), 2);
  },
);

Deno.test("SharedRateLimiter purges idle buckets and finds clients past the holes", none, () => {
  // 16 slots, each key probing all of them: purged slots leave holes before the busy client's.
  const { time, a, b } = setup({ maxClients: 1 });
  for (let i = 0; i < 15; i++) a.check(`192.0.2.${i}`);
  time.now += 10_000;
  assert.equal(allowedOf(a, "203.0.113.2", 3), 3);
  assert.equal(b.purge(5_000), 15);
  assert.equal(a.trackedClients, 1);
  // The busy client's bucket stayed, and is found past the holes: still empty.
  assert.equal(b.check("203.0.113.2").allowed, false);
  assert.equal(a.trackedClients, 1);
});

Deno.test("SharedRateLimiter lets exempt networks through without a bucket", none, () => {
  const { time } = setup();
  const memory = createSharedBuckets({ rate: 1, burst: 1, maxClients: 10 }, time.now);
  const limiter = new SharedRateLimiter({
    memory,
    maxClients: 10,
    exempt: [parseCidr("10.0.0.0/8")!],
    now: () => time.now,
  });
  assert.equal(allowedOf(limiter, "10.1.2.3", 5), 5);
  assert.equal(limiter.trackedClients, 0);
});

Deno.test("createSharedBuckets refuses a burst or rate that cannot limit", none, () => {
  assert.throws(() => createSharedBuckets({ rate: 1, burst: 0, maxClients: 1 }), RangeError);
  assert.throws(() => createSharedBuckets({ rate: Infinity, burst: 1, maxClients: 1 }), RangeError);
});
