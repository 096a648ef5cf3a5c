/** The Listener unit and drain control, on real sockets (127.0.0.1, port 0). */

import assert from "node:assert/strict";
import { systemClock, Watchdog } from "../../src/clock/mod.ts";
import { EventLog } from "../../src/events/mod.ts";
import {
  drainControl,
  listenerOf,
  type ListenerOptions,
  openListener,
  urlOf,
} from "../../src/lifecycle/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { until } from "../_helpers/load.ts";

const none = { permissions: "none" } as const;
const net: Omit<Deno.TestDefinition, "name" | "fn"> = { permissions: { net: ["127.0.0.1"] } };

/** Listener options for a plain `ok` server on 127.0.0.1, port 0. */
function options(watchdog: Watchdog, name = "public"): ListenerOptions {
  return {
    name,
    hostname: "127.0.0.1",
    port: 0,
    handler: () => Promise.resolve(new Response("ok")),
    firstRequestTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    watchdog,
    logger: createLogger({ level: "error", sink: () => {} }),
    drainIdleGraceMs: 20,
    closeGraceMs: 0,
  };
}

Deno.test("urlOf() puts IPv6 addresses in brackets", none, () => {
  assert.equal(urlOf({ transport: "tcp", hostname: "127.0.0.1", port: 80 }), "http://127.0.0.1:80");
  assert.equal(urlOf({ transport: "tcp", hostname: "::1", port: 8080 }), "http://[::1]:8080");
});

Deno.test("openListener() serves at once, and disposing it closes the socket", net, async () => {
  using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
  const listener = openListener(options(watchdog));
  assert.equal(listener.name, "public");
  assert.equal(listener.url, `http://127.0.0.1:${listener.addr.port}`);
  assert.equal(
    await (await fetch(listener.url, { headers: { connection: "close" } })).text(),
    "ok",
  );
  await listener[Symbol.asyncDispose]();
  assert.equal(listener.server.draining, true);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
});

Deno.test(
  "openListener() tags a bind error with the listener's name and opens nothing",
  net,
  () => {
    using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (taken.addr as Deno.NetAddr).port;
    assert.throws(
      () => openListener({ ...options(watchdog, "admin"), port }),
      (e) => e instanceof Deno.errors.AddrInUse && listenerOf(e) === "admin",
    );
    assert.equal(listenerOf(new Error("untagged")), undefined);
    assert.equal(listenerOf(undefined), undefined);
  },
);

Deno.test(
  "drainControl() drains once, reports progress, and records the start and the end",
  net,
  async () => {
    using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
    const listener = openListener(options(watchdog));
    const events = new EventLog();
    const { server } = listener;
    const drainable = {
      get draining() {
        return server.draining;
      },
      get connections() {
        return server.connections;
      },
      get requestsInFlight() {
        return server.requestsInFlight;
      },
      drain: (graceMs: number) => listener.drain(graceMs),
    };
    const control = drainControl(
      drainable,
      createLogger({ level: "error", sink: () => {} }),
      events,
    );
    assert.deepEqual(control.status(), { draining: false, connections: 0, inFlight: 0 });
    control.drain();
    control.drain();
    assert.equal(control.status().draining, true);
    await until(() => events.recent().some((e) => e.message === "drained"), "the drain ends");
    assert.deepEqual(events.recent().map((e) => e.message).reverse(), [
      "draining started",
      "drained",
    ]);
    await listener[Symbol.asyncDispose]();
  },
);
