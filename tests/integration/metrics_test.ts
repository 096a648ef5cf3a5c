/** Counters and latency windows fed by real traffic, read through snapshots. */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { readBody, startBackend } from "../_helpers/backend.ts";
import { testConfig } from "../_helpers/config.ts";
import { connect, rawGet, readUntilClose, send } from "../_helpers/raw.ts";

Deno.test("a snapshot counts requests, responses by class, rejects, 429s, bytes and latency", async () => {
  await using backend = startBackend(async (req, seen) => {
    await readBody(req, seen);
    const path = new URL(req.url).pathname;
    if (path === "/missing") return new Response("nope", { status: 404 });
    if (path === "/boom") return new Response("boom", { status: 503 });
    return new Response("hello");
  });
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      rate_limit: { requests_per_second: 0.5, burst: 7 },
      adaptive: { min_rate: 0.1 },
      health_check: { interval: "1h" },
    }),
  );
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(proxy.url + path, init);
    await res.arrayBuffer();
    return res.status;
  };
  const statuses = [
    await get("/"),
    await get("/"),
    await get("/missing"),
    await get("/boom"),
    await get("/upload", { method: "POST", body: "12345" }),
    await get("/", { method: "TRACE" }).catch(() => 0),
  ];
  const raw = await rawExchange405(proxy.port);
  const limited = [await get("/"), await get("/"), await get("/")];
  const snap = proxy.aegis.refreshSnapshot();
  assert.deepEqual(statuses.slice(0, 5), [200, 200, 404, 503, 200]);
  assert.equal(raw, 405);
  assert.ok(limited.includes(429), `limited: ${limited}`);
  const g = snap.global;
  const answered = statuses.filter((s) => s > 0).length + 1 + limited.length;
  assert.equal(g.requests, answered, JSON.stringify(g));
  assert.equal(
    g.responses["2xx"],
    statuses.filter((s) => s === 200).length + limited.filter((s) => s === 200).length,
  );
  assert.equal(g.responses["5xx"], 1);
  assert.equal(g.rejects.method_not_allowed, 1);
  assert.equal(g.rateLimited, limited.filter((s) => s === 429).length);
  assert.ok(g.totalConnections >= 1);
  const b = snap.backends[0]!;
  assert.equal(b.metrics.requests, 5 + limited.filter((s) => s === 200).length);
  assert.equal(b.metrics.errors, 1, "the 503 counts as an error of the backend");
  assert.equal(b.metrics.bytesOut, 5, "request body bytes sent to the backend");
  assert.ok(b.metrics.bytesIn > 0);
  assert.equal(b.metrics.inFlight, 0);
  assert.equal(b.metrics.latency.count, b.metrics.requests);
  assert.ok(b.metrics.latency.p95 >= b.metrics.latency.p50);
  assert.equal(b.health, "healthy");
  assert.equal(b.breaker.state, "closed");
  assert.equal(b.warmupPercent, 100);
  assert.equal(snap.limiter.trackedClients, 1);
  assert.ok(Object.isFrozen(snap) && Object.isFrozen(snap.backends[0]!.metrics));
});

Deno.test("active client connections show in the snapshot while they are open", async () => {
  await using backend = startBackend();
  await using proxy = startTestAegis(await testConfig([backend.url]));
  const conns = await Promise.all([connect(proxy.port), connect(proxy.port)]);
  for (let i = 0; i < 100 && proxy.aegis.refreshSnapshot().global.activeConnections < 2; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(proxy.aegis.refreshSnapshot().global.activeConnections, 2);
  for (const c of conns) c.close();
  for (let i = 0; i < 100 && proxy.aegis.refreshSnapshot().global.activeConnections > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(proxy.aegis.refreshSnapshot().global.activeConnections, 0);
});

async function rawExchange405(port: number): Promise<number | undefined> {
  const conn = await connect(port);
  await send(conn, rawGet("/").replace("GET", "PROPFIND"));
  return (await readUntilClose(conn, 2000)).status;
}

Deno.test(
  "the access log and proxy_bytes_sent_total count the bodies of Aegis's own 400, 429 and 503",
  async () => {
    const gone = startBackend();
    await gone.close();
    await using proxy = startTestAegis(
      await testConfig([gone.url], {
        rate_limit: { requests_per_second: 0.01, burst: 1 },
        adaptive: { min_rate: 0.01 },
        health_check: { interval: "50ms", timeout: "40ms", unhealthy_threshold: 1 },
      }),
    );
    const state = proxy.aegis.pool.states[0]!;
    for (let i = 0; i < 500 && state.health.health !== "unhealthy"; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(state.health.health, "unhealthy");
    const sizes: number[] = [];
    for (const path of ["/", "/", "/a%2fb"]) {
      const res = await fetch(proxy.url + path);
      sizes.push((await res.arrayBuffer()).byteLength);
    }
    assert.deepEqual(proxy.accessLogs().map((l) => l.status), [503, 429, 400]);
    assert.deepEqual(proxy.accessLogs().map((l) => l.bytes), sizes);
    assert.ok(sizes.every((n) => n > 0));
    proxy.aegis.refreshSnapshot();
    const text = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    const sent = /^proxy_bytes_sent_total\{listener="default"\} (\d+)$/m.exec(text);
    assert.equal(Number(sent?.[1]), sizes.reduce((a, b) => a + b, 0));
  },
);
