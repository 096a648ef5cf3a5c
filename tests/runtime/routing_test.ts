/**
 * A listener's routes, fetch-shaped: real runtimes from real YAML, called
 * with `new Request(…)`, no sockets. Each pool's backend says which pool a
 * request reached.
 */

import assert from "node:assert/strict";
import { buildRuntime } from "../../src/runtime/mod.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import { testShared } from "../_helpers/runtime.ts";

const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const CLIENT = { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 } as const;

/** Pools named after the port of their one backend: `api` is 127.0.0.1:9001, and so on. */
const PORTS: Record<string, number> = { api: 9001, web: 9002, static: 9003, admin: 9004 };

async function listenerWith(routes: Array<Record<string, unknown>>) {
  const config = await parseTestConfig({
    listeners: [{ name: "front", address: "127.0.0.1:0", routes }],
    pools: Object.fromEntries(
      Object.entries(PORTS).map(([name, port]) => [name, {
        backends: [{ url: `http://127.0.0.1:${port}`, weight: 1 }],
      }]),
    ),
  });
  const t = testShared();
  const runtime = buildRuntime(config, t.shared);
  const handler = runtime.listeners.get("front")!.handler;
  /** The pool that answered (by its backend's port) and the target it got, or the status. */
  const call = async (url: string, init: RequestInit = {}) => {
    const res = await handler(new Request(url, init), CLIENT);
    const body = await res.text();
    if (res.status !== 200) return { status: res.status, body, headers: res.headers };
    const u = new URL(body);
    const pool = Object.keys(PORTS).find((name) => PORTS[name] === Number(u.port));
    return { status: 200, pool, target: body.slice(u.origin.length), headers: res.headers };
  };
  return { call, runtime, t, [Symbol.dispose]: () => t[Symbol.dispose]() };
}

Deno.test(
  "routes by exact host and by wildcard host, any case, the port ignored",
  yamlEnv,
  async () => {
    using l = await listenerWith([
      { match: { host: "api.example.com" }, pool: "api" },
      { match: { host: "*.example.com" }, pool: "web" },
      { pool: "static" },
    ]);
    assert.equal((await l.call("http://api.example.com/x")).pool, "api");
    assert.equal((await l.call("http://API.Example.COM:8443/x")).pool, "api");
    assert.equal((await l.call("http://www.example.com/x")).pool, "web");
    assert.equal((await l.call("http://a.b.example.com/x")).pool, "web");
    assert.equal(
      (await l.call("http://example.com/x")).pool,
      "static",
      "the wildcard is subdomains only",
    );
    assert.equal((await l.call("http://other.net/x")).pool, "static");
  },
);

Deno.test("routes by path prefix on segment boundaries only", yamlEnv, async () => {
  using l = await listenerWith([
    { match: { path_prefix: "/api" }, pool: "api" },
    { pool: "web" },
  ]);
  assert.equal((await l.call("http://h/api")).pool, "api");
  assert.equal((await l.call("http://h/api/users?id=1")).pool, "api");
  assert.equal((await l.call("http://h/apix")).pool, "web");
  assert.equal((await l.call("http://h/%61pi/x")).pool, "api", "an encoded letter is the letter");
});

Deno.test("strip_prefix sends the rest of the path, query kept", yamlEnv, async () => {
  using l = await listenerWith([
    { match: { path_prefix: "/api" }, pool: "api", strip_prefix: true },
    { match: { path_prefix: "/keep" }, pool: "web" },
  ]);
  assert.equal((await l.call("http://h/api/users?id=1")).target, "/users?id=1");
  assert.equal((await l.call("http://h/api")).target, "/");
  assert.equal((await l.call("http://h/keep/x")).target, "/keep/x");
});

Deno.test("routes by method, a route with methods before one without", yamlEnv, async () => {
  using l = await listenerWith([
    { match: { path_prefix: "/upload" }, pool: "web" },
    { match: { path_prefix: "/upload", methods: ["POST", "PUT"] }, pool: "api" },
  ]);
  assert.equal((await l.call("http://h/upload", { method: "POST", body: "x" })).pool, "api");
  assert.equal((await l.call("http://h/upload")).pool, "web");
});

Deno.test("the most specific route wins, then the order written", yamlEnv, async () => {
  using l = await listenerWith([
    { pool: "static" },
    { match: { host: "*.example.com" }, pool: "web" },
    { match: { host: "api.example.com", path_prefix: "/v1" }, pool: "api" },
    { match: { path_prefix: "/admin" }, pool: "admin" },
    { match: { path_prefix: "/admin" }, pool: "web" },
  ]);
  assert.equal((await l.call("http://api.example.com/v1/users")).pool, "api");
  assert.equal((await l.call("http://api.example.com/v2")).pool, "web");
  assert.equal((await l.call("http://other.net/admin/x")).pool, "admin", "declared first");
  assert.equal((await l.call("http://other.net/")).pool, "static");
});

Deno.test(
  "no route: 404 with the security headers, logged and counted like any answer",
  yamlEnv,
  async () => {
    using l = await listenerWith([{ match: { host: "api.example.com" }, pool: "api" }]);
    const res = await l.call("http://other.net/x");
    assert.equal(res.status, 404);
    assert.equal(res.body, '{"error":"no route"}');
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("server"), "aegis");
    assert.ok(res.headers.get("x-request-id"));
    const stats = l.t.shared.stats.get("front");
    assert.equal(stats.rejects.get("no_route"), 1);
    assert.equal(stats.responses["4xx"], 1);
    const line = l.t.logs.find((x) => x.msg === "request");
    assert.equal(line?.reason, "no_route");
    assert.equal(line?.status, 404);
    assert.equal(line?.listener, "front");
    assert.equal(line?.pool, "-");
  },
);

Deno.test("each pool keeps its own settings: the access log names the pool", yamlEnv, async () => {
  using l = await listenerWith([{ match: { path_prefix: "/api" }, pool: "api" }, { pool: "web" }]);
  await l.call("http://h/api/x");
  await l.call("http://h/y");
  const lines = l.t.logs.filter((x) => x.msg === "request");
  assert.deepEqual(lines.map((x) => [x.pool, x.backend]), [
    ["api", "http://127.0.0.1:9001"],
    ["web", "http://127.0.0.1:9002"],
  ]);
});
