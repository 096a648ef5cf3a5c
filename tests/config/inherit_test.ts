/**
 * What a listener or pool inherits is checked with what it sets itself, and
 * what is valid but probably a mistake is a positioned warning.
 */

import assert from "node:assert/strict";
import { listener, PARSE, POOLS, problems, warnings, yml } from "./_topology.ts";

Deno.test("settings a listener or pool inherits are checked with its own", PARSE, async (t) => {
  await t.step("a pool's health check timeout against the inherited interval", async () => {
    assert.deepEqual(
      await problems(yml(
        "health_check: { interval: 5s }",
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        "pools:",
        "  web:",
        "    backends: [{ url: http://h, weight: 1 }]",
        "    health_check: { timeout: 6s }",
      )),
      ["aegis.yml:10:30 pools.web.health_check.timeout: must not exceed health_check.interval"],
    );
  });
  await t.step("a listener's rate against the inherited adaptive range", async () => {
    assert.deepEqual(
      await problems(yml(
        "adaptive: { min_rate: 50 }",
        "listeners:",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    rate_limit: { requests_per_second: 20 }",
        "    routes: [{ pool: web }]",
        ...POOLS,
      )),
      [
        "aegis.yml:5:40 listeners[0].rate_limit.requests_per_second: 20 is outside the adaptive range 50–500 (adaptive.min_rate, adaptive.max_rate)",
      ],
    );
  });
  await t.step("a pool on the fetch transport with an inherited server_name", async () => {
    assert.deepEqual(
      await problems(yml(
        "upstream: { server_name: api.internal }",
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        "pools:",
        "  web:",
        "    backends: [{ url: https://h, weight: 1 }]",
        "    upstream: { transport: fetch }",
      )),
      [
        "aegis.yml:10:28 pools.web.upstream.transport: server_name needs the h1 transport: the runtime's fetch can only send and verify the URL's own host (use transport h1 or auto)",
      ],
    );
  });
  await t.step("a URL twice in one pool, but not once in each of two", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        "      - pool: api",
        "pools:",
        "  web:",
        "    backends: [{ url: http://h, weight: 1 }, { url: 'http://h:80/', weight: 1 }]",
        "  api:",
        "    backends: [{ url: http://h, weight: 1 }]",
      )),
      [
        "aegis.yml:9:53 pools.web.backends[1].url: duplicate of pools.web.backends[0].url (http://h:80/)",
      ],
    );
  });
});

Deno.test("what is valid but probably a mistake is a positioned warning", PARSE, async (t) => {
  await t.step("a pool no route uses", async () => {
    assert.deepEqual(
      await warnings(yml(
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        ...POOLS,
        "  spare:",
        "    backends: [{ url: http://h, weight: 1 }]",
      )),
      ["aegis.yml:10:3 pools.spare: warning: no route uses this pool"],
    );
  });
  await t.step("a pool the flat server's one route does not use", async () => {
    assert.deepEqual(
      await warnings(yml(
        "server: { port: 8080 }",
        "pools:",
        "  default: { backends: [{ url: http://h, weight: 1 }] }",
        "  spare: { backends: [{ url: http://h, weight: 1 }] }",
      )),
      ["aegis.yml:4:3 pools.spare: warning: no route uses this pool"],
    );
  });
  await t.step("a route with the same match as one before it", async () => {
    assert.deepEqual(
      await warnings(yml(
        "listeners:",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    routes:",
        "      - { match: { path_prefix: /api/, methods: [POST, GET] }, pool: web }",
        "      - { pool: web }",
        "      - { match: { path_prefix: /api, methods: [GET, POST] }, pool: web }",
        ...POOLS,
      )),
      [
        "aegis.yml:7:9 listeners[0].routes[2]: warning: never taken: routes[0] of this listener has the same match",
      ],
    );
  });
  await t.step("none for a flat file", async () => {
    assert.deepEqual(await warnings(yml("backends: [{ url: http://h, weight: 1 }]")), []);
  });
});
