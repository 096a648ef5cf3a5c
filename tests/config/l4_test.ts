/**
 * L4 listeners in the configuration: tcp and udp listeners forward to one
 * pool of `address` backends, http listeners route to pools of `url`
 * backends, and every mix-up is an error where it is written. Real YAML
 * through the real loader.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { fakeResolver } from "../_helpers/config.ts";
import { PARSE, problems, warnings, yml } from "./_topology.ts";

/** A tcp and a udp listener on one address, each to its pool; an http listener too. */
const L4 = yml(
  "listeners:",
  "  - name: web",
  "    address: 0.0.0.0:8080",
  "    routes: [{ pool: web }]",
  "  - name: db",
  "    protocol: tcp",
  "    address: 0.0.0.0:5432",
  "    pool: pg",
  "    accept_proxy_protocol: [10.0.0.0/8]",
  "    allow: [10.0.0.0/8, 192.0.2.0/24]",
  "    deny: [10.9.0.0/16]",
  "  - name: dns",
  "    protocol: udp",
  "    address: 0.0.0.0:5432",
  "    pool: dns",
  "    udp: { session_timeout: 10s }",
  "pools:",
  "  web:",
  "    backends: [{ url: http://h, weight: 1 }]",
  "  pg:",
  "    backends: [{ address: h:5432, weight: 2 }, { address: '[2001:db8::7]:5432', weight: 1 }]",
  "    upstream: { proxy_protocol: v2 }",
  "  dns:",
  "    backends: [{ address: h:53, weight: 1 }]",
);

const resolver = fakeResolver({ h: ["93.184.216.34"] });

Deno.test("tcp and udp listeners resolve with their pool and settings", PARSE, async () => {
  const r = await parseConfig(L4, { file: "aegis.yml", resolver });
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.diagnostics));
  const [web, db, dns] = r.config.listeners;
  assert.deepEqual(web!.routes, [{ pool: "web", strip_prefix: false }]);
  assert.equal(web!.pool, undefined);
  assert.equal(db!.protocol, "tcp");
  assert.equal(db!.pool, "pg");
  assert.equal(db!.routes, undefined, "an L4 listener has no routes");
  assert.deepEqual(db!.accept_proxy_protocol, ["10.0.0.0/8"]);
  assert.deepEqual(db!.deny, ["10.9.0.0/16"]);
  assert.equal(db!.udp, undefined, "the NAT table belongs to udp listeners");
  assert.deepEqual(dns!.udp, { session_timeout: 10_000, max_sessions: 10_000, reply_timeout: 0 });
  assert.equal(r.config.pools.pg!.upstream.proxy_protocol, "v2");
  assert.equal(r.config.pools.pg!.health_check.path, undefined, "tcp pools: connect checks");
  assert.equal(r.config.pools.web!.health_check.path, "/health");
});

Deno.test("an L4 pool with a health_check.path is checked over HTTP", PARSE, async () => {
  const text = L4.replace("upstream: { proxy_protocol: v2 }", "health_check: { path: /ready }");
  const r = await parseConfig(text, { file: "aegis.yml", resolver });
  assert.ok(r.ok);
  assert.equal(r.config.pools.pg!.health_check.path, "/ready");
});

