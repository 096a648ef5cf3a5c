/** The admin API on its own listener: health, status, metrics, reload, drain. */

import assert from "node:assert/strict";
import { stringify } from "yaml";
import { loadConfigFile } from "../../src/config/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend, type TestBackend } from "../_helpers/backend.ts";
import { withTestTransport } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";

const TOKEN = "s3cret-admin-token-0123456789";

function named(name: string): TestBackend {
  return startBackend(() => new Response(name, { headers: { "x-backend": name } }));
}

/** Health checks that a busy test process cannot fail by being slow once. */
const steadyHealth = {
  health_check: {
    interval: "200ms",
    timeout: "200ms",
    healthy_threshold: 1,
    unhealthy_threshold: 3,
  },
};

/** YAML config data for loopback tests with an admin token. */
function configData(backends: string[], extra: Record<string, unknown> = {}) {
  return {
    server: { host: "127.0.0.1", port: 0 },
    backends: backends.map((url) => ({ url, weight: 1 })),
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0", token: TOKEN },
    // Quick, but not so tight that one slow probe in a busy test process flips a backend.
    health_check: {
      interval: "100ms",
      timeout: "100ms",
      healthy_threshold: 1,
      unhealthy_threshold: 2,
    },
    rate_limit: { exempt: ["127.0.0.0/8"] },
    ...extra,
  };
}

/** A config file that tests rewrite between reloads. */
async function configFile(data: Record<string, unknown>) {
  const dir = await Deno.makeTempDir({ prefix: "aegis-admin-" });
  const path = `${dir}/aegis.yml`;
  await Deno.writeTextFile(path, stringify(withTestTransport(data)));
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  return {
    path,
    config: loaded.config,
    write: (next: Record<string, unknown> | string) =>
      Deno.writeTextFile(
        path,
        typeof next === "string" ? next : stringify(withTestTransport(next)),
      ),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

const auth = { authorization: `Bearer ${TOKEN}` };

Deno.test("GET /health reports each backend, 200 while one can take traffic and 503 when none can", async () => {
  const a = named("a");
  await using file = await configFile(configData([a.url]));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const ok = await call(`${proxy.adminUrl}/health`);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json(), {
    status: "ok",
    draining: false,
    backends: [{
      pool: "default",
      url: a.url,
      health: "healthy",
      available: true,
      breaker: "closed",
      warmup_percent: 100,
    }],
    listeners: [{
      name: "default",
      protocol: "http",
      address: proxy.url,
      status: "ok",
      pools: ["default"],
    }],
    pools: [{ name: "default", status: "ok", available: 1, backends: 1 }],
  });
  await a.close();
  await until(
    () => proxy.aegis.pool.states[0]!.health.health === "unhealthy",
    "a marked unhealthy",
  );
  const down = await call(`${proxy.adminUrl}/health`);
  assert.equal(down.status, 503);
  assert.equal(down.json().status, "unavailable");
});

Deno.test("GET /status shows version, listeners, redacted config, counters, limiter and events", async () => {
  await using a = named("a");
  await using file = await configFile(configData([a.url]));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  await (await fetch(proxy.url)).text();
  const s = (await call(`${proxy.adminUrl}/status`)).json();
  assert.match(s.version, /^\d+\.\d+\.\d+/);
  assert.equal(s.listen.public, proxy.url);
  assert.equal(s.listen.admin, proxy.adminUrl);
  assert.equal(s.config.admin.token, "<redacted>");
  assert.equal(s.config.pools.default.backends[0].url, a.url);
  assert.equal(s.backends[0].requests, 1);
  assert.equal(typeof s.backends[0].latency_ms.p95, "number");
  assert.equal(s.limiter.rate, 100);
  assert.equal(s.drain.draining, false);
  assert.equal(s.drain.in_flight, 0);
  assert.ok(Array.isArray(s.events));
  assert.ok(!JSON.stringify(proxy.logs).includes(TOKEN), "the token is never logged");
});

Deno.test("GET /metrics serves Prometheus text with the seed's metric names", async () => {
  await using a = named("a");
  await using file = await configFile(configData([a.url]));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  await (await fetch(proxy.url)).text();
  const m = await call(`${proxy.adminUrl}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  for (
    const name of [
      "proxy_active_connections",
      "proxy_total_connections",
      "proxy_bytes_sent_total",
      "proxy_bytes_received_total",
      "proxy_latency_avg_ms",
      "proxy_latency_p99_ms",
      "proxy_backend_connections",
      "proxy_backend_requests_total",
      "proxy_backend_failures_total",
      "proxy_request_duration_seconds_bucket",
    ]
  ) assert.match(m.text, new RegExp(`^${name}[{ ]`, "m"), name);
  assert.match(
    m.text,
    new RegExp(`^proxy_backend_requests_total\\{pool="default",backend="${a.url}"\\} 1$`, "m"),
  );
});

Deno.test("the admin API answers unknown paths 404 and wrong methods 405, and is not on the public port", async () => {
  await using a = named("a");
  await using file = await configFile(configData([a.url]));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  assert.equal((await call(`${proxy.adminUrl}/nope`)).status, 404);
  const wrong = await call(`${proxy.adminUrl}/reload`);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "POST");
  assert.equal(
    (await call(`${proxy.adminUrl}/health`, { method: "POST", headers: auth })).status,
    405,
  );
  // On the public port, /status is just a path forwarded to the backend.
  assert.equal((await call(`${proxy.url}/status`)).text, "a");
});

Deno.test("POST /reload and /drain need the bearer token, compared exactly", async (t) => {
  await using a = named("a");
  await using file = await configFile(configData([a.url]));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  for (
    const [label, headers] of [
      ["no header", {}],
      ["wrong token", { authorization: "Bearer wrong-token-0000000000000" }],
      ["token prefix", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      ["basic scheme", { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` }],
    ] as const
  ) {
    await t.step(label, async () => {
      for (const path of ["/reload", "/drain"]) {
        const r = await call(`${proxy.adminUrl}${path}`, { method: "POST", headers });
        assert.equal(r.status, 401, `${path}: ${r.text}`);
        assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="aegis-admin"');
      }
    });
  }
  assert.equal(proxy.aegis.drainStatus().draining, false, "nothing was drained");
  const ok = await call(`${proxy.adminUrl}/reload`, { method: "POST", headers: auth });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(!JSON.stringify(proxy.logs).includes(TOKEN), "the token is never logged");
});

