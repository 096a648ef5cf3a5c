/** `rate_limit.store`: defaults, positioned errors, and a password never printed. */

import assert from "node:assert/strict";
import { formatDiagnostic, parseConfig, printableConfig } from "../../src/config/mod.ts";
import { checkRedisUrl, redactRedisUrl } from "../../src/config/redis_url.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** npm:yaml reads these to decide whether to trace. */
const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};
const FILE = "aegis.yml";
const BACKEND = "backends: [{url: http://93.184.216.34, weight: 1}]";

function parse(text: string) {
  return parseConfig(`${BACKEND}\n${text}\n`, { file: FILE, resolver: fakeResolver({}) });
}

async function problems(text: string): Promise<string[]> {
  const r = await parse(text);
  return r.ok ? [] : r.diagnostics.map((d) => formatDiagnostic(FILE, d));
}

Deno.test("rate_limit.store is local by default", PARSE, async () => {
  const r = await parse("");
  assert.ok(r.ok);
  assert.deepEqual(r.config.listeners[0]!.rate_limit.store, {
    type: "local",
    url: "",
    sync_interval: 100,
  });
});

Deno.test(
  "a redis store is taken as written, and a listener's replaces the top-level one",
  PARSE,
  async () => {
    const r = await parse([
      "rate_limit:",
      "  store: { type: redis, url: 'rediss://cache.internal:6380/2', sync_interval: 250ms }",
    ].join("\n"));
    assert.ok(r.ok);
    assert.deepEqual(r.config.listeners[0]!.rate_limit.store, {
      type: "redis",
      url: "rediss://cache.internal:6380/2",
      sync_interval: 250,
    });
  },
);

Deno.test(
  "rate_limit.store with bad values gives positioned errors that never echo the URL",
  PARSE,
  async (t) => {
    const cases: Array<[string, string]> = [
      [
        "  store: { type: redis }",
        "aegis.yml:3:18 rate_limit.store.type: redis needs rate_limit.store.url (for example redis://127.0.0.1:6379)",
      ],
      [
        "  store: { url: 'redis://h:1' }",
        "aegis.yml:3:17 rate_limit.store.url: is set but type is local: set type: redis",
      ],
      [
        "  store: { type: memcached }",
        'aegis.yml:3:18 rate_limit.store.type: must be one of local, redis; found "memcached"',
      ],
      [
        "  store: { type: redis, url: 'http://:hunter2@h:6379' }",
        "aegis.yml:3:30 rate_limit.store.url: scheme must be redis or rediss, not http",
      ],
      [
        "  store: { type: redis, url: 'redis://:hunter2@cache' }",
        "aegis.yml:3:30 rate_limit.store.url: needs a port (for example redis://127.0.0.1:6379)",
      ],
      [
        "  store: { type: redis, url: 'redis://:hunter2@:6379' }",
        "aegis.yml:3:30 rate_limit.store.url: is not a URL (for example redis://127.0.0.1:6379)",
      ],
      [
        "  store: { type: redis, url: 'redis://:hunter2@cache:6379/users' }",
        "aegis.yml:3:30 rate_limit.store.url: path must be a database number, such as /0",
      ],
      [
        "  store: { type: redis, url: 'redis://:hunter2@cache:6379?db=1' }",
        "aegis.yml:3:30 rate_limit.store.url: must not have a query string or fragment",
      ],
      [
        "  store: { type: redis, url: 'redis://:hunter2@cache:99999' }",
        "aegis.yml:3:30 rate_limit.store.url: is not a URL (for example redis://127.0.0.1:6379)",
      ],
      [
        "  store: { type: redis, url: 'redis://h:1', sync_interval: 1m }",
        'aegis.yml:3:60 rate_limit.store.sync_interval: "1m" is out of range: must be at most 10s',
      ],
    ];
    for (const [store, expected] of cases) {
      await t.step(store.trim(), async () => {
        const found = await problems(`rate_limit:\n${store}`);
        assert.deepEqual(found, [expected]);
        assert.ok(!found.join("").includes("hunter2"));
      });
    }
  },
);

Deno.test(
  "a listener writing type redis without a url is told so at its own line",
  PARSE,
  async () => {
    const found = await problems(
      [
        "rate_limit:",
        "  store: { type: redis, url: 'redis://h:6379' }",
        "listeners:",
        "  - name: web",
        "    address: 127.0.0.1:8080",
        "    routes: [{ pool: p }]",
        "    rate_limit: { store: { type: redis } }",
        "pools:",
        "  p: { backends: [{ url: 'http://93.184.216.34', weight: 1 }] }",
      ].join("\n").replace(BACKEND, ""),
    );
    assert.deepEqual(
      found.filter((p) => p.includes("store")),
      [
        "aegis.yml:8:34 listeners[0].rate_limit.store.type: redis needs rate_limit.store.url (for example redis://127.0.0.1:6379)",
      ],
    );
  },
);

Deno.test(
  "the store URL's password is redacted where the configuration is printed",
  PARSE,
  async () => {
    const r = await parse(
      "rate_limit:\n  store: { type: redis, url: 'redis://app:hunter2@cache:6379/1' }",
    );
    assert.ok(r.ok);
    const printed = JSON.stringify(printableConfig(r.config));
    assert.ok(!printed.includes("hunter2"));
    assert.ok(printed.includes('"url":"redis://app:<redacted>@cache:6379/1"'));
  },
);

Deno.test("checkRedisUrl() and redactRedisUrl()", { permissions: "none" }, () => {
  assert.equal(checkRedisUrl(""), undefined, "empty: no store");
  assert.equal(checkRedisUrl("redis://127.0.0.1:6379"), undefined);
  assert.equal(checkRedisUrl("redis://[::1]:6379/0"), undefined);
  assert.equal(checkRedisUrl("rediss://user:pw@cache.example:6380/15"), undefined);
  assert.equal(redactRedisUrl("redis://h:1"), "redis://h:1");
  assert.equal(redactRedisUrl("redis://:pw@h:1"), "redis://:<redacted>@h:1");
  assert.equal(redactRedisUrl("redis://user:p:w@h:1/0"), "redis://user:<redacted>@h:1/0");
  assert.equal(redactRedisUrl("redis://token@h:1"), "redis://<redacted>@h:1");
});
