/**
 * ListenerSet: every configured listener, opened all or none, changed live
 * by a reload in two steps (stage binds, commit swaps and drains). Fake
 * sockets record what happened and in which order; no network.
 */

import assert from "node:assert/strict";
import type { Config } from "../../src/config/mod.ts";
import { type Listener, ListenerSet, type OpenListener } from "../../src/lifecycle/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { Server } from "../../src/server/mod.ts";
import { parseTestConfig } from "../_helpers/config.ts";

const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const LIMITS = { maxConnections: 10, maxPerClient: 10 };

/** Fake sockets: `taken` addresses fail to bind; everything is written to `log`. */
function fakes(taken: ReadonlySet<string> = new Set()) {
  const log: string[] = [];
  const drains = new Map<string, () => void>();
  const open: OpenListener = (config) => {
    if (taken.has(config.address)) {
      throw Object.assign(new Deno.errors.AddrInUse("taken"), { listener: config.name });
    }
    const id = `${config.name}@${config.address}`;
    log.push(`bind ${id}`);
    const server = { connections: 1, requestsInFlight: 0, draining: false } as unknown as Server;
    const listener: Listener = {
      name: config.name,
      protocol: "http",
      server,
      ready: Promise.resolve(),
      reconfigure: () => {},
      addr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
      url: `http://${config.address}`,
      drain: (graceMs) => {
        log.push(`drain ${id} ${graceMs}`);
        return new Promise((resolve) => drains.set(id, resolve));
      },
      [Symbol.asyncDispose]: () => {
        log.push(`close ${id}`);
        return Promise.resolve();
      },
    };
    return listener;
  };
  return { open, log, drains };
}

function limits(config: Config) {
  return new Map(config.listeners.map((l) => [l.name, LIMITS]));
}

function config(listeners: Array<[string, string]>) {
  return parseTestConfig({
    listeners: listeners.map(([name, address]) => ({ name, address, routes: [{ pool: "p" }] })),
    pools: { p: { backends: [{ url: "http://127.0.0.1:9", weight: 1 }] } },
  });
}

const logger = createLogger({ level: "error", sink: () => {} });

Deno.test("ListenerSet opens every listener in order, or none", yamlEnv, async () => {
  const ok = fakes();
  const all = await config([["a", "127.0.0.1:8001"], ["b", "127.0.0.1:8002"]]);
  const set = new ListenerSet(all, limits(all), { open: ok.open, logger });
  assert.deepEqual(set.live.map((l) => l.name), ["a", "b"]);
  assert.deepEqual(ok.log, ["bind a@127.0.0.1:8001", "bind b@127.0.0.1:8002"]);

  const failing = fakes(new Set(["127.0.0.1:8002"]));
  assert.throws(
    () => new ListenerSet(all, limits(all), { open: failing.open, logger }),
    Deno.errors.AddrInUse,
  );
  assert.deepEqual(failing.log, ["bind a@127.0.0.1:8001", "close a@127.0.0.1:8001"]);
});

Deno.test(
  "ListenerSet.stage() binds what a reload opens or moves, all or nothing",
  yamlEnv,
  async () => {
    const f = fakes(new Set(["127.0.0.1:8009"]));
    const running = await config([["a", "127.0.0.1:8001"], ["b", "127.0.0.1:8002"]]);
    const set = new ListenerSet(running, limits(running), { open: f.open, logger });
    f.log.length = 0;
    const next = await config([
      ["a", "127.0.0.1:8003"],
      ["b", "127.0.0.1:8002"],
      ["c", "127.0.0.1:8004"],
      ["d", "127.0.0.1:8009"],
    ]);
    const moves = { opened: ["c", "d"], closed: [], moved: ["a"] };
    assert.throws(() => set.stage(moves, next, limits(next)), Deno.errors.AddrInUse);
    assert.deepEqual(f.log, [
      "bind a@127.0.0.1:8003",
      "bind c@127.0.0.1:8004",
      "close a@127.0.0.1:8003",
      "close c@127.0.0.1:8004",
    ]);
    assert.deepEqual(set.live.map((l) => l.url), [
      "http://127.0.0.1:8001",
      "http://127.0.0.1:8002",
    ]);
  },
);

Deno.test(
  "ListenerSet.commit() serves the new sockets, then drains the moved and closed ones",
  yamlEnv,
  async () => {
    const f = fakes();
    const running = await config([["a", "127.0.0.1:8001"], ["b", "127.0.0.1:8002"]]);
    const set = new ListenerSet(running, limits(running), { open: f.open, logger });
    f.log.length = 0;
    const next = await config([["c", "127.0.0.1:8004"], ["a", "127.0.0.1:8003"]]);
    const moves = { opened: ["c"], closed: ["b"], moved: ["a"] };
    const staged = set.stage(moves, next, limits(next));
    assert.deepEqual(f.log, ["bind c@127.0.0.1:8004", "bind a@127.0.0.1:8003"], "new order");
    set.commit(moves, staged, next, 3000);
    assert.deepEqual(f.log.slice(2), [
      "drain b@127.0.0.1:8002 3000",
      "drain a@127.0.0.1:8001 3000",
    ]);
    assert.deepEqual(set.live.map((l) => `${l.name} ${l.url}`), [
      "c http://127.0.0.1:8004",
      "a http://127.0.0.1:8003",
    ]);
    assert.equal(set.connections, 4, "the draining sockets' connections still count");
    for (const done of f.drains.values()) done();
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(set.connections, 2, "drained sockets are gone");
    await set[Symbol.asyncDispose]();
  },
);

Deno.test("ListenerSet.drain() drains every socket, the closing ones too", yamlEnv, async () => {
  const f = fakes();
  const running = await config([["a", "127.0.0.1:8001"]]);
  const set = new ListenerSet(running, limits(running), { open: f.open, logger });
  const next = await config([["a", "127.0.0.1:8002"]]);
  const moves = { opened: [], closed: [], moved: ["a"] };
  set.commit(moves, set.stage(moves, next, limits(next)), next, 30_000);
  f.log.length = 0;
  const drained = set.drain(500);
  assert.equal(set.draining, true);
  assert.deepEqual(f.log.toSorted(), ["drain a@127.0.0.1:8001 500", "drain a@127.0.0.1:8002 500"]);
  for (const done of f.drains.values()) done();
  await drained;
});
