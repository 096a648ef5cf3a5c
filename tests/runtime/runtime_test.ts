/**
 * buildRuntime(): one runtime per configuration, per pool and per listener,
 * and what a reload carries over: backend state keyed by pool and URL, each
 * pool's transport, and closing the transport of a pool that went away once
 * its requests are done. Manual clocks, transports in memory, no socket.
 */

import assert from "node:assert/strict";
import { buildRuntime, RETIRE_CHECK_MS } from "../../src/runtime/mod.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import { testShared } from "../_helpers/runtime.ts";

const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const CLIENT = { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 } as const;
const A = "http://127.0.0.1:9001";
const B = "http://127.0.0.1:9002";

/** One listener `front` routing `/b` to pool `b` and the rest to pool `a`. */
function config(pools: Record<string, string[]>, routes?: Array<Record<string, unknown>>) {
  return parseTestConfig({
    listeners: [{
      name: "front",
      address: "127.0.0.1:0",
      routes: routes ??
        Object.keys(pools).map((name, i) =>
          i === 0 ? { pool: name } : { match: { path_prefix: `/${name}` }, pool: name }
        ),
    }],
    pools: Object.fromEntries(
      Object.entries(pools).map(([name, urls]) => [name, {
        backends: urls.map((url) => ({ url, weight: 1 })),
      }]),
    ),
  });
}

Deno.test("buildRuntime() gives every pool its own transport, built once", yamlEnv, async () => {
  using t = testShared();
  const runtime = buildRuntime(await config({ a: [A], b: [B] }), t.shared);
  assert.deepEqual([...runtime.pools.keys()], ["a", "b"]);
  assert.deepEqual([...runtime.listeners.keys()], ["front"]);
  assert.deepEqual(t.transports.map((x) => x.first), [A, B]);
  assert.notEqual(runtime.pools.get("a")!.transport, runtime.pools.get("b")!.transport);
  runtime.stop();
  assert.deepEqual(t.transports.map((x) => x.transport.closed), [1, 1], "closed at stop");
});

Deno.test(
  "a reload keeps backend state keyed by pool and URL: the same URL in another pool starts afresh",
  yamlEnv,
  async () => {
    using t = testShared();
    const first = buildRuntime(await config({ a: [A], b: [B] }), t.shared);
    const kept = first.pools.get("a")!.pool.states[0]!;
    kept.breaker.acquire()!.failure(); // some history to keep
    const next = buildRuntime(await config({ a: [A, B], b: [A] }), t.shared, first);
    first.stop(next);
    const a = next.pools.get("a")!.pool.states;
    const b = next.pools.get("b")!.pool.states;
    assert.equal(a[0], kept, "a's backend A is the same live object");
    assert.equal(a[0]!.breaker.snapshot().consecutiveFailures, 1);
    assert.equal(a[1]!.health.health, "unhealthy", "B is new to pool a: unhealthy until checked");
    assert.notEqual(b[0], kept, "A in pool b is another backend");
    assert.equal(b[0]!.health.health, "unhealthy");
    assert.equal(t.transports.length, 2, "kept pools keep their transports");
    assert.equal(next.pools.get("a")!.transport, first.pools.get("a")!.transport);
    next.stop();
  },
);

Deno.test(
  "a pool a reload removes has its transport closed once its requests are done",
  yamlEnv,
  async () => {
    using t = testShared();
    const first = buildRuntime(await config({ a: [A], b: [B] }), t.shared);
    const handler = first.listeners.get("front")!.handler;
    const bTransport = t.transports[1]!.transport;
    bTransport.hold();
    const pending = handler(new Request("http://h/b/slow"), CLIENT);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(first.pools.get("b")!.inFlight(), 1);

    const next = buildRuntime(await config({ a: [A] }), t.shared, first);
    first.stop(next);
    assert.equal(bTransport.closed, 0, "not while a request is in flight on it");
    assert.equal(t.transports[0]!.transport.closed, 0, "the kept pool's transport stays open");
    t.clock.advance(RETIRE_CHECK_MS);
    assert.equal(bTransport.closed, 0);

    bTransport.release();
    const res = await pending;
    assert.equal(res.status, 200, "the request in flight finished on the removed pool");
    await res.text();
    t.clock.advance(RETIRE_CHECK_MS);
    assert.equal(bTransport.closed, 1, "closed at the next check once idle");
    assert.equal(t.shared.retired.waiting, 0);
    next.stop();
  },
);

Deno.test(
  "a route moved to another pool by a reload sends new requests there",
  yamlEnv,
  async () => {
    using t = testShared();
    const first = buildRuntime(await config({ a: [A], b: [B] }), t.shared);
    const ask = async (runtime: typeof first, path: string) =>
      await (await runtime.listeners.get("front")!.handler(new Request(`http://h${path}`), CLIENT))
        .text();
    assert.equal(await ask(first, "/b/x"), `${B}/b/x`);
    const next = buildRuntime(
      await config({ a: [A], b: [B] }, [{ pool: "b" }, {
        match: { path_prefix: "/b" },
        pool: "a",
      }]),
      t.shared,
      first,
    );
    first.stop(next);
    assert.equal(await ask(next, "/b/x"), `${A}/b/x`);
    assert.equal(await ask(next, "/other"), `${B}/other`);
    next.stop();
  },
);

Deno.test("a listener keeps its limiter while its rate_limit stays the same", yamlEnv, async () => {
  using t = testShared();
  const first = buildRuntime(await config({ a: [A] }), t.shared);
  const same = buildRuntime(await config({ a: [A, B] }), t.shared, first);
  assert.equal(same.listeners.get("front")!.limiter, first.listeners.get("front")!.limiter);
  first.stop(same);
  same.stop();
});

Deno.test("health and breaker events name the pool", yamlEnv, async () => {
  using t = testShared();
  const shared = { ...t.shared, probe: () => Promise.resolve({ ok: false, detail: "503" }) };
  const cfg = await parseTestConfig({
    health_check: { unhealthy_threshold: 1 },
    circuit_breaker: { failure_threshold: 1 },
    listeners: [{ name: "front", address: "127.0.0.1:0", routes: [{ pool: "api" }] }],
    pools: { api: { backends: [{ url: A, weight: 1 }] } },
  });
  const runtime = buildRuntime(cfg, shared);
  runtime.pools.get("api")!.pool.states[0]!.breaker.acquire()!.failure();
  runtime.start(() => {
    throw new Error("no snapshot in this test");
  });
  await new Promise((r) => setTimeout(r, 0));
  runtime.stop();
  await runtime.stopped;
  const events = t.shared.events.recent().map((e) => [e.kind, e.message, e.fields.pool]);
  assert.deepEqual(
    events.toSorted(),
    [
      ["breaker", `circuit breaker open for ${A} (pool api): 1 consecutive failure`, "api"],
      ["health", `${A} (pool api) is unhealthy: 1 consecutive failed checks`, "api"],
    ].toSorted(),
  );
});