Deno.test("POST /reload with an invalid file answers 400 with every problem and changes nothing", async () => {
  await using a = named("a");
  await using file = await configFile(configData([a.url]));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  await file.write(
    "server:\n  port: 70000\nbackends:\n  - url: ftp://x\n    weight: 0\nbogus: 1\n",
  );
  const r = await call(`${proxy.adminUrl}/reload`, { method: "POST", headers: auth });
  assert.equal(r.status, 400);
  const body = r.json();
  assert.equal(body.error, "invalid configuration, nothing changed");
  assert.equal(body.problems.length, 4, JSON.stringify(body.problems));
  assert.match(body.problems[0], new RegExp(`^${file.path}:2:9 server\\.port:`));
  assert.equal(await (await fetch(proxy.url)).text(), "a", "the old configuration keeps serving");

  // A listener moved onto a port that is taken: refused, and the old socket keeps serving.
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  await file.write(configData([a.url], { server: { host: "127.0.0.1", port } }));
  const moved = await call(`${proxy.adminUrl}/reload`, { method: "POST", headers: auth });
  assert.equal(moved.status, 400);
  assert.deepEqual(moved.json().problems, [
    `listeners[default]: cannot listen on 127.0.0.1:${port}: address already in use; nothing changed`,
  ]);
  assert.equal(await (await fetch(proxy.url)).text(), "a", "still serving where it was");
});

Deno.test("a reload keeps the state of backends that stay, adds new ones unhealthy until checked, and retires removed ones", async () => {
  await using a = named("a");
  await using b = named("b");
  await using c = named("c");
  await using file = await configFile(configData([a.url, b.url], {
    circuit_breaker: { failure_threshold: 1, open_timeout: "1h" },
  }));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const stateOf = (url: string) => proxy.aegis.pool.states.find((s) => s.id === url);
  // Open b's breaker by hand, as real failures would.
  stateOf(b.url)!.breaker.acquire()!.failure();
  const aBefore = stateOf(a.url)!;
  await file.write(configData([a.url, b.url, c.url], {
    circuit_breaker: { failure_threshold: 1, open_timeout: "1h" },
    health_check: { interval: "1h", timeout: "1s", healthy_threshold: 1, unhealthy_threshold: 1 },
  }));
  const r = await call(`${proxy.adminUrl}/reload`, { method: "POST", headers: auth });
  assert.deepEqual(r.json(), {
    reloaded: true,
    added: [`default ${c.url}`],
    removed: [],
    kept: [`default ${a.url}`, `default ${b.url}`],
    listeners: { opened: [], closed: [], moved: [] },
  });
  assert.equal(stateOf(a.url), aBefore, "a is the same live object");
  assert.equal(stateOf(b.url)!.breaker.state, "open", "b's open breaker survived the reload");
  // c starts unhealthy; its first check (at once) brings it in at 25% weight.
  await until(() => stateOf(c.url)!.health.health === "healthy", "c passes its first check");
  assert.equal(stateOf(c.url)!.health.weightFraction, 0.25);
  assert.ok(proxy.aegis.events.recent().some((e) => e.kind === "reload" && e.fields.ok === true));

  await file.write(configData([a.url, c.url]));
  const again = await call(`${proxy.adminUrl}/reload`, { method: "POST", headers: auth });
  assert.deepEqual(again.json().removed, [`default ${b.url}`]);
  for (let i = 0; i < 20; i++) {
    const res = await fetch(proxy.url);
    assert.notEqual(res.headers.get("x-backend"), "b", "b gets no new requests");
    await res.body?.cancel();
  }
});

