/**
 * CurrentRuntime: the runtime in force, swapped by a reload, stopped by the
 * lifecycle. Real runtimes on manual clocks, a transport that answers in
 * memory: no socket, no sleep.
 */

import assert from "node:assert/strict";
import { Watchdog } from "../../src/clock/mod.ts";
import type { Config } from "../../src/config/mod.ts";
import type { ClosableTransport } from "../../src/core/mod.ts";
import { EventLog } from "../../src/events/mod.ts";
import { CurrentRuntime, RuntimeStoppedError } from "../../src/lifecycle/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DurationHistograms, StatsByName, WebSocketStats } from "../../src/metrics/mod.ts";
import { buildRuntime, Retirements, type Shared } from "../../src/runtime/mod.ts";
import type { Snapshot } from "../../src/snapshot/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { testConfig } from "../_helpers/config.ts";

/** The YAML parser behind testConfig() reads its debug switches from the environment. */
const yamlEnv: Omit<Deno.TestDefinition, "name" | "fn"> = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const A = "http://127.0.0.1:9001";
const B = "http://127.0.0.1:9002";
const CLIENT = { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 } as const;

/** What runtimes share, on a manual clock whose pending timers are the loops'. */
function shared() {
  const clock = new ManualClock();
  const transport: ClosableTransport = {
    send: () => Promise.resolve({ status: 200, statusText: "OK", headers: [], body: null }),
    fetch: () => Promise.resolve(new Response("ok")),
    [Symbol.dispose]() {},
  };
  const value: Shared = {
    logger: createLogger({ level: "error", sink: () => {} }),
    clock,
    // Its own clock: request deadlines are not loop timers.
    watchdog: new Watchdog({ clock: new ManualClock(), tickMs: 10 }),
    events: new EventLog(),
    stats: new StatsByName(),
    durations: new DurationHistograms(),
    rateChanges: new Map(),
    webSockets: new WebSocketStats(),
    probe: () => Promise.resolve({ ok: true, detail: "200" }),
    transportFor: () => ({ transport, owned: false }),
    retired: new Retirements(clock),
  };
  return { clock, value };
}

/** The adaptive loop reads snapshots only when its timer fires, which these tests never let it. */
const noSnapshot = (): Snapshot => {
  throw new Error("no snapshot in this test");
};

/** Lets the health loops' first probes settle (they resolve at once). */
const settle = () => new Promise((r) => setTimeout(r, 0));

function current(config: Config, s: Shared): CurrentRuntime {
  return new CurrentRuntime(config, (c, previous) => buildRuntime(c, s, previous));
}

Deno.test(
  "CurrentRuntime starts no loop until start(), then one health loop per backend, the adaptive loop and the purge",
  yamlEnv,
  async () => {
    const { clock, value } = shared();
    await using rt = current(await testConfig([A, B]), value);
    await settle();
    assert.equal(clock.pending, 0, "building a runtime starts nothing");
    rt.start(noSnapshot);
    await settle();
    assert.equal(clock.pending, 2 + 2, "two health timers, the adaptive loop, the purge");
  },
);

Deno.test(
  "CurrentRuntime.replace() builds from the runtime in force, swaps it in for new requests and stops the old loops",
  yamlEnv,
  async () => {
    const { clock, value } = shared();
    const first = await testConfig([A]);
    await using rt = current(first, value).start(noSnapshot);
    const old = rt.runtime;
    const kept = old.pools.get("default")!.pool.states[0]!;
    const handler = rt.handlerFor("default");
    const post = () => handler(new Request("http://aegis.test/", { method: "POST" }), CLIENT);
    assert.equal((await post()).status, 200, "the first configuration forwards POST");

    const next = await testConfig([A, B], { security: { allowed_methods: ["GET"] } });
    rt.replace(next);
    assert.notEqual(rt.runtime, old);
    assert.equal(rt.config, next);
    assert.equal(
      rt.runtime.pools.get("default")!.pool.states[0],
      kept,
      "a backend that stays keeps its live state",
    );
    assert.equal((await post()).status, 405, "the same handler now answers with the new runtime");
    await old.stopped;
    await settle();
    assert.equal(clock.pending, 2 + 2, "only the new runtime's loops are left");
  },
);

Deno.test(
  "disposing CurrentRuntime stops the loops of the runtime in force; no replace after that",
  yamlEnv,
  async () => {
    const { clock, value } = shared();
    const rt = current(await testConfig([A]), value).start(noSnapshot);
    rt.replace(await testConfig([A, B]));
    const later = await testConfig([B]);
    await settle();
    await rt[Symbol.asyncDispose]();
    await settle();
    assert.equal(clock.pending, 0, "no loop timer is left");
    assert.throws(() => rt.replace(later), RuntimeStoppedError);
    assert.throws(() => rt.start(noSnapshot), RuntimeStoppedError);
    assert.equal(clock.pending, 0, "nothing was started by the refused calls");
  },
);
