/** The per-client rate limit and the adaptive loop, through the real proxy. */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { startLoad, until } from "../_helpers/load.ts";

/** Sends `n` sequential GETs and returns the statuses. */
async function burst(url: string, n: number, headers: HeadersInit = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { headers });
    await res.body?.cancel();
    out.push(res.status);
  }
  return out;
}

Deno.test("a client over its burst gets 429 with JSON and a Retry-After in whole seconds", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      rate_limit: { requests_per_second: 0.5, burst: 3 },
      adaptive: { min_rate: 0.1 },
    }),
  );
  const statuses = await burst(proxy.url, 5);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const res = await fetch(proxy.url);
  assert.equal(res.status, 429);
  assert.equal(await res.text(), '{"error":"too many requests"}');
  // One token every 2 s: the next is at most 2 s away, rounded up.
  const retry = Number(res.headers.get("retry-after"));
  assert.ok(retry >= 1 && retry <= 2, `Retry-After ${retry}`);
  assert.equal(res.headers.get("server"), "aegis", "security headers on 429 too");
  assert.equal(backend.received.length, 3, "refused requests never reach the backend");
  assert.equal(proxy.aegis.refreshSnapshot().global.rateLimited, 3);
  assert.ok(proxy.accessLogs().some((l) => l.status === 429 && l.reason === "rate_limited"));
});

Deno.test("X-Forwarded-For and friends cannot buy a client a fresh bucket", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      rate_limit: { requests_per_second: 0.5, burst: 2 },
      adaptive: { min_rate: 0.1 },
    }),
  );
  const spoofs = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"];
  const statuses: number[] = [];
  for (const ip of spoofs) {
    statuses.push(
      ...await burst(proxy.url, 1, {
        "x-forwarded-for": ip,
        "x-real-ip": ip,
        forwarded: `for=${ip}`,
      }),
    );
  }
  assert.deepEqual(statuses, [200, 200, 429, 429]);
});

Deno.test("clients in rate_limit.exempt are never limited", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      rate_limit: { requests_per_second: 0.5, burst: 1, exempt: ["127.0.0.0/8"] },
      adaptive: { min_rate: 0.1 },
    }),
  );
  assert.deepEqual(await burst(proxy.url, 10), new Array(10).fill(200));
  assert.equal(proxy.aegis.limiter.trackedClients, 0, "no bucket is even created");
});

Deno.test("health checks are never rate limited, however low the limit", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      rate_limit: { requests_per_second: 0.1, burst: 1 },
      adaptive: { min_rate: 0.1 },
      health_check: { interval: "20ms", timeout: "15ms" },
    }),
  );
  await until(() => backend.probes.length >= 10, "ten health probes");
  assert.equal(proxy.aegis.pool.states[0]!.health.health, "healthy");
  assert.equal(proxy.aegis.limiter.trackedClients, 0, "probes never pass through the limiter");
});

Deno.test("slow backends make the adaptive loop lower the rate; fast ones bring it back", async () => {
  let delayMs = 120;
  await using backend = startBackend(async () => {
    await new Promise((r) => setTimeout(r, delayMs));
    return new Response("ok");
  });
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      rate_limit: { requests_per_second: 400, burst: 1000, exempt: [] },
      adaptive: {
        evaluation_interval: "150ms",
        latency_threshold_ms: 60,
        reduction_factor: 0.5,
        recovery_factor: 2,
        min_rate: 25,
        max_rate: 400,
      },
      tui: { refresh_interval: "100ms" },
    }),
  );
  const rates = () =>
    proxy.aegis.events.recent().filter((e) => e.kind === "rate").reverse().map((e) => e.fields);
  const load = startLoad(proxy.url, 4);
  try {
    await until(() => proxy.aegis.limiter.rate <= 50, "the rate falls under slow backends");
    const falling = rates();
    assert.ok(falling.length >= 3, JSON.stringify(falling));
    for (const change of falling) {
      assert.equal(change.reason, "reduce", JSON.stringify(falling));
      assert.ok(
        Number(change.p95_ms) > 60,
        `each reduction was caused by a P95 over 60 ms: ${JSON.stringify(change)}`,
      );
      assert.equal(change.to, Number(change.from) / 2);
    }
    delayMs = 0;
    await until(
      () => proxy.aegis.limiter.rate >= 400,
      "the rate recovers once backends are fast",
      20_000,
    );
    const all = rates();
    const recovering = all.filter((c) => c.reason === "recover");
    assert.ok(recovering.length >= 3, JSON.stringify(all));
    for (const change of recovering) {
      assert.ok(
        Number(change.p95_ms) < 42,
        `recovery only under 70% of the threshold: ${JSON.stringify(change)}`,
      );
    }
    const last = proxy.aegis.refreshSnapshot().limiter.lastChange;
    assert.equal(last?.to, 400);
  } finally {
    await load.stop();
  }
});

Deno.test("idle clients' buckets are purged every rate_limit.cleanup_interval", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      // A bucket refills completely in 10/100 s, so it may go at the next cleanup.
      rate_limit: { requests_per_second: 100, burst: 10, cleanup_interval: "100ms" },
    }),
  );
  await burst(proxy.url, 1);
  assert.equal(proxy.aegis.limiter.trackedClients, 1);
  await until(() => proxy.aegis.limiter.trackedClients === 0, "the idle bucket is purged");
});
