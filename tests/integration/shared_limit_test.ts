/**
 * Rate limits shared through a real `redis-server`, by two Aegis instances
 * in this process: each with its own limiter and its own Redis connection,
 * as two processes would have. The command line's test
 * (`cli_shared_limit_test.ts`) runs two processes.
 */

import assert from "node:assert/strict";
import { startTestAegis, type TestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { liveConfigFile, testConfig } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { startRedis } from "../_helpers/redis.ts";

/** Sends `n` sequential GETs to each URL in turn and returns how many got 200. */
async function alternate(urls: string[], n: number): Promise<{ ok: number; other: number[] }> {
  let ok = 0;
  const other: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(urls[i % urls.length]!);
    await res.body?.cancel();
    if (res.status === 200) ok++;
    else other.push(res.status);
  }
  return { ok, other };
}

/** The listener `default`'s store in `GET /status`. */
async function storeOf(proxy: TestAegis): Promise<Record<string, unknown> | undefined> {
  const status = await (await fetch(`${proxy.adminUrl}/status`)).json();
  return status.limiter.store;
}

async function metrics(proxy: TestAegis): Promise<string> {
  return await (await fetch(`${proxy.adminUrl}/metrics`)).text();
}

/** A slow refill, so that the test's own pace adds next to nothing. */
const LIMITS = { requests_per_second: 0.2, burst: 4 };
const ADAPTIVE = { min_rate: 0.1 };

/** The flat form to `backend`, its limits shared through the Redis at `url`, synced every 20 ms. */
function sharedConfig(url: string, backend: string) {
  return testConfig([backend], {
    rate_limit: { ...LIMITS, store: { type: "redis", url, sync_interval: "20ms" } },
    adaptive: ADAPTIVE,
  });
}

Deno.test("two Aegis instances sharing Redis admit one client one burst between them", async () => {
  await using redis = await startRedis();
  await using backend = startBackend();
  const config = await sharedConfig(redis.url, backend.url);
  await using one = startTestAegis(config);
  await using two = startTestAegis(config);
  await until(
    async () => (await storeOf(one))?.status === "up" && (await storeOf(two))?.status === "up",
    "both connected",
  );

  const tokens = async () =>
    Number(await redis.cli("HGET", "aegis:rl:default:127.0.0.1", "tokens") || NaN);
  // Alone, each would admit a burst of 4: eight in all.
  assert.equal((await alternate([one.url], 4)).ok, 4);
  await until(async () => (await tokens()) < 1, "the first instance's sync");
  // The second has not seen this client: it admits one request before its
  // own sync brings back the fleet's count (the documented first-contact overshoot)…
  assert.equal((await alternate([two.url], 1)).ok, 1);
  await until(async () => (await tokens()) < 0, "the second instance's sync");
  // …and from then on it is bound by the burst the first one spent.
  assert.deepEqual(await alternate([two.url], 3), { ok: 0, other: [429, 429, 429] });

  assert.deepEqual(await storeOf(one), { type: "redis", status: "up", failed_syncs: 0 });
  assert.match(await metrics(one), /^proxy_rate_limit_store_up\{listener="default"\} 1$/m);
  assert.match(
    await metrics(one),
    /^proxy_rate_limit_store_sync_failures_total\{listener="default"\} 0$/m,
  );
  // The password-free URL is shown as it is.
  const status = await (await fetch(`${one.adminUrl}/status`)).json();
  assert.equal(status.config.listeners[0].rate_limit.store.url, redis.url);
});

Deno.test("Redis stopped: local limits, an event and a metric; restarted: shared again", async () => {
  await using redis = await startRedis();
  await using backend = startBackend();
  const config = await sharedConfig(redis.url, backend.url);
  await using proxy = startTestAegis(config);
  await until(async () => (await storeOf(proxy))?.status === "up", "connected");

  await redis.stop();
  // Requests keep flowing while the sync finds Redis gone: only 200 and 429.
  let answered: number[] = [];
  await until(async () => {
    const r = await alternate([proxy.url], 1);
    answered = answered.concat(r.other);
    return (await storeOf(proxy))?.status === "down";
  }, "the outage noticed");
  assert.deepEqual(answered.filter((s) => s !== 429), []);
  const events = proxy.aegis.refreshSnapshot().events.filter((e) => e.kind === "limit");
  assert.equal(events.length, 1);
  assert.match(events[0]!.message, /^default: shared rate limits unavailable: \S/);
  assert.ok(
    proxy.logs.some((l) => l.msg === "shared rate limits unavailable" && l.level === "warn"),
  );
  assert.match(await metrics(proxy), /^proxy_rate_limit_store_up\{listener="default"\} 0$/m);
  const failed = Number(
    /^proxy_rate_limit_store_sync_failures_total\{listener="default"\} (\d+)$/m
      .exec(await metrics(proxy))?.[1],
  );
  assert.ok(failed >= 1, `failed syncs ${failed}`);

  await redis.restart();
  await until(async () => (await storeOf(proxy))?.status === "up", "restored");
  const restored = proxy.aegis.refreshSnapshot().events.filter((e) => e.kind === "limit");
  assert.equal(restored[0]!.message, "default: shared rate limits restored");
  assert.match(await metrics(proxy), /^proxy_rate_limit_store_up\{listener="default"\} 1$/m);
  // Shared again: what this instance admits reaches the restarted Redis.
  await alternate([proxy.url], 1);
  await until(
    async () => (await redis.cli("EXISTS", "aegis:rl:default:127.0.0.1")) === "1",
    "synced",
  );
});

Deno.test("a reload that moves the store opens the new connection and closes the old", async () => {
  await using first = await startRedis();
  await using second = await startRedis();
  await using backend = startBackend();
  const data = (url: string) => ({
    server: { host: "127.0.0.1", port: 0 },
    backends: [{ url: backend.url, weight: 1 }],
    rate_limit: { ...LIMITS, store: { type: "redis", url } },
    adaptive: ADAPTIVE,
  });
  await using file = await liveConfigFile(data(first.url));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  await until(async () => (await storeOf(proxy))?.status === "up", "connected");
  assert.equal(await first.clients(), 1);

  await file.write(data(second.url));
  const result = await proxy.aegis.reload();
  assert.equal(result.ok, true);
  await until(async () => (await first.clients()) === 0, "the old connection closed");
  await until(async () => (await storeOf(proxy))?.status === "up", "connected again");
  assert.equal(await second.clients(), 1);
  await alternate([proxy.url], 1);
  await until(
    async () => (await second.cli("EXISTS", "aegis:rl:default:127.0.0.1")) === "1",
    "synced",
  );
});
