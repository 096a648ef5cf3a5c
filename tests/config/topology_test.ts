/**
 * The topology of a configuration: listeners, routes and pools, and the two
 * forms. Every problem is positioned; real YAML through the real loader.
 */

import assert from "node:assert/strict";
import { listener, PARSE, POOLS, problems, warnings, yml } from "./_topology.ts";

Deno.test("mixing the two forms is an error at the key that has to go", PARSE, async (t) => {
  await t.step("listeners with server.host and server.port", async () => {
    assert.deepEqual(
      await problems(yml(
        "server:",
        "  host: 127.0.0.1",
        "  port: 8080",
        "  read_timeout: 2s",
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        ...POOLS,
      )),
      [
        "aegis.yml:2:9 server.host: listeners replace server.host and server.port: give each listener an address",
        "aegis.yml:3:9 server.port: listeners replace server.host and server.port: give each listener an address",
      ],
    );
  });
  await t.step("pools with the top-level backends", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        ...listener("web", "0.0.0.0:8080"),
        "backends:",
        "  - { url: http://h, weight: 1 }",
        ...POOLS,
      )),
      [
        "aegis.yml:7:3 backends: pools replace the top-level backends: move these into a pool (the flat form's is named default)",
      ],
    );
  });
  await t.step("a flat server with pools that have no default", async () => {
    assert.deepEqual(await problems(yml("server:", "  port: 8080", ...POOLS)), [
      "aegis.yml:4:3 pools: without listeners every request goes to the pool named default: add it, or declare listeners",
    ]);
  });
  await t.step("neither backends nor pools", async () => {
    assert.deepEqual(await problems(yml("listeners:", ...listener("web", "0.0.0.0:8080"))), [
      "aegis.yml:1:1 backends: is required",
    ]);
  });
});

Deno.test(
  "listeners have unique names and addresses, apart from the admin API's",
  PARSE,
  async (t) => {
    await t.step("two listeners with one name", async () => {
      assert.deepEqual(
        await problems(yml(
          "listeners:",
          ...listener("web", "0.0.0.0:8080"),
          ...listener("web", "0.0.0.0:8081"),
          ...POOLS,
        )),
        ['aegis.yml:6:11 listeners[1].name: duplicate of listeners[0].name ("web")'],
      );
    });
    await t.step("two listeners on one address, or one port under a wildcard host", async () => {
      assert.deepEqual(
        await problems(yml(
          "listeners:",
          ...listener("a", "127.0.0.1:8080"),
          ...listener("b", "127.0.0.1:8080"),
          ...listener("c", "0.0.0.0:8081"),
          ...listener("d", "127.0.0.2:8081"),
          ...listener("e", "127.0.0.1:0"),
          ...listener("f", "127.0.0.1:0"),
          ...POOLS,
        )),
        [
          'aegis.yml:7:14 listeners[1].address: "127.0.0.1:8080" is taken by listeners[0] (127.0.0.1:8080)',
          'aegis.yml:15:14 listeners[3].address: "127.0.0.2:8081" is taken by listeners[2] (0.0.0.0:8081)',
        ],
      );
    });
    await t.step("a listener on the admin API's address", async () => {
      assert.deepEqual(
        await problems(yml(
          "admin:",
          "  address: 127.0.0.1:9090",
          "listeners:",
          ...listener("web", "0.0.0.0:9090"),
          ...POOLS,
        )),
        ['aegis.yml:2:12 admin.address: "127.0.0.1:9090" is taken by listeners[0].address (0.0.0.0:9090)'],
      );
    });
    await t.step("the flat form's listener and the admin API", async () => {
      assert.deepEqual(
        await problems(yml(
          "server: { host: 127.0.0.1, port: 9090 }",
          "backends: [{ url: http://h, weight: 1 }]",
        )),
        ['aegis.yml:1:1 admin.address: "127.0.0.1:9090" is taken by server.port (127.0.0.1:9090)'],
      );
    });
    await t.step("the metrics listener on a listener's or the admin API's address", async () => {
      assert.deepEqual(
        await problems(yml(
          "admin:",
          "  metrics_address: 0.0.0.0:8080",
          "listeners:",
          ...listener("web", "127.0.0.1:8080"),
          ...POOLS,
        )),
        [
          'aegis.yml:2:20 admin.metrics_address: "0.0.0.0:8080" is taken by listeners[0].address (127.0.0.1:8080)',
        ],
      );
      assert.deepEqual(
        await problems(yml(
          "admin:",
          "  metrics_address: 127.0.0.1:9090",
          "backends: [{ url: http://h, weight: 1 }]",
        )),
        [
          'aegis.yml:2:20 admin.metrics_address: "127.0.0.1:9090" is taken by admin.address (127.0.0.1:9090)',
        ],
      );
    });
    await t.step("the metrics listener beside a udp listener on its port", async () => {
      assert.deepEqual(
        await warnings(yml(
          "admin:",
          "  metrics_address: 127.0.0.1:9091",
          "listeners:",
          ...listener("web", "127.0.0.1:8080"),
          "  - { name: dns, protocol: udp, address: 127.0.0.1:9091, pool: dns }",
          ...POOLS,
          "  dns:",
          "    backends: [{ address: h:53, weight: 1 }]",
        )),
        [],
      );
    });
  },
);

