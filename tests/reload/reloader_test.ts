/** createReloader(): load → plan → apply, logged and recorded, one reload at a time. */

import assert from "node:assert/strict";
import { type Config, ConfigFileError, type ConfigResult } from "../../src/config/mod.ts";
import { EventLog } from "../../src/events/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import {
  createReloader,
  NO_FILE_TO_RELOAD,
  type ReloadChanges,
  type ReloaderOptions,
} from "../../src/reload/mod.ts";
import { testConfig } from "../_helpers/config.ts";

/** The YAML parser behind testConfig() reads its debug switches from the environment. */
const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const A = "http://127.0.0.1:9001";
const B = "http://127.0.0.1:9002";

/** A reloader over a fake file: `load` answers what the test says; applied plans are kept. */
function harness(first: Config, overrides: Partial<ReloaderOptions> = {}) {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    sink: (line) => logs.push(JSON.parse(line)),
  });
  const events = new EventLog();
  const applied: ReloadChanges[] = [];
  let running = first;
  const abort = new AbortController();
  const reload = createReloader({
    path: "aegis.yml",
    signal: abort.signal,
    logger,
    events,
    running: () => running,
    apply(plan) {
      applied.push(plan);
      running = plan.next;
      return [];
    },
    ...overrides,
  });
  return {
    reload,
    logs,
    events,
    applied,
    abort,
    messages: () => logs.map((l) => l.msg),
  };
}

const loaded = (config: Config) => () =>
  Promise.resolve<ConfigResult>({ ok: true, config, warnings: [] });

/** A reload that leaves the listeners as they are. */
const NO_MOVES = { opened: [], closed: [], moved: [] };

/** A backend of the pool `default`, as reload results name it. */
const at = (url: string) => `default ${url}`;

Deno.test(
  "createReloader() applies a valid file once, then logs and records what changed",
  yamlEnv,
  async () => {
    const next = await testConfig([B, A]);
    const h = harness(await testConfig([A]), { load: loaded(next) });
    assert.deepEqual(await h.reload(), {
      ok: true,
      added: [at(B)],
      removed: [],
      kept: [at(A)],
      listeners: NO_MOVES,
    });
    assert.equal(h.applied.length, 1);
    assert.equal(h.applied[0]!.next, next);
    assert.deepEqual(h.messages(), ["reloading configuration", "configuration reloaded"]);
    const { added, removed, kept } = h.logs[1]!;
    assert.deepEqual({ added, removed, kept }, { added: 1, removed: 0, kept: 1 });
    const [event] = h.events.recent();
    assert.equal(event!.kind, "reload");
    assert.equal(event!.message, "configuration reloaded: 1 added, 0 removed, 1 kept");
    assert.deepEqual(event!.fields, { ok: true, added: 1, removed: 0 });
  },
);

Deno.test(
  "createReloader() without a file refuses at once, loads and applies nothing, and says so",
  yamlEnv,
  async () => {
    let loads = 0;
    const h = harness(await testConfig([A]), {
      path: undefined,
      load: () => {
        loads++;
        return Promise.reject(new Error("not called"));
      },
    });
    assert.deepEqual(await h.reload(), {
      ok: false,
      error: "nothing to reload",
      problems: [NO_FILE_TO_RELOAD],
    });
    assert.match(NO_FILE_TO_RELOAD, /without a configuration file \(aegis proxy\)/);
    assert.equal(loads, 0);
    assert.equal(h.applied.length, 0);
    assert.deepEqual(h.messages(), ["reload refused: no configuration file"]);
    assert.equal(h.logs[0]!.level, "warn");
    const [event] = h.events.recent();
    assert.equal(event!.message, "reload refused: no configuration file");
    assert.deepEqual(event!.fields, { ok: false });
  },
);

Deno.test(
  "createReloader() refuses a file with problems: each one positioned, the rest counted",
  yamlEnv,
  async () => {
    const h = harness(await testConfig([A]), {
      load: () =>
        Promise.resolve<ConfigResult>({
          ok: false,
          diagnostics: [
            { path: "server.port", message: "70000 is out of range", line: 2, col: 9 },
            { path: "bogus", message: "unknown key" },
          ],
          omitted: 3,
        }),
    });
    assert.deepEqual(await h.reload(), {
      ok: false,
      problems: [
        "aegis.yml:2:9 server.port: 70000 is out of range",
        "aegis.yml bogus: unknown key",
        "aegis.yml: 3 more problems not shown",
      ],
    });
    assert.deepEqual(h.applied, []);
    const refused = h.logs.find((l) => l.msg === "reload refused: the running configuration stays");
    assert.equal(refused?.problems, 5, "the count includes the problems not shown");
    assert.equal(h.logs.filter((l) => l.msg === "reload problem").length, 3);
    assert.equal(h.events.recent()[0]!.message, "reload refused (5 problems)");
  },
);

