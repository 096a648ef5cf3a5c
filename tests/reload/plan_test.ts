/** planReload(): what a reload does, from two plain configurations, no socket. */

import assert from "node:assert/strict";
import type { Config } from "../../src/config/mod.ts";
import { planReload, type ReloadPlan } from "../../src/reload/mod.ts";
import { testConfig } from "../_helpers/config.ts";

/** The YAML parser behind testConfig() reads its debug switches from the environment. */
const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const A = "http://127.0.0.1:9001";
const B = "http://127.0.0.1:9002";
const C = "http://127.0.0.1:9003";

/** `config` with one section's fields replaced: a plain object, as a reload would read it. */
function edit<K extends keyof Config>(config: Config, key: K, fields: Partial<Config[K]>): Config {
  return { ...config, [key]: { ...config[key], ...fields } };
}

function changes(plan: ReloadPlan) {
  assert.ok(plan.ok, `refused: ${plan.ok ? "" : plan.problems.join("; ")}`);
  return plan;
}

function problems(plan: ReloadPlan): readonly string[] {
  assert.ok(!plan.ok, "the reload was not refused");
  return plan.problems;
}

Deno.test(
  "planReload() sorts backends by URL into added, removed and kept, each in configuration order",
  yamlEnv,
  async () => {
    const running = await testConfig([A, B]);
    const plan = changes(planReload(running, await testConfig([C, B])));
    assert.deepEqual(plan.added, [C]);
    assert.deepEqual(plan.removed, [A]);
    assert.deepEqual(plan.kept, [B]);

    const reordered = changes(planReload(running, await testConfig([C, B, A])));
    assert.deepEqual(
      { added: reordered.added, removed: reordered.removed, kept: reordered.kept },
      { added: [C], removed: [], kept: [B, A] },
      "kept backends come in the new configuration's order",
    );
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
    assert.deepEqual(plan.kept, [A, B]);
    assert.equal(plan.newLogger, false);
  },
);

Deno.test(
  "planReload() refuses a change to any setting the upstream connection pools are built from",
  yamlEnv,
  async (t) => {
    const running = edit(await testConfig([A]), "upstream", { transport: "h1" });
    const u = running.upstream;
    const cases: Array<[string, Partial<Config["upstream"]>]> = [
      ["transport", { transport: "fetch" }],
      ["connect_timeout", { connect_timeout: u.connect_timeout + 1 }],
      ["max_connections", { max_connections: u.max_connections + 1 }],
      ["max_idle_connections", { max_idle_connections: u.max_idle_connections + 1 }],
      ["idle_connection_timeout", { idle_connection_timeout: u.idle_connection_timeout + 1 }],
    ];
    for (const [key, fields] of cases) {
      await t.step(key, () => {
        assert.deepEqual(problems(planReload(running, edit(running, "upstream", fields))), [
          `upstream.${key}: the backend connection pools are built at start; restart Aegis`,
        ]);
      });
    }
  },
);

Deno.test(
  "planReload() refuses moving a listener: the public one by host or port, the admin one by address",
  yamlEnv,
  async (t) => {
    const running = await testConfig([A]);
    const publicMoved =
      "server.host/server.port: the public listener cannot move while running; restart Aegis";
    await t.step("server.port", () => {
      assert.deepEqual(problems(planReload(running, edit(running, "server", { port: 8081 }))), [
        publicMoved,
      ]);
    });
    await t.step("server.host", () => {
      assert.deepEqual(
        problems(planReload(running, edit(running, "server", { host: "127.0.0.2" }))),
        [publicMoved],
      );
    });
    await t.step("both at once: one line", () => {
      assert.deepEqual(
        problems(planReload(running, edit(running, "server", { host: "127.0.0.2", port: 1 }))),
        [publicMoved],
      );
    });
    await t.step("admin.address", () => {
      assert.deepEqual(
        problems(planReload(running, edit(running, "admin", { address: "127.0.0.1:9999" }))),
        ["admin.address: the admin listener cannot move while running; restart Aegis"],
      );
    });
  },
);

Deno.test(
  "planReload() lists every refusal at once, upstream first, then the listeners",
  yamlEnv,
  async () => {
    const running = await testConfig([A]);
    let next = edit(running, "admin", { address: "127.0.0.1:9999" });
    next = edit(next, "server", { port: 8081 });
    next = edit(next, "upstream", { max_connections: running.upstream.max_connections + 1 });
    next = { ...next, backends: [...next.backends, ...(await testConfig([C])).backends] };
    assert.deepEqual(problems(planReload(running, next)).map((p) => p.split(":")[0]), [
      "upstream.max_connections",
      "server.host/server.port",
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
    assert.deepEqual(plan.kept, [A]);
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
        changes(planReload(running, edit(running, "rate_limit", { burst: 3 }))).newLogger,
        false,
      );
    });
  },
);
