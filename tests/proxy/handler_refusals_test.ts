/**
 * The handler's answers to requests the client got wrong (no Host, a target
 * Aegis must not forward, a body with broken framing, `OPTIONS *`) and the
 * bytes of the answers Aegis writes itself: called with `new Request()` and
 * a scripted `send`, no sockets.
 */

import assert from "node:assert/strict";
import { ManualClock } from "../_helpers/clock.ts";
import { systemClock, Watchdog } from "../../src/clock/mod.ts";
import type { Config } from "../../src/config/mod.ts";
import { RateLimiter } from "../../src/limit/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { GlobalStats } from "../../src/metrics/mod.ts";
import { createPool } from "../../src/pool/mod.ts";
import { createProxy, type Phase, rateLimitPhase, sendVia } from "../../src/proxy/mod.ts";
import { testConfig } from "../_helpers/config.ts";
import { frontOf, poolOf, toPool } from "../_helpers/proxy.ts";
import { type ClientInfo, type Send, type UpstreamRequest } from "../../src/core/mod.ts";

const LISTENER_PORT = 8080;
const client: ClientInfo = {
  ip: "203.0.113.45",
  port: 40000,
  proto: "http",
  listenerPort: LISTENER_PORT,
};
const env: Pick<Deno.TestDefinition, "permissions"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/** What the runtime rejects a body read with when a chunk's framing is broken (Deno 2.9). */
const INVALID_CHUNK = () => new Error("invalid HTTP/1 request: Invalid");

async function proxyWith(
  send: Send,
  options: { config?: Config; available?: () => boolean; phases?: Phase[] } = {},
) {
  const config = options.config ?? await testConfig(["http://127.0.0.1:9"]);
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ sink: (l) => logs.push(JSON.parse(l)) });
  const watchdog = new Watchdog({ clock: systemClock, tickMs: 10 });
  const pool = createPool(poolOf(config), { available: options.available ?? (() => true) });
  const stats = new GlobalStats();
  const proxy = createProxy({
    listener: frontOf(config),
    route: toPool(config, pool, send),
    logger,
    watchdog,
    stats,
    phases: options.phases,
  });
  return {
    proxy,
    logs,
    stats,
    pool,
    access: () => logs.filter((l) => l.msg === "request"),
    [Symbol.dispose]: () => watchdog[Symbol.dispose](),
  };
}

/** A `send` that records each upstream request and answers 200 `ok`. */
function recorder() {
  const sent: UpstreamRequest[] = [];
  const send: Send = (request) => {
    sent.push(request);
    return Promise.resolve({
      status: 200,
      statusText: "OK",
      headers: [["content-length", "2"]],
      body: new TextEncoder().encode("ok"),
    });
  };
  return { sent, send };
}

/** A request body the test feeds by hand. */
function feed() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
    },
  }, { highWaterMark: 0 });
  return {
    stream,
    push: (n: number) => ctl.enqueue(new Uint8Array(n).fill(0x61)),
    error: (e: unknown) => ctl.error(e),
  };
}

const upload = (body: ReadableStream<Uint8Array>) =>
  new Request("http://example.com/upload", {
    method: "POST",
    body,
    duplex: "half",
  } as RequestInit);

Deno.test(
  "createProxy() answers 400 to a request without Host, before any backend is asked",
  env,
  async () => {
    const backend = recorder();
    using p = await proxyWith(backend.send);
    // What the runtime makes of `GET / HTTP/1.1` with no Host, on a listener at 8080.
    const res = await p.proxy(new Request(`http://localhost:${LISTENER_PORT}/`), client);
    assert.equal(res.status, 400);
    assert.equal(await res.text(), '{"error":"missing host"}');
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(backend.sent.length, 0);
    assert.equal(p.access()[0]?.reason, "missing_host");
    assert.equal(p.stats.rejects.get("missing_host"), 1);
  },
);

Deno.test(
  "createProxy() refuses an absolute-form target with another scheme, and a schemeless one",
  env,
  async (t) => {
    const backend = recorder();
    using p = await proxyWith(backend.send);
    for (const url of ["ftp://b.example/x", "file://h/etc/passwd", "http://h/file:///etc/passwd"]) {
      await t.step(url, async () => {
        const res = await p.proxy(new Request(url), client);
        assert.equal(res.status, 400);
        assert.equal(await res.text(), '{"error":"invalid target"}');
      });
    }
    assert.equal(backend.sent.length, 0);
    assert.equal(p.stats.rejects.get("invalid_target"), 3);
  },
);

Deno.test(
  "createProxy() sends OPTIONS * to the backend's base with the asterisk as its target",
  env,
  async (t) => {
    const backend = recorder();
    using p = await proxyWith(backend.send, {
      config: await testConfig(["http://127.0.0.1:9/api"], {
        security: { allowed_methods: ["GET", "OPTIONS"] },
      }),
    });
    await t.step("OPTIONS *", async () => {
      // The runtime gives `OPTIONS * HTTP/1.1` as the path /*.
      const res = await p.proxy(new Request("http://example.com/*", { method: "OPTIONS" }), client);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.equal(backend.sent[0]?.target, "*");
      assert.equal(backend.sent[0]?.url, "http://127.0.0.1:9/api/");
      assert.equal(p.access()[0]?.path, "*");
    });
    await t.step("any other request has no separate target", async () => {
      const res = await p.proxy(new Request("http://example.com/*"), client);
      await res.body?.cancel();
      assert.equal(backend.sent[1]?.target, undefined);
      assert.equal(backend.sent[1]?.url, "http://127.0.0.1:9/api/*");
    });
  },
);

