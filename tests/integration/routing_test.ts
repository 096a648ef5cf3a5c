/**
 * Two pools behind one listener, through real sockets: real backends on
 * 127.0.0.1, real YAML through the real loader, requests split by host and
 * by path prefix.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend, type TestBackend } from "../_helpers/backend.ts";
import { parseTestConfig } from "../_helpers/config.ts";

/** A backend that answers with its name and the target it received. */
function named(name: string): TestBackend {
  return startBackend((_request, seen) =>
    new Response(`${name} ${seen.target}`, { headers: { "x-backend": name } })
  );
}

/** Health checks that stay out of the way. */
const quiet = { health_check: { interval: "1h" } };

Deno.test("one listener, two pools: split by host, by path prefix, with the prefix stripped", async () => {
  await using api = named("api");
  await using web = named("web");
  const config = await parseTestConfig({
    ...quiet,
    listeners: [{
      name: "front",
      address: "127.0.0.1:0",
      routes: [
        { match: { host: "api.example.test" }, pool: "api" },
        { match: { path_prefix: "/api" }, pool: "api", strip_prefix: true },
        { pool: "web" },
      ],
    }],
    pools: {
      api: { backends: [{ url: api.url, weight: 1 }] },
      web: { backends: [{ url: web.url, weight: 1 }] },
    },
  });
  await using proxy = startTestAegis(config);
  // The runtime's fetch sends a Host header only through a client that allows it.
  using client = Deno.createHttpClient({ allowHost: true });
  const get = async (path: string, host?: string) => {
    const res = await fetch(`${proxy.url}${path}`, {
      client,
      headers: host ? { host } : {},
    });
    return `${res.status} ${await res.text()}`;
  };
  assert.equal(await get("/users", "api.example.test"), "200 api /users");
  assert.equal(await get("/users", "API.Example.Test:8080"), "200 api /users");
  assert.equal(await get("/api/users?id=1"), "200 api /users?id=1");
  assert.equal(await get("/apix"), "200 web /apix");
  assert.equal(await get("/"), "200 web /");
  assert.equal(api.received.length, 3);
  assert.equal(web.received.length, 2);
  const lines = proxy.accessLogs().map((l) => l.pool);
  assert.deepEqual(lines, ["api", "api", "api", "web", "web"]);
});

Deno.test("a request no route takes gets 404 with the security headers, and nothing is forwarded", async () => {
  await using api = named("api");
  const config = await parseTestConfig({
    ...quiet,
    listeners: [{
      name: "front",
      address: "127.0.0.1:0",
      routes: [{ match: { path_prefix: "/api" }, pool: "api" }],
    }],
    pools: { api: { backends: [{ url: api.url, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const res = await fetch(`${proxy.url}/elsewhere`);
  assert.equal(res.status, 404);
  assert.equal(await res.text(), '{"error":"no route"}');
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.equal(res.headers.get("server"), "aegis");
  assert.equal(api.received.length, 0);
  assert.equal(proxy.accessLogs()[0]!.reason, "no_route");
});

Deno.test("each pool has its own balancing and retries: a pool's failure stays in that pool", async () => {
  await using good = named("good");
  await using spare = named("spare");
  await using other = named("other");
  const config = await parseTestConfig({
    ...quiet,
    listeners: [{
      name: "front",
      address: "127.0.0.1:0",
      routes: [{ match: { path_prefix: "/a" }, pool: "a" }, { pool: "b" }],
    }],
    pools: {
      a: {
        backends: [{ url: good.url, weight: 1 }, { url: spare.url, weight: 1 }],
        load_balancing: { algorithm: "round_robin" },
      },
      b: { backends: [{ url: other.url, weight: 1 }] },
    },
  });
  await using proxy = startTestAegis(config);
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${proxy.url}/a/x`);
    seen.push(res.headers.get("x-backend")!);
    await res.body?.cancel();
  }
  assert.deepEqual(seen.toSorted(), ["good", "good", "spare", "spare"], "round robin within a");
  assert.equal(other.received.length, 0, "pool b never saw pool a's traffic");
  assert.deepEqual([...proxy.aegis.pools.keys()], ["a", "b"]);
});
