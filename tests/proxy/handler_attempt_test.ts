/**
 * Whatever way a request goes, the handler gives each backend's try back
 * exactly ONCE and with the right result: the in-flight count returns to
 * zero and the circuit breaker counts each failure ONCE. Called with
 * `new Request()` and a scripted `send`, no sockets; each backend's breaker
 * opens on its second failure in a row, so a failure counted twice shows.
 */

import assert from "node:assert/strict";
import { attemptCounts, FAILED_ONCE, ONCE } from "../_helpers/attempts.ts";
import { systemClock, Watchdog } from "../../src/clock/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { createPool } from "../../src/pool/mod.ts";
import { createProxy } from "../../src/proxy/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { testConfig } from "../_helpers/config.ts";
import { frontOf, poolOf, toPool } from "../_helpers/proxy.ts";
import {
  type ClientInfo,
  ProxyError,
  type Send,
  type UpstreamResponse,
} from "../../src/core/mod.ts";

const client: ClientInfo = { ip: "203.0.113.45", port: 40000, proto: "http", listenerPort: 8080 };
const env: Pick<Deno.TestDefinition, "permissions"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};
const URLS = ["http://127.0.0.1:9", "http://127.0.0.2:9"];

async function proxyWith(send: Send, urls = URLS.slice(0, 1), breaker: object = {}) {
  const config = await testConfig(urls, {
    circuit_breaker: { failure_threshold: 2, success_threshold: 1, open_timeout: "1s", ...breaker },
  });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ sink: (l) => logs.push(JSON.parse(l)) });
  const watchdog = new Watchdog({ clock: systemClock, tickMs: 10 });
  const clock = new ManualClock();
  const pool = createPool(poolOf(config), { clock });
  const route = toPool(config, pool, send);
  const proxy = createProxy({ listener: frontOf(config), route, logger, watchdog });
  return {
    call: (init?: RequestInit) => proxy(new Request("http://example.com/", init), client),
    states: pool.states,
    clock,
    access: () => logs.filter((l) => l.msg === "request"),
    [Symbol.dispose]: () => watchdog[Symbol.dispose](),
  };
}

/** A backend response body the test feeds by hand. */
function feed() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return {
    stream,
    push: (text: string) => ctl.enqueue(new TextEncoder().encode(text)),
    close: () => ctl.close(),
    error: (e: unknown) => ctl.error(e),
    cancelled: () => cancelled,
  };
}

/** A `send` that answers `status` with `body` and no declared length, so the body streams. */
const answer = (body: UpstreamResponse["body"], status = 200): Send => () =>
  Promise.resolve({ status, statusText: "", headers: [], body });

Deno.test("a thrown error ends the attempt ONCE", env, async (t) => {
  await t.step("the transport throws: the backend failed", async () => {
    using p = await proxyWith(() => Promise.reject(new ProxyError("upstream", "reset")));
    assert.equal((await p.call()).status, 502);
    assert.deepEqual(attemptCounts(p.states[0]!), FAILED_ONCE);
  });
  await t.step("Aegis itself ran out of descriptors: nobody is blamed", async () => {
    using p = await proxyWith(() => Promise.reject(new ProxyError("local_resource", "EMFILE")));
    assert.equal((await p.call()).status, 503);
    assert.deepEqual(attemptCounts(p.states[0]!), ONCE);
  });
  await t.step("the backend's status cannot be relayed", async () => {
    using p = await proxyWith(answer(new TextEncoder().encode("x"), 600));
    const res = await p.call();
    assert.equal(res.status, 502);
    assert.equal(await res.text(), '{"error":"bad gateway"}');
    assert.deepEqual(attemptCounts(p.states[0]!), FAILED_ONCE);
  });
  await t.step("a small body breaks before it is whole", async () => {
    const body = feed();
    using p = await proxyWith(() =>
      Promise.resolve({
        status: 200,
        statusText: "",
        headers: [["content-length", "10"]],
        body: body.stream,
      })
    );
    const pending = p.call();
    body.push("abc");
    body.error(new Error("connection reset"));
    const res = await pending;
    assert.equal(res.status, 502);
    await res.body?.cancel();
    assert.deepEqual(attemptCounts(p.states[0]!), FAILED_ONCE);
  });
});

Deno.test(
  "a streamed body owns the attempt: it ends when the body ends, not when the handler returns",
  env,
  async (t) => {
    await t.step("the client aborts the body: the backend did its job", async () => {
      const body = feed();
      using p = await proxyWith(answer(body.stream));
      const res = await p.call();
      assert.equal(res.status, 200);
      assert.equal(p.states[0]!.stats.inFlight, 1, "still in flight after the handler returned");
      const reader = res.body!.getReader();
      const first = reader.read();
      body.push("part");
      assert.equal(new TextDecoder().decode((await first).value), "part");
      await reader.cancel(new Error("client went away"));
      assert.ok(body.cancelled(), "the backend's body is let go");
      assert.deepEqual(attemptCounts(p.states[0]!), ONCE);
      assert.equal(p.access().length, 1, "one access line");
      assert.equal(p.access()[0]!.outcome, "client_closed");
    });
    await t.step("the backend breaks the body: it failed, ONCE", async () => {
      const body = feed();
      using p = await proxyWith(answer(body.stream));
      const res = await p.call();
      const reading = res.text();
      body.push("part");
      body.error(new Error("connection reset"));
      await assert.rejects(reading);
      assert.deepEqual(attemptCounts(p.states[0]!), FAILED_ONCE);
      assert.equal(p.access().length, 1);
    });
    await t.step("the body completes: the half-open probe closes the breaker", async () => {
      const body = feed();
      using p = await proxyWith(answer(body.stream), URLS.slice(0, 1), {
        failure_threshold: 1,
        half_open_max_requests: 1,
      });
      const state = p.states[0]!;
      state.breaker.acquire()!.failure();
      p.clock.advance(1000);
      const res = await p.call();
      assert.equal(state.breaker.snapshot().halfOpenInFlight, 1, "the probe is still out");
      const reading = res.text();
      body.push("done");
      body.close();
      assert.equal(await reading, "done");
      assert.equal(state.breaker.snapshot().state, "closed");
      assert.equal(state.stats.inFlight, 0);
    });
  },
);

Deno.test("a retry ends the failed attempt ONCE before the next begins", env, async () => {
  let sends = 0;
  const seen: string[] = [];
  using p = await proxyWith((request) => {
    seen.push(request.url);
    if (sends++ === 0) return Promise.reject(new ProxyError("connect", "refused"));
    return Promise.resolve({
      status: 200,
      statusText: "OK",
      headers: [["content-length", "2"]],
      body: new TextEncoder().encode("ok"),
    });
  }, URLS);
  const res = await p.call();
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "ok");
  assert.equal(seen.length, 2, "tried twice");
  const [first, second] = seen.map((url) => p.states.find((s) => url.startsWith(s.id))!);
  assert.notEqual(first, second, "on another backend");
  assert.deepEqual(attemptCounts(first!), FAILED_ONCE);
  assert.deepEqual(attemptCounts(second!), ONCE);
  assert.equal(p.access().length, 1);
});
