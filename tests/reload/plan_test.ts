/** planReload(): what a reload does, from two plain configurations, no socket. */

import assert from "node:assert/strict";
import type { Config, PoolConfig } from "../../src/config/mod.ts";
import { planReload, type ReloadPlan } from "../../src/reload/mod.ts";
import { parseTestConfig, testConfig } from "../_helpers/config.ts";

/** The YAML parser behind testConfig() reads its debug switches from the environment. */
const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const A = "http://127.0.0.1:9001";
const B = "http://127.0.0.1:9002";
const C = "http://127.0.0.1:9003";

/** `config` with one process-wide section's fields replaced: a plain object, as a reload would read it. */
function edit<K extends "admin" | "logging">(
  config: Config,
  key: K,
  fields: Partial<Config[K]>,
): Config {
  return { ...config, [key]: { ...config[key], ...fields } };
}

/** `config` with one section of the pool `default` replaced. */
function editPool<K extends keyof PoolConfig>(
  config: Config,
  key: K,
  fields: Partial<PoolConfig[K]>,
): Config {
  const pool = config.pools.default!;
  return { ...config, pools: { default: { ...pool, [key]: { ...pool[key], ...fields } } } };
}

function changes(plan: ReloadPlan) {
  assert.ok(plan.ok, `refused: ${plan.ok ? "" : plan.problems.join("; ")}`);
  return plan;
}

function problems(plan: ReloadPlan): readonly string[] {
  assert.ok(!plan.ok, "the reload was not refused");
  return plan.problems;
}

/** Two listeners and two pools, in the expanded form. */
function topology(listeners: Array<[string, string, string]>, pools: Record<string, string[]>) {
  return parseTestConfig({
    listeners: listeners.map(([name, address, pool]) => ({ name, address, routes: [{ pool }] })),
    pools: Object.fromEntries(
      Object.entries(pools).map(([name, urls]) => [name, {
        backends: urls.map((url) => ({ url, weight: 1 })),
      }]),
    ),
  });
}

Deno.test(
  "planReload() sorts backends by pool and URL into added, removed and kept, each in configuration order",
  yamlEnv,
  async () => {
    const running = await testConfig([A, B]);
    const plan = changes(planReload(running, await testConfig([C, B])));
    assert.deepEqual(plan.added, [`default ${C}`]);
    assert.deepEqual(plan.removed, [`default ${A}`]);
    assert.deepEqual(plan.kept, [`default ${B}`]);

    const reordered = changes(planReload(running, await testConfig([C, B, A])));
    assert.deepEqual(
      { added: reordered.added, removed: reordered.removed, kept: reordered.kept },
      { added: [`default ${C}`], removed: [], kept: [`default ${B}`, `default ${A}`] },
      "kept backends come in the new configuration's order",
    );
  },
);

Deno.test(
  "planReload() keys a backend by its pool too: the same URL moved to another pool is a new backend",
  yamlEnv,
  async () => {
    const running = await topology([["web", "127.0.0.1:0", "a"]], { a: [A], b: [B] });
    const next = await topology([["web", "127.0.0.1:0", "a"]], { a: [A, B], b: [A] });
    const plan = changes(planReload(running, next));
    assert.deepEqual(plan.added, [`a ${B}`, `b ${A}`]);
    assert.deepEqual(plan.removed, [`b ${B}`]);
    assert.deepEqual(plan.kept, [`a ${A}`]);
  },
);

Deno.test(
  "planReload() of a configuration to an equal one keeps everything and carries the new one",
  yamlEnv,
  async () => {
    const running = await testConfig([A, B]);
    const next = await testConfig([A, B]);
    const plan = changes(planReload(running, next));
    assert.equal(plan.next, next, "the plan swaps in the configuration it was given");
    assert.deepEqual(plan.added, []);
    assert.deepEqual(plan.removed, []);
    assert.deepEqual(plan.kept, [`default ${A}`, `default ${B}`]);
    assert.deepEqual(plan.listeners, { opened: [], closed: [], moved: [], kept: ["default"] });
    assert.equal(plan.newLogger, false);
  },
);

