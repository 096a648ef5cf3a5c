/**
 * The resolved configuration is always the expanded form: the flat file is
 * one listener and one pool named `default`, and whatever a listener or pool
 * leaves out it inherits from the top-level sections.
 */

import assert from "node:assert/strict";
import { stringify } from "yaml";
import {
  type Config,
  formatDiagnostic,
  parseConfig,
  printableConfig,
} from "../../src/config/mod.ts";
import { fakeResolver } from "../_helpers/config.ts";

const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};
const resolver = fakeResolver({ h: ["93.184.216.34"], g: ["93.184.216.35"] });

async function accept(text: string): Promise<Config> {
  const r = await parseConfig(text, { file: "aegis.yml", resolver });
  if (!r.ok) {
    assert.fail(r.diagnostics.map((d) => formatDiagnostic("aegis.yml", d)).join("\n"));
  }
  return r.config;
}

function yml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

/** A flat file that sets something in every section a listener or pool carries. */
const FLAT = yml(
  "server:",
  "  host: 127.0.0.1",
  "  port: 8080",
  "  read_timeout: 2s",
  "  max_connections: 900",
  "  shutdown_timeout: 7s",
  "backends:",
  "  - { url: http://h, weight: 2 }",
  "  - { url: http://g, weight: 1 }",
  "load_balancing: { algorithm: least_connections }",
  "health_check: { path: /healthz }",
  "circuit_breaker: { failure_threshold: 9 }",
  "retries: { attempts: 2 }",
  "upstream: { preserve_host: false }",
  "rate_limit: { burst: 300 }",
  "adaptive: { max_rate: 800 }",
  "security: { allowed_hosts: [example.com], allowed_backend_networks: [10.0.0.0/8] }",
);

/** The same file, written out in the expanded form. */
const EXPANDED = yml(
  "server: { shutdown_timeout: 7s }",
  "security: { allowed_backend_networks: [10.0.0.0/8] }",
  "listeners:",
  "  - name: default",
  "    address: 127.0.0.1:8080",
  "    read_timeout: 2s",
  "    max_connections: 900",
  "    rate_limit: { burst: 300 }",
  "    adaptive: { max_rate: 800 }",
  "    security: { allowed_hosts: [example.com] }",
  "    routes: [{ pool: default }]",
  "pools:",
  "  default:",
  "    backends:",
  "      - { url: http://h, weight: 2 }",
  "      - { url: http://g, weight: 1 }",
  "    load_balancing: { algorithm: least_connections }",
  "    health_check: { path: /healthz }",
  "    circuit_breaker: { failure_threshold: 9 }",
  "    retries: { attempts: 2 }",
  "    upstream: { preserve_host: false }",
);

Deno.test(
  "the flat file and its expanded form resolve to the same configuration",
  PARSE,
  async () => {
    const flat = await accept(FLAT);
    assert.deepEqual(await accept(EXPANDED), flat);
    assert.equal(flat.listeners.length, 1);
    assert.equal(flat.listeners[0]!.name, "default");
    assert.deepEqual(Object.keys(flat.pools), ["default"]);
  },
);

Deno.test(
  "the printed expanded form reads back to the same configuration",
  PARSE,
  async (t) => {
    const sources = {
      "a flat file": FLAT,
      "listeners and pools": yml(
        "listeners:",
        "  - name: web",
        "    address: '[::]:8080'",
        "    idle_timeout: 30s",
        "    routes:",
        "      - match: { host: api.example.com, path_prefix: /v1, methods: [GET] }",
        "        pool: api",
        "        strip_prefix: true",
        "      - pool: web",
        "  - name: admin-api",
        "    address: 127.0.0.1:8081",
        "    routes: [{ match: {}, pool: api }]",
        "pools:",
        "  api: { backends: [{ url: http://h, weight: 1 }], retries: { attempts: 0 } }",
        "  web: { backends: [{ url: http://g, weight: 1 }] }",
      ),
    };
    for (const [name, text] of Object.entries(sources)) {
      await t.step(name, async () => {
        const config = await accept(text);
        assert.deepEqual(await accept(stringify(printableConfig(config))), config);
      });
    }
  },
);

Deno.test(
  "a listener and a pool inherit every field they leave out, section by section",
  PARSE,
  async () => {
    const config = await accept(yml(
      "server: { write_timeout: 20s, max_body_bytes: 1000 }",
      "rate_limit: { requests_per_second: 50, burst: 60 }",
      "health_check: { interval: 30s, path: /up }",
      "security: { allowed_methods: [GET, POST] }",
      "listeners:",
      "  - name: web",
      "    address: 0.0.0.0:8080",
      "    max_body_bytes: 2000",
      "    rate_limit: { burst: 10 }",
      "    routes: [{ pool: api }]",
      "pools:",
      "  api:",
      "    backends: [{ url: http://h, weight: 1 }]",
      "    health_check: { path: /healthz }",
    ));
    const web = config.listeners[0]!;
    assert.equal(web.write_timeout, 20_000, "from server");
    assert.equal(web.max_body_bytes, 2000, "its own");
    assert.equal(web.read_timeout, 5000, "the default");
    assert.deepEqual(
      [web.rate_limit.requests_per_second, web.rate_limit.burst, web.rate_limit.max_clients],
      [50, 10, 100_000],
      "a section merges field by field: top level, own, default",
    );
    assert.deepEqual(web.security.allowed_methods, ["GET", "POST"]);
    const api = config.pools.api!;
    assert.deepEqual(
      [api.health_check.interval, api.health_check.path, api.health_check.timeout],
      [30_000, "/healthz", 3000],
    );
  },
);

Deno.test(
  "half of each form: listeners with flat backends, a flat server with pools",
  PARSE,
  async (t) => {
    await t.step("listeners route to the pool `default` the flat backends form", async () => {
      const config = await accept(yml(
        "listeners:",
        "  - { name: a, address: 0.0.0.0:8080, routes: [{ pool: default }] }",
        "  - { name: b, address: 0.0.0.0:8081, routes: [{ pool: default }] }",
        "backends: [{ url: http://h, weight: 1 }]",
      ));
      assert.deepEqual(config.listeners.map((l) => l.name), ["a", "b"]);
      assert.deepEqual(Object.keys(config.pools), ["default"]);
    });
    await t.step(
      "a flat server is the listener `default`, routing all to the pool `default`",
      async () => {
        const config = await accept(yml(
          "server: { port: 9000 }",
          "pools:",
          "  default: { backends: [{ url: http://h, weight: 1 }] }",
        ));
        assert.deepEqual(config.listeners.map((l) => [l.name, l.address, l.routes]), [
          ["default", "0.0.0.0:9000", [{ pool: "default", strip_prefix: false }]],
        ]);
      },
    );
  },
);

Deno.test("a route with an empty match block is the default route", PARSE, async () => {
  const config = await accept(yml(
    "listeners:",
    "  - name: web",
    "    address: 0.0.0.0:8080",
    "    routes: [{ match: {}, pool: default }]",
    "backends: [{ url: http://h, weight: 1 }]",
  ));
  assert.deepEqual(config.listeners[0]!.routes, [{ pool: "default", strip_prefix: false }]);
});
