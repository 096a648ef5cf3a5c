/** Retries on another backend when the first could not be reached. */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { readBody, startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { readRequestHead, startRawBackend } from "../_helpers/raw.ts";

/** A URL where nothing listens (a backend that just died). */
async function deadUrl(): Promise<string> {
  const gone = startBackend();
  await gone.close();
  return gone.url;
}

/** Health checks far apart, so only real traffic decides in these tests. */
const quietHealth = { health_check: { interval: "1h", timeout: "1h" } };

/** The dead backend first in every smooth round-robin cycle: weight 2 against 1. */
async function deadFirst(extra: Record<string, unknown> = {}) {
  const dead = await deadUrl();
  const live = startBackend(async (req, seen) => {
    const n = await readBody(req, seen);
    return new Response(`${req.method} ${n}`, { headers: { "x-backend": "live" } });
  });
  const config = await testConfig([dead, live.url], {
    ...quietHealth,
    backends: [{ url: dead, weight: 2 }, { url: live.url, weight: 1 }],
    ...extra,
  });
  return { dead, live, config };
}

Deno.test("an idempotent request that finds its backend down is retried on another and succeeds", async (t) => {
  const { live, config } = await deadFirst();
  await using _live = live;
  await using proxy = startTestAegis(config);
  for (const method of ["GET", "HEAD", "OPTIONS", "DELETE"]) {
    await t.step(method, async () => {
      const res = await fetch(proxy.url, { method });
      assert.equal(res.status, 200, `${method} answered ${res.status}`);
      await res.body?.cancel();
    });
  }
  await t.step("PUT with a small body, sent again in full", async () => {
    const res = await fetch(proxy.url, { method: "PUT", body: "x".repeat(1000) });
    assert.equal(await res.text(), "PUT 1000");
  });
  assert.ok(proxy.logs.some((l) => l.msg === "retrying on another backend"));
  // A request answered in full after a retry carries no failure reason in its access line.
  const answered = proxy.accessLogs().filter((l) => l.status === 200);
  assert.ok(answered.length >= 5);
  for (const line of answered) assert.equal(line.reason, undefined, JSON.stringify(line));
});

Deno.test("POST and PATCH are never retried: the client gets 502", async (t) => {
  const { live, config } = await deadFirst();
  await using _live = live;
  await using proxy = startTestAegis(config);
  for (const method of ["POST", "PATCH"]) {
    await t.step(method, async () => {
      // Each cycle sends the first request to the dead backend.
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(proxy.url, { method, body: "payload" });
        await res.body?.cancel();
        statuses.push(res.status);
      }
      assert.ok(statuses.includes(502), `${method}: ${statuses}`);
    });
  }
  assert.equal(live.received.filter((r) => r.method === "POST" || r.method === "PATCH").length, 2);
});

Deno.test("retries.attempts: 0 turns retries off", async () => {
  const { live, config } = await deadFirst({ retries: { attempts: 0 } });
  await using _live = live;
  await using proxy = startTestAegis(config);
  const res = await fetch(proxy.url);
  await res.body?.cancel();
  assert.equal(res.status, 502);
});

Deno.test("each retry counts as a failure against the backend that could not be reached", async () => {
  const { dead, live, config } = await deadFirst({
    circuit_breaker: { failure_threshold: 2, open_timeout: "1h" },
  });
  await using _live = live;
  await using proxy = startTestAegis(config);
  for (let i = 0; i < 4; i++) {
    const res = await fetch(proxy.url);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  const state = proxy.aegis.pool.states.find((s) => s.id === dead)!;
  assert.equal(state.breaker.state, "open", JSON.stringify(state.breaker.snapshot()));
  assert.equal(state.stats.errors, 2);
});

/** A backend that answers 200, declares `length` body bytes and sends a few before closing. */
function startTruncatingBackend(length: number) {
  return startRawBackend(async (conn) => {
    await readRequestHead(conn);
    const enc = new TextEncoder();
    await conn.write(enc.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n\r\npartial`));
  });
}

/** Aegis sending the first request to `broken`, with `live` as the backend a retry would pick. */
async function preferring(broken: { url: string }, live: { url: string }) {
  return startTestAegis(
    await testConfig([broken.url, live.url], {
      ...quietHealth,
      backends: [{ url: broken.url, weight: 5 }, { url: live.url, weight: 1 }],
    }),
  );
}

Deno.test("a backend that fails after it started streaming a large body is not retried", async () => {
  await using broken = startTruncatingBackend(1_000_000);
  await using live = startBackend();
  await using proxy = await preferring(broken, live);
  const res = await fetch(proxy.url);
  assert.equal(res.status, 200);
  await assert.rejects(res.text());
  assert.equal(live.received.length, 0, "the truncated answer was not replayed elsewhere");
});

Deno.test("a small body cut short is answered 502 and not retried", async () => {
  await using broken = startTruncatingBackend(100);
  await using live = startBackend();
  await using proxy = await preferring(broken, live);
  const res = await fetch(proxy.url);
  assert.equal(res.status, 502, "the client gets a clean error, not a body that looks complete");
  assert.equal(await res.text(), '{"error":"bad gateway"}');
  assert.equal(live.received.length, 0, "the backend saw the request: it is not replayed");
  const state = proxy.aegis.pool.states.find((s) => s.id === broken.url)!;
  assert.equal(state.stats.errors, 1, "the failure counts against the backend");
});

Deno.test("with every backend unavailable, clients get 503 with Retry-After at once", async () => {
  const dead = await deadUrl();
  await using proxy = startTestAegis(
    await testConfig([dead], {
      health_check: { interval: "50ms", timeout: "40ms", unhealthy_threshold: 1 },
    }),
  );
  const unhealthy = () => proxy.aegis.pool.states[0]!.health.health === "unhealthy";
  for (let i = 0; i < 500 && !unhealthy(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(unhealthy(), "the health check marked the only backend unhealthy");
  const res = await fetch(proxy.url);
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "1");
  assert.equal(await res.text(), '{"error":"no healthy backend"}');
});
