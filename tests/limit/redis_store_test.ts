import assert from "node:assert/strict";
import { RedisStore } from "../../src/limit/mod.ts";
import { startRedis } from "../_helpers/redis.ts";

/** `redis-server` and `redis-cli` as subprocesses, and loopback sockets. */
const REDIS: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { run: ["redis-server", "redis-cli"], net: ["127.0.0.1"] },
};

const REFILL = { rate: 10, burst: 20 };

/** Retries `fn` until it stops throwing; the client reconnects in the background. */
async function eventually<T>(fn: () => Promise<T>, tries = 200): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function storeFor(url: string, listener = "web"): RedisStore {
  return new RedisStore({ url, listener, connectTimeoutMs: 1000 });
}

Deno.test(
  "RedisStore.spend() debits one fleet bucket per client, namespaced, expiring",
  REDIS,
  async () => {
    await using redis = await startRedis();
    await using store = storeFor(redis.url);
    const [a, b] = await eventually(() =>
      store.spend([["10.0.0.1", 3], ["2001:db8::/64", 25]], REFILL)
    );
    // New buckets start full (20): one has 17 left, the other is 5 in debt.
    assert.ok(a! > 16.9 && a! <= 17, `a = ${a}`);
    assert.ok(b! > -5.1 && b! <= -5, `b = ${b}`);

    assert.deepEqual(
      (await redis.cli("--raw", "KEYS", "*")).split("\n").sort(),
      ["aegis:rl:web:10.0.0.1", "aegis:rl:web:2001:db8::/64"],
    );
    // Each key lives until its bucket would be full again: 3 tokens at 10/s, 25 at 10/s.
    const ttlA = Number(await redis.cli("PTTL", "aegis:rl:web:10.0.0.1"));
    const ttlB = Number(await redis.cli("PTTL", "aegis:rl:web:2001:db8::/64"));
    assert.ok(ttlA > 0 && ttlA <= 300 + 1000, `ttl ${ttlA}`);
    assert.ok(ttlB > 1300 && ttlB <= 2500 + 1000, `ttl ${ttlB}`);
  },
);

Deno.test("two RedisStore connections for one listener share its buckets", REDIS, async () => {
  await using redis = await startRedis();
  await using one = storeFor(redis.url);
  await using two = storeFor(redis.url);
  await using other = storeFor(redis.url, "api");
  await eventually(() => one.spend([["10.0.0.1", 15]], REFILL));
  const [left] = await eventually(() => two.spend([["10.0.0.1", 10]], REFILL));
  // 20 − 15 − 10, plus at most a few tokens refilled in between.
  assert.ok(left! < -3 && left! >= -5, `left = ${left}`);
  // Another listener's buckets are its own.
  const [fresh] = await eventually(() => other.spend([["10.0.0.1", 1]], REFILL));
  assert.equal(fresh, 19);
});

Deno.test(
  "RedisStore fails at once while Redis is down and reconnects by itself",
  REDIS,
  async () => {
    await using redis = await startRedis();
    await using store = storeFor(redis.url);
    await eventually(() => store.ping());
    assert.equal(store.connecting, false);

    await redis.stop();
    const failure = await eventually(async () => {
      try {
        await store.spend([["10.0.0.1", 1]], REFILL);
      } catch (e) {
        return e as Error;
      }
      throw new Error("spend still succeeds");
    });
    assert.ok(failure.message.length > 0);

    await redis.restart();
    const [left] = await eventually(() => store.spend([["10.0.0.1", 1]], REFILL));
    // The restarted server is empty: a new, full bucket.
    assert.equal(left, 19);
  },
);

Deno.test("RedisStore.reset() replaces the connection", REDIS, async () => {
  await using redis = await startRedis();
  await using store = storeFor(redis.url);
  await eventually(() => store.ping());
  store.reset();
  await eventually(() => store.ping());
  assert.equal(await redis.clients(), 1);
});

Deno.test("RedisStore with nothing listening stops connecting and says why", REDIS, async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await using store = storeFor(`redis://127.0.0.1:${port}`);
  const failure = await eventually(async () => {
    if (store.connecting) throw new Error("still connecting");
    return await store.ping().then(() => undefined, (e: Error) => e);
  });
  assert.match(String(failure?.message), /ECONNREFUSED/);
});