Deno.test(
  "createReloader() refuses what the plan refuses, and applies nothing",
  yamlEnv,
  async () => {
    const running = await testConfig([A]);
    const moved = { ...running, admin: { ...running.admin, address: "127.0.0.1:9999" } };
    const h = harness(running, { load: loaded(moved) });
    const result = await h.reload();
    assert.equal(result.ok, false);
    assert.match(result.ok ? "" : result.problems[0]!, /^admin\.address: .*cannot move/);
    assert.deepEqual(h.applied, []);
    assert.equal(h.events.recent()[0]!.message, "reload refused (1 problems)");
  },
);

Deno.test(
  "createReloader() turns a file that cannot be read into one problem",
  yamlEnv,
  async () => {
    const h = harness(await testConfig([A]), {
      load: () => Promise.reject(new ConfigFileError("cannot read config file aegis.yml: gone")),
    });
    assert.deepEqual(await h.reload(), {
      ok: false,
      problems: ["cannot read config file aegis.yml: gone"],
    });
    assert.deepEqual(h.messages(), ["reloading configuration", "reload failed"]);
    assert.deepEqual(h.applied, []);
  },
);

Deno.test(
  "createReloader() does not apply a load that finishes once stopping began",
  yamlEnv,
  async () => {
    const file = Promise.withResolvers<ConfigResult>();
    const h = harness(await testConfig([A]), { load: () => file.promise });
    const pending = h.reload();
    h.abort.abort();
    file.resolve({ ok: true, config: await testConfig([B]), warnings: [] });
    assert.deepEqual(await pending, { ok: false, problems: ["Aegis is shutting down"] });
    assert.deepEqual(h.applied, []);
  },
);

Deno.test(
  "createReloader() runs reloads one at a time, each planned against the one before",
  yamlEnv,
  async () => {
    const first = Promise.withResolvers<ConfigResult>();
    const results = [
      first.promise,
      Promise.resolve<ConfigResult>({
        ok: true,
        config: await testConfig([A, B]),
        warnings: [],
      }),
    ];
    let loads = 0;
    const h = harness(await testConfig([A]), { load: () => results[loads++]! });
    const one = h.reload();
    const two = h.reload();
    await Promise.resolve();
    assert.equal(loads, 1, "the second load waits for the first reload to finish");
    first.resolve({ ok: true, config: await testConfig([B]), warnings: [] });
    assert.deepEqual(await one, {
      ok: true,
      added: [at(B)],
      removed: [at(A)],
      kept: [],
      listeners: NO_MOVES,
    });
    assert.deepEqual(await two, {
      ok: true,
      added: [at(A)],
      removed: [],
      kept: [at(B)],
      listeners: NO_MOVES,
    });
  },
);

Deno.test(
  "createReloader(): a reload whose apply threw does not block the next one",
  yamlEnv,
  async () => {
    let calls = 0;
    const h = harness(await testConfig([A]), {
      load: loaded(await testConfig([A, B])),
      apply() {
        if (calls++ === 0) throw new Error("build failed");
        return [];
      },
    });
    await assert.rejects(h.reload(), /build failed/);
    assert.equal((await h.reload()).ok, true);
  },
);

Deno.test(
  "createReloader() answers a refusal, logged and recorded, when apply could not change anything",
  yamlEnv,
  async () => {
    const h = harness(await testConfig([A]), {
      load: loaded(await testConfig([A, B])),
      apply: () => ["cannot listen on 127.0.0.1:8080: address already in use"],
    });
    assert.deepEqual(await h.reload(), {
      ok: false,
      problems: ["cannot listen on 127.0.0.1:8080: address already in use"],
    });
    assert.ok(h.messages().includes("reload refused: the running configuration stays"));
    assert.equal(h.events.recent()[0]!.message, "reload refused (1 problems)");
  },
);

Deno.test(
  "createReloader() logs the warnings of a valid file, positioned",
  yamlEnv,
  async () => {
    const config = await testConfig([A]);
    const h = harness(config, {
      load: () =>
        Promise.resolve<ConfigResult>({
          ok: true,
          config,
          warnings: [{ path: "pools.spare", message: "no route uses this pool", line: 9, col: 3 }],
        }),
    });
    assert.equal((await h.reload()).ok, true);
    const warning = h.logs.find((l) => l.msg === "configuration warning");
    assert.equal(warning?.warning, "aegis.yml:9:3 pools.spare: warning: no route uses this pool");
  },
);