Deno.test("no client request fails while 20 reloads add and remove a backend under load", async () => {
  await using a = named("a");
  await using b = named("b");
  await using file = await configFile(configData([a.url], steadyHealth));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const failures: string[] = [];
  let sent = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      sent++;
      try {
        const res = await fetch(proxy.url);
        const text = await res.text();
        if (res.status !== 200) failures.push(`${res.status} ${text}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  };
  const loops = [loop(), loop(), loop(), loop()];
  try {
    for (let i = 0; i < 20; i++) {
      await file.write(configData(i % 2 === 0 ? [a.url, b.url] : [a.url], steadyHealth));
      const r = await call(`${proxy.adminUrl}/reload`, { method: "POST", headers: auth });
      assert.equal(r.status, 200, r.text);
      await new Promise((res) => setTimeout(res, 25));
    }
  } finally {
    running = false;
    await Promise.all(loops);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
  assert.ok(sent > 100, `only ${sent} requests were sent`);
});

Deno.test("POST /drain stops accepting, lets requests in progress finish, and reports progress", async () => {
  const gate = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  await using slow = startBackend(async (req) => {
    if (new URL(req.url).pathname === "/slow") {
      arrived.resolve();
      await gate.promise;
    }
    return new Response("done");
  });
  using _release = { [Symbol.dispose]: () => gate.resolve() };
  await using file = await configFile(configData([slow.url]));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const inFlight = [fetch(`${proxy.url}/slow`), fetch(`${proxy.url}/slow`)].map((p) =>
    p.then(
      async (r) => [r.status, await r.text()] as const,
      (e: unknown) => [0, String(e)] as const,
    )
  );
  await arrived.promise;
  const d = await call(`${proxy.adminUrl}/drain`, { method: "POST", headers: auth });
  assert.equal(d.status, 202);
  assert.equal(d.json().draining, true);
  const status = (await call(`${proxy.adminUrl}/status`)).json();
  assert.equal(status.drain.draining, true);
  assert.equal(status.drain.in_flight, 2, JSON.stringify(status.drain));
  await assert.rejects(fetch(proxy.url), "new connections are refused");
  gate.resolve();
  assert.deepEqual(await Promise.all(inFlight), [[200, "done"], [200, "done"]]);
  await until(() => proxy.aegis.drainStatus().connections === 0, "every connection closes");
  assert.equal(
    (await call(`${proxy.adminUrl}/health`)).json().draining,
    true,
    "the admin API still answers",
  );
});

Deno.test("draining under load: every request that was accepted completes", async () => {
  await using backend = startBackend(async () => {
    await new Promise((r) => setTimeout(r, 20));
    return new Response("ok");
  });
  await using file = await configFile(configData([backend.url], steadyHealth));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const results: Array<number | string> = [];
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        const res = await fetch(proxy.url, { headers: { connection: "close" } });
        await res.text();
        results.push(res.status);
      } catch (e) {
        // Refused after the drain began: never accepted, so nothing was lost.
        if (!proxy.aegis.drainStatus().draining) results.push(String(e));
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const loops = [loop(), loop(), loop(), loop()];
  await until(() => results.length >= 40, "traffic before the drain");
  const r = await call(`${proxy.adminUrl}/drain`, { method: "POST", headers: auth });
  assert.equal(r.status, 202);
  await until(() => proxy.aegis.drainStatus().connections === 0, "drained");
  running = false;
  await Promise.all(loops);
  const failed = results.filter((x) => x !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${results.length} accepted requests failed`);
});