Deno.test("a listener's own fields are checked where they are written", PARSE, async (t) => {
  await t.step("an L4 listener names a pool instead of routes", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: dns",
        "    protocol: udp",
        "    address: 0.0.0.0:53",
        "    routes: [{ pool: web }]",
        ...POOLS,
      )),
      [
        "aegis.yml:2:5 listeners[0].pool: is required for a udp listener",
        "aegis.yml:5:13 listeners[0].routes: a udp listener forwards to one pool: write pool: NAME instead of routes",
      ],
    );
  });
  await t.step("names, addresses and an empty route list", async () => {
    const found = await problems(yml(
      "listeners:",
      "  - name: Web",
      "    address: localhost",
      "    routes: []",
      ...POOLS,
    ));
    assert.deepEqual(found, [
      'aegis.yml:2:11 listeners[0].name: "Web" is not a name: use lower-case letters, digits, _ and - (starting with a letter or digit), at most 63 characters',
      'aegis.yml:3:14 listeners[0].address: "localhost" is not host:port (for IPv6 use [::1]:9090)',
      "aegis.yml:4:13 listeners[0].routes: needs at least 1 item",
    ]);
  });
  await t.step("overrides take only the fields of the section they override", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    security: { allowed_backend_networks: [10.0.0.0/8] }",
        "    rate_limit: { burst: 0 }",
        "    routes: [{ pool: web }]",
        ...POOLS,
      )),
      [
        'aegis.yml:4:17 listeners[0].security.allowed_backend_networks: unknown key "allowed_backend_networks"; expected one of: allowed_methods, allowed_hosts, hsts',
        "aegis.yml:5:26 listeners[0].rate_limit.burst: 0 is out of range: must be ≥ 1",
      ],
    );
  });
  await t.step("a pool name that is not a name", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        ...listener("web", "0.0.0.0:8080", "web"),
        "pools:",
        "  web:",
        "    backends: [{ url: http://h, weight: 1 }]",
        "  Bad Pool:",
        "    backends: [{ url: http://h, weight: 1 }]",
      )),
      [
        'aegis.yml:9:3 pools: "Bad Pool" is not a name: use lower-case letters, digits, _ and - (starting with a letter or digit), at most 63 characters',
      ],
    );
  });
});

Deno.test("routes name pools that exist, and strip a prefix they have", PARSE, async (t) => {
  await t.step("a route to a missing pool", async () => {
    assert.deepEqual(
      await problems(yml("listeners:", ...listener("web", "0.0.0.0:8080", "api"), ...POOLS)),
      ['aegis.yml:5:15 listeners[0].routes[0].pool: no pool named "api" (pools: web)'],
    );
  });
  await t.step("a route to `toString` finds no pool either", async () => {
    assert.deepEqual(
      await problems(yml("listeners:", ...listener("web", "0.0.0.0:8080", "tostring"), ...POOLS)),
      ['aegis.yml:5:15 listeners[0].routes[0].pool: no pool named "tostring" (pools: web)'],
    );
  });
  await t.step("strip_prefix without a path prefix", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    routes:",
        "      - match: { host: api.example.com }",
        "        pool: web",
        "        strip_prefix: true",
        ...POOLS,
      )),
      [
        "aegis.yml:7:23 listeners[0].routes[0].strip_prefix: needs match.path_prefix: there is no prefix to strip",
      ],
    );
  });
  await t.step("hosts without ports, prefixes that are paths, methods in upper case", async () => {
    assert.deepEqual(
      await problems(yml(
        "listeners:",
        "  - name: web",
        "    address: 0.0.0.0:8080",
        "    routes:",
        "      - match: { host: 'api.example.com:8080', path_prefix: api, methods: [get] }",
        "        pool: web",
        "      - match: { host: 'a..b', path_prefix: '/a/../b' }",
        "        pool: web",
        ...POOLS,
      )),
      [
        'aegis.yml:5:24 listeners[0].routes[0].match.host: "api.example.com:8080" has a port: routes match the host alone',
        "aegis.yml:5:61 listeners[0].routes[0].match.path_prefix: must start with /",
        "aegis.yml:5:76 listeners[0].routes[0].match.methods[0]: methods are case-sensitive: write GET",
        'aegis.yml:7:24 listeners[0].routes[1].match.host: "a..b" is not a host name or a *.domain pattern',
        'aegis.yml:7:45 listeners[0].routes[1].match.path_prefix: "/a/../b" has a . or .. segment, which no request that passes validation has',
      ],
    );
  });
});