Deno.test("L4 mix-ups are errors where they are written", PARSE, async (t) => {
  const pools = [
    "pools:",
    "  web:",
    "    backends: [{ url: http://h, weight: 1 }]",
    "  pg:",
    "    backends: [{ address: h:5432, weight: 1 }]",
  ];
  await t.step("an http route to an L4 pool, a tcp listener to an http pool", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    routes: [{ pool: pg }]",
        "  - name: db",
        "    protocol: tcp",
        "    address: 0.0.0.0:5432",
        "    pool: web",
        ...pools,
      )),
      [
        'aegis.yml:4:22 listeners[0].routes[0].pool: pool "pg" has address backends, for tcp and udp listeners; an http listener\'s routes need a pool of url backends',
        'aegis.yml:8:11 listeners[1].pool: pool "web" has url backends; a tcp listener needs a pool of address backends (address: host:port)',
      ],
    );
  });
  await t.step("a pool that mixes kinds, a backend with both or a bad address", async () => {
    const found = await problems(yml(
      "listeners:",
      "  - name: db",
      "    protocol: tcp",
      "    address: 0.0.0.0:5432",
      "    pool: pg",
      "pools:",
      "  pg:",
      "    backends:",
      "      - { address: h:5432, weight: 1 }",
      "      - { address: h:5433, weight: 1 }",
      "      - { url: http://h, weight: 1 }",
      "      - { url: http://h:81, address: h:1, weight: 1 }",
      "      - { address: h, weight: 1 }",
      "      - { address: 'h:0', weight: 1 }",
    ));
    assert.deepEqual(found, [
      'aegis.yml:11:9 pools.pg.backends[2]: pool "pg" mixes url and address backends: a pool serves http listeners (url) or L4 listeners (address); give every backend an address',
      "aegis.yml:12:38 pools.pg.backends[3].address: a backend has a url (http pools) or an address (L4 pools), not both",
      'aegis.yml:13:20 pools.pg.backends[4].address: "h" is not host:port (for IPv6 use [2001:db8::1]:5432)',
      "aegis.yml:14:20 pools.pg.backends[5].address: port 0 is out of range: must be 1–65535",
    ]);
  });
  await t.step("protocol settings on the wrong listener", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    pool: web",
        "    accept_proxy_protocol: [10.0.0.0/8]",
        "  - name: db",
        "    protocol: tcp",
        "    address: 0.0.0.0:5432",
        "    pool: pg",
        "    udp: { max_sessions: 5 }",
        ...pools,
      )),
      [
        "aegis.yml:2:5 listeners[0].routes: is required for an http listener",
        "aegis.yml:4:11 listeners[0].pool: is for tcp and udp listeners; an http listener sends requests by its routes",
        "aegis.yml:5:28 listeners[0].accept_proxy_protocol: the PROXY protocol is accepted on tcp listeners only",
        "aegis.yml:10:10 listeners[1].udp: is for udp listeners only",
      ],
    );
  });
  await t.step("a tcp listener takes a TCP port from an http one; udp does not", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    routes: [{ pool: web }]",
        "  - name: db",
        "    protocol: tcp",
        "    address: 127.0.0.1:8080",
        "    pool: pg",
        "  - name: dns",
        "    protocol: udp",
        "    address: 127.0.0.1:8080",
        "    pool: pg",
        ...pools,
      )),
      [
        'aegis.yml:7:14 listeners[1].address: "127.0.0.1:8080" is taken by listeners[0] (0.0.0.0:8080)',
      ],
    );
  });
  await t.step("the flat form's backends are http backends", async () => {
    assert.deepEqual(
      await problems(yml("backends:", "  - { address: h:5432, weight: 1 }")),
      [
        "aegis.yml:2:16 backends[0].address: the top-level backends serve the flat form's http listener: give each a url, or declare listeners and pools for L4",
      ],
    );
  });
});

Deno.test("a pool an L4 listener forwards to is used", PARSE, async () => {
  assert.deepEqual(await warnings(L4), []);
});

Deno.test("L4 backend addresses pass the SSRF check like URLs", PARSE, async () => {
  const r = await parseConfig(
    yml(
      "listeners:",
      "  - name: db",
      "    protocol: tcp",
      "    address: 0.0.0.0:5432",
      "    pool: pg",
      "pools:",
      "  pg:",
      "    backends: [{ address: 10.0.0.7:5432, weight: 1 }]",
    ),
    { file: "aegis.yml", resolver },
  );
  assert.equal(r.ok, false);
  assert.match(
    r.ok ? "" : r.diagnostics[0]!.message,
    /10\.0\.0\.7 is a private address, refused to prevent SSRF/,
  );
});

Deno.test("udp.reply_timeout: 0s turns it off, as its documentation says", PARSE, async () => {
  const text = L4.replace("udp: { session_timeout: 10s }", "udp: { reply_timeout: 0s }");
  const r = await parseConfig(text, { file: "aegis.yml", resolver });
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.diagnostics));
  assert.equal(r.config.listeners[2]!.udp!.reply_timeout, 0);
});
