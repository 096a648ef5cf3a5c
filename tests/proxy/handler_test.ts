/**
 * The proxy as a fetch-shaped function: called with `new Request()` and a
 * scripted transport, no sockets.
 */

import assert from "node:assert/strict";
import { systemClock, Watchdog } from "../../src/clock/mod.ts";
import type { Config } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { createPool } from "../../src/pool/mod.ts";
import { createProxy, sendVia } from "../../src/proxy/mod.ts";
import { testConfig } from "../_helpers/config.ts";
import { frontOf, poolOf, toPool } from "../_helpers/proxy.ts";
import { type ClientInfo, type Transport } from "../../src/core/mod.ts";

const client: ClientInfo = { ip: "203.0.113.45", port: 40000, proto: "http", listenerPort: 8080 };
const env: Pick<Deno.TestDefinition, "permissions"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

async function proxyWith(
  transport: Transport,
  options: { config?: Config; available?: () => boolean } = {},
) {
  const config = options.config ?? await testConfig(["http://127.0.0.1:9"]);
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ sink: (l) => logs.push(JSON.parse(l)) });
  const watchdog = new Watchdog({ clock: systemClock, tickMs: 10 });
  const pool = createPool(poolOf(config), { available: options.available ?? (() => true) });
  const route = toPool(config, pool, sendVia(transport));
  const proxy = createProxy({ listener: frontOf(config), route, logger, watchdog });
  return { proxy, logs, [Symbol.dispose]: () => watchdog[Symbol.dispose]() };
}

Deno.test(
  "createProxy() answers 503 with Retry-After when no backend is available",
  env,
  async () => {
    let called = false;
    using p = await proxyWith(() => {
      called = true;
      return Promise.resolve(new Response("x"));
    }, { available: () => false });
    const res = await p.proxy(new Request("http://example.com/"), client);
    assert.equal(res.status, 503);
    assert.equal(await res.text(), '{"error":"no healthy backend"}');
    assert.equal(res.headers.get("retry-after"), "10", "the health-check interval, in seconds");
    assert.equal(res.headers.get("server"), "aegis");
    assert.equal(called, false);
    assert.equal(p.logs.find((l) => l.msg === "request")?.reason, "no_backend");
  },
);

Deno.test("createProxy() relays redirects instead of following them", env, async () => {
  using p = await proxyWith(() =>
    Promise.resolve(
      new Response(null, { status: 302, headers: { location: "http://internal.example/next" } }),
    )
  );
  const res = await p.proxy(new Request("http://example.com/go"), client);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "http://internal.example/next");
});

Deno.test(
  "createProxy() keeps Content-Length on HEAD and sends no body for HEAD, 204 and 304",
  env,
  async (t) => {
    await t.step("HEAD", async () => {
      using p = await proxyWith(() =>
        Promise.resolve(new Response(null, { headers: { "content-length": "1234" } }))
      );
      const res = await p.proxy(new Request("http://example.com/", { method: "HEAD" }), client);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-length"), "1234");
      assert.equal(res.body, null);
    });
    for (const status of [204, 304]) {
      await t.step(String(status), async () => {
        using p = await proxyWith(() => Promise.resolve(new Response(null, { status })));
        const res = await p.proxy(new Request("http://example.com/"), client);
        assert.equal(res.status, status);
        assert.equal(res.body, null);
      });
    }
  },
);

Deno.test(
  "createProxy() sends the backend the rewritten URL and forwarding headers",
  env,
  async () => {
    let seen: Request | undefined;
    const config = await testConfig(["http://127.0.0.1:9/api/"]);
    using p = await proxyWith((req) => {
      seen = req;
      return Promise.resolve(new Response("ok"));
    }, { config });
    const res = await p.proxy(
      new Request("http://example.com/users?id=1", { headers: { "x-forwarded-for": "10.9.8.7" } }),
      client,
    );
    await res.text();
    assert.equal(seen?.url, "http://127.0.0.1:9/api/users?id=1");
    assert.equal(seen?.headers.get("x-forwarded-for"), "10.9.8.7, 203.0.113.45");
    assert.equal(seen?.headers.get("host"), "example.com");
    assert.equal(seen?.redirect, "manual");
  },
);

Deno.test(
  "createProxy() never lets a failing transport reach the client as anything but 502",
  env,
  async () => {
    using p = await proxyWith(() =>
      Promise.reject(
        new TypeError("error sending request for url (http://10.0.0.7:8080/): secret detail"),
      )
    );
    const res = await p.proxy(new Request("http://example.com/"), client);
    assert.equal(res.status, 502);
    const body = await res.text();
    assert.equal(body, '{"error":"bad gateway"}');
    const failure = p.logs.find((l) => l.msg === "backend request failed");
    assert.match(String(failure?.error), /secret detail/, "the detail goes to the log");
  },
);

Deno.test("createProxy() turns a bug into 500 without leaking it", env, async () => {
  using p = await proxyWith(() => Promise.resolve(new Response("x")), {
    available: () => {
      throw new Error("bug in the pool");
    },
  });
  const res = await p.proxy(new Request("http://example.com/"), client);
  assert.equal(res.status, 500);
  assert.equal(await res.text(), '{"error":"internal error"}');
  assert.match(String(p.logs.find((l) => l.msg === "internal error")?.error), /bug in the pool/);
});

Deno.test(
  "createProxy() treats a transport that throws synchronously as a failed backend",
  env,
  async () => {
    using p = await proxyWith(() => {
      throw new TypeError("boom");
    });
    const res = await p.proxy(new Request("http://example.com/"), client);
    assert.equal(res.status, 502);
    assert.equal(await res.text(), '{"error":"bad gateway"}');
  },
);

Deno.test(
  "createProxy() answers 503 when Aegis runs out of descriptors, and no backend is blamed",
  env,
  async () => {
    const config = await testConfig(["http://127.0.0.1:9", "http://127.0.0.2:9"]);
    const logger = createLogger({ sink: () => {} });
    using watchdog = new Watchdog({ clock: systemClock, tickMs: 10 });
    const pool = createPool(config.pools.default!);
    let sends = 0;
    // What the runtime's fetch throws when the process is at its descriptor limit.
    const emfile: Transport = () => {
      sends++;
      return Promise.reject(
        new TypeError("fetch failed", {
          cause: new Error(
            "error sending request for url (http://127.0.0.1:9/): client error (Connect): tcp open error: Too many open files (os error 24)",
          ),
        }),
      );
    };
    const route = toPool(config, pool, sendVia(emfile));
    const proxy = createProxy({ listener: frontOf(config), route, logger, watchdog });
    const threshold = poolOf(config).circuit_breaker.failure_threshold;
    for (let i = 0; i < 2 * threshold; i++) {
      const res = await proxy(new Request("http://example.com/"), client);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "1");
      assert.equal(await res.text(), '{"error":"service unavailable"}');
    }
    assert.equal(sends, 2 * threshold, "never retried on another backend");
    for (const state of pool.states) {
      assert.equal(state.breaker.snapshot().state, "closed", state.id);
      assert.equal(state.stats.errors, 0, state.id);
      assert.equal(state.stats.inFlight, 0, state.id);
    }
  },
);