Deno.test(
  "planReload() refuses a change to any setting a kept pool's connection pools are built from",
  yamlEnv,
  async (t) => {
    const running = editPool(await testConfig([A]), "upstream", { transport: "h1" });
    const u = running.pools.default!.upstream;
    const cases: Array<[string, Partial<PoolConfig["upstream"]>]> = [
      ["transport", { transport: "fetch" }],
      ["connect_timeout", { connect_timeout: u.connect_timeout + 1 }],
      ["max_connections", { max_connections: u.max_connections + 1 }],
      ["max_idle_connections", { max_idle_connections: u.max_idle_connections + 1 }],
      ["idle_connection_timeout", { idle_connection_timeout: u.idle_connection_timeout + 1 }],
      ["ca_file", { ca_file: "/etc/aegis/internal-ca.pem" }],
      ["server_name", { server_name: "api.internal" }],
    ];
    for (const [key, fields] of cases) {
      await t.step(key, () => {
        assert.deepEqual(problems(planReload(running, editPool(running, "upstream", fields))), [
          `pools.default.upstream.${key}: the pool's backend connections are built when it starts; restart Aegis, or give the pool a new name`,
        ]);
      });
    }
    await t.step("a new pool with other settings is no change to a kept one", async () => {
      const next = await parseTestConfig({
        listeners: [{ name: "default", address: "127.0.0.1:0", routes: [{ pool: "fresh" }] }],
        pools: { fresh: { backends: [{ url: A, weight: 1 }], upstream: { max_connections: 3 } } },
      });
      const plan = changes(planReload(running, next));
      assert.deepEqual(plan.added, [`fresh ${A}`]);
      assert.deepEqual(plan.removed, [`default ${A}`]);
    });
  },
);

Deno.test("planReload() refuses moving the admin listener", yamlEnv, async () => {
  const running = await testConfig([A]);
  assert.deepEqual(
    problems(planReload(running, edit(running, "admin", { address: "127.0.0.1:9999" }))),
    ["admin.address: the admin listener cannot move while running; restart Aegis"],
  );
});

Deno.test(
  "planReload() refuses opening, moving or closing the metrics listener",
  yamlEnv,
  async (t) => {
    const off = await testConfig([A]);
    const on = edit(off, "admin", { metrics_address: "127.0.0.1:9091" });
    const refusal = [
      "admin.metrics_address: the metrics listener cannot open, close or move while running; restart Aegis",
    ];
    await t.step("opening it", () => assert.deepEqual(problems(planReload(off, on)), refusal));
    await t.step("moving it", () => {
      const moved = edit(on, "admin", { metrics_address: "127.0.0.1:9092" });
      assert.deepEqual(problems(planReload(on, moved)), refusal);
    });
    await t.step("closing it", () => assert.deepEqual(problems(planReload(on, off)), refusal));
    await t.step("keeping it where it is", () => assert.ok(planReload(on, on).ok));
  },
);

Deno.test(
  "planReload() opens, closes, moves and keeps listeners by name",
  yamlEnv,
  async () => {
    const running = await topology(
      [["web", "127.0.0.1:8001", "a"], ["api", "127.0.0.1:8002", "a"], [
        "old",
        "127.0.0.1:8003",
        "a",
      ]],
      { a: [A] },
    );
    const next = await topology(
      [["new", "127.0.0.1:8004", "a"], ["api", "127.0.0.1:8005", "a"], [
        "web",
        "127.0.0.1:8001",
        "a",
      ]],
      { a: [A] },
    );
    assert.deepEqual(changes(planReload(running, next)).listeners, {
      opened: ["new"],
      closed: ["old"],
      moved: ["api"],
      kept: ["web"],
    });
  },
);