Deno.test(
  "createProxy() answers 501 to OPTIONS * through a fetch-shaped transport, blaming no backend",
  env,
  async () => {
    let called = false;
    using p = await proxyWith(
      sendVia(() => {
        called = true;
        return Promise.resolve(new Response("x"));
      }),
      {
        config: await testConfig(["http://127.0.0.1:9"], {
          security: { allowed_methods: ["OPTIONS"] },
        }),
      },
    );
    const res = await p.proxy(new Request("http://example.com/*", { method: "OPTIONS" }), client);
    assert.equal(res.status, 501);
    assert.equal(await res.text(), '{"error":"not implemented"}');
    assert.equal(called, false);
    assert.equal(p.pool.states[0]!.stats.errors, 0);
    assert.equal(p.logs.some((l) => l.msg === "backend request failed"), false);
    assert.equal(p.access()[0]?.reason, "not_implemented");
  },
);

Deno.test(
  "createProxy() answers 400 to a small body whose framing breaks, logs it and counts it",
  env,
  async () => {
    const backend = recorder();
    using p = await proxyWith(backend.send);
    const body = feed();
    const answer = p.proxy(upload(body.stream), client);
    body.push(10);
    await new Promise((r) => setTimeout(r, 0));
    body.error(INVALID_CHUNK());
    const res = await answer;
    assert.equal(res.status, 400);
    assert.equal(await res.text(), '{"error":"bad request"}');
    assert.equal(res.headers.get("connection"), "close");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(backend.sent.length, 0);
    assert.equal(p.access()[0]?.reason, "malformed_body");
    assert.equal(p.stats.rejects.get("malformed_body"), 1);
  },
);

Deno.test(
  "createProxy() answers 400, not 502, when a streamed upload's framing breaks mid-send",
  env,
  async () => {
    const body = feed();
    let backendSaw = 0;
    // A transport that is sending the body when the client's framing breaks.
    const send: Send = async (request) => {
      const reader = (request.body as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        backendSaw += value.byteLength;
        if (backendSaw >= 70_000) body.error(INVALID_CHUNK());
      }
      return { status: 200, statusText: "OK", headers: [], body: null };
    };
    using p = await proxyWith(send);
    const answer = p.proxy(upload(body.stream), client);
    body.push(40_000);
    body.push(40_000);
    const res = await answer;
    assert.equal(res.status, 400);
    assert.equal(await res.text(), '{"error":"bad request"}');
    assert.ok(backendSaw > 0, "the upload had started streaming");
    const state = p.pool.states[0]!;
    assert.equal(state.stats.errors, 0, "the backend is not blamed");
    assert.equal(state.stats.inFlight, 0);
    assert.equal(p.logs.some((l) => l.msg === "backend request failed"), false);
    assert.equal(p.access()[0]?.reason, "malformed_body");
    assert.equal(p.stats.rejects.get("malformed_body"), 1);
  },
);

Deno.test(
  "createProxy() counts the bytes of the answers it writes itself",
  env,
  async (t) => {
    const backend = recorder();
    const sizeOf = (text: string) => new TextEncoder().encode(text).byteLength;
    await t.step("400", async () => {
      using p = await proxyWith(backend.send);
      const res = await p.proxy(new Request("http://example.com/a%2fb"), client);
      const text = await res.text();
      assert.equal(res.status, 400);
      assert.equal(p.access()[0]?.bytes, sizeOf(text));
      assert.equal(p.stats.bytesOut, sizeOf(text));
    });
    await t.step("429", async () => {
      const limiter = new RateLimiter({
        rate: 1,
        burst: 1,
        maxClients: 10,
        clock: new ManualClock(),
      });
      using p = await proxyWith(backend.send, { phases: [rateLimitPhase(limiter)] });
      (await p.proxy(new Request("http://example.com/"), client)).body?.cancel();
      const res = await p.proxy(new Request("http://example.com/"), client);
      const text = await res.text();
      assert.equal(res.status, 429);
      assert.equal(p.access()[1]?.bytes, sizeOf(text));
      assert.equal(p.stats.bytesOut, 2 + sizeOf(text), "the backend's 2 bytes, then the 429");
    });
    await t.step("503", async () => {
      using p = await proxyWith(backend.send, { available: () => false });
      const res = await p.proxy(new Request("http://example.com/"), client);
      const text = await res.text();
      assert.equal(res.status, 503);
      assert.equal(p.access()[0]?.bytes, sizeOf(text));
      assert.equal(p.stats.bytesOut, sizeOf(text));
    });
    await t.step("nothing for HEAD, which has no body", async () => {
      using p = await proxyWith(backend.send, { available: () => false });
      const res = await p.proxy(new Request("http://example.com/", { method: "HEAD" }), client);
      assert.equal(res.status, 503);
      await res.body?.cancel();
      assert.equal(p.access()[0]?.bytes, 0);
      assert.equal(p.stats.bytesOut, 0);
    });
  },
);