Deno.test(
  "planReload() lists every refusal at once, the pools first, then the admin listener",
  yamlEnv,
  async () => {
    const running = await testConfig([A]);
    let next = edit(running, "admin", { address: "127.0.0.1:9999" });
    next = editPool(next, "upstream", {
      max_connections: running.pools.default!.upstream.max_connections + 1,
    });
    assert.deepEqual(problems(planReload(running, next)).map((p) => p.split(":")[0]), [
      "pools.default.upstream.max_connections",
      "admin.address",
    ]);
  },
);

Deno.test(
  "planReload() takes every other change live: timeouts, limits, rate limits, algorithm, health checks",
  yamlEnv,
  async () => {
    const running = await testConfig([A]);
    const next = await testConfig([A], {
      server: {
        read_timeout: "7s",
        idle_timeout: "1m",
        shutdown_timeout: "3s",
        max_connections: 500,
        max_connections_per_client: 5,
      },
      upstream: { response_header_timeout: "9s", read_timeout: "9s" },
      rate_limit: { requests_per_second: 70, burst: 90 },
      load_balancing: { algorithm: "least_connections" },
      health_check: { interval: "3s" },
      admin: { token: "a-token-long-enough-0123456789" },
    });
    const plan = changes(planReload(running, next));
    assert.deepEqual(plan.kept, [`default ${A}`]);
    assert.deepEqual(plan.listeners.kept, ["default"]);
  },
);

Deno.test(
  "planReload() asks for a new logger only when logging.level or logging.format changed",
  yamlEnv,
  async (t) => {
    const running = edit(await testConfig([A]), "logging", { level: "info", format: "json" });
    await t.step("level", () => {
      assert.equal(
        changes(planReload(running, edit(running, "logging", { level: "debug" }))).newLogger,
        true,
      );
    });
    await t.step("format", () => {
      assert.equal(
        changes(planReload(running, edit(running, "logging", { format: "text" }))).newLogger,
        true,
      );
    });
    await t.step("neither", () => {
      assert.equal(
        changes(planReload(running, editPool(running, "retries", { attempts: 3 }))).newLogger,
        false,
      );
    });
  },
);

/** One tcp or udp listener `name` forwarding to pool `l4` of `addresses`. */
function l4(protocol: "tcp" | "udp", addresses: string[]) {
  return parseTestConfig({
    listeners: [{ name: "edge", protocol, address: "127.0.0.1:5432", pool: "l4" }],
    pools: { l4: { backends: addresses.map((address) => ({ address, weight: 1 })) } },
  });
}

Deno.test("planReload() sorts L4 backends by pool and address, as URLs", yamlEnv, async () => {
  const plan = changes(
    planReload(
      await l4("tcp", ["127.0.0.1:7001", "127.0.0.1:7002"]),
      await l4("tcp", ["127.0.0.1:7002", "127.0.0.1:7003"]),
    ),
  );
  assert.deepEqual(plan.added, ["l4 127.0.0.1:7003"]);
  assert.deepEqual(plan.removed, ["l4 127.0.0.1:7001"]);
  assert.deepEqual(plan.kept, ["l4 127.0.0.1:7002"]);
});

Deno.test("planReload() refuses a listener that would change its protocol", yamlEnv, async () => {
  assert.deepEqual(
    problems(
      planReload(await l4("tcp", ["127.0.0.1:7001"]), await l4("udp", ["127.0.0.1:7001"])),
    ),
    ["listeners[edge].protocol: a listener cannot change from tcp to udp while running; restart Aegis"],
  );
});

Deno.test(
  "planReload() takes a new connect_timeout for an L4 pool live: its relay reads it per connection",
  yamlEnv,
  async () => {
    const running = await l4("tcp", ["127.0.0.1:7001"]);
    const pool = running.pools.l4!;
    const next = {
      ...running,
      pools: { l4: { ...pool, upstream: { ...pool.upstream, connect_timeout: 250 } } },
    };
    assert.ok(planReload(running, next).ok);
  },
);
