/**
 * Runtimes for tests without sockets: real runtimes built from real YAML,
 * on manual clocks, with transports that answer in memory and say which
 * backend URL they were sent to.
 *
 * @module
 */

import { Watchdog } from "../../src/clock/mod.ts";
import type { ClosableTransport } from "../../src/core/mod.ts";
import { EventLog } from "../../src/events/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DurationHistograms, StatsByName, WebSocketStats } from "../../src/metrics/mod.ts";
import { Retirements, type Shared } from "../../src/runtime/mod.ts";
import { ManualClock } from "./clock.ts";

/** A transport that answers every request `200` with the URL it was sent, counting closes. */
export interface EchoTransport extends ClosableTransport {
  /** Times it was closed. */
  readonly closed: number;
  /** Requests it is holding open (answered once `release()` is called), when held. */
  hold(): void;
  /** Answers the requests held. */
  release(): void;
}

/** A transport whose answer is the URL it was sent (`x-upstream-url` too). */
export function echoTransport(): EchoTransport {
  let closed = 0;
  let held: Array<() => void> | undefined;
  return {
    send(request) {
      const answer = () => ({
        status: 200,
        statusText: "OK",
        headers: [["x-upstream-url", request.url]] as Array<[string, string]>,
        body: new TextEncoder().encode(request.url),
      });
      if (!held) return Promise.resolve(answer());
      return new Promise((resolve) => held!.push(() => resolve(answer())));
    },
    fetch: () => Promise.resolve(new Response("ok")),
    get closed() {
      return closed;
    },
    hold() {
      held = [];
    },
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const answer of waiting) answer();
    },
    [Symbol.dispose]() {
      closed++;
    },
  };
}

/** What runtimes share, on a manual clock; each pool gets a fresh echo transport. */
export function testShared(): {
  shared: Shared;
  clock: ManualClock;
  /** Every transport built, in order, with the name of the first backend of its pool. */
  transports: Array<{ first: string; transport: EchoTransport }>;
  logs: Array<Record<string, unknown>>;
} & Disposable {
  const clock = new ManualClock();
  const transports: Array<{ first: string; transport: EchoTransport }> = [];
  const logs: Array<Record<string, unknown>> = [];
  const watchdog = new Watchdog({ clock: new ManualClock(), tickMs: 10 });
  const retired = new Retirements(clock);
  const shared = sharedOf({
    logger: createLogger({ level: "debug", sink: (l) => logs.push(JSON.parse(l)) }),
    clock,
    watchdog,
    transportFor(config) {
      const transport = echoTransport();
      transports.push({ first: config.backends[0]!.url!, transport });
      return { transport, owned: true };
    },
    retired,
  });
  return {
    shared,
    clock,
    transports,
    logs,
    [Symbol.dispose]() {
      retired[Symbol.dispose]();
      watchdog[Symbol.dispose]();
    },
  };
}

/**
 * What runtimes share, from the parts a test chooses; fresh counters and
 * events, and health probes that always pass.
 */
export function sharedOf(
  parts: Pick<Shared, "logger" | "clock" | "watchdog" | "transportFor" | "retired">,
): Shared {
  return {
    ...parts,
    events: new EventLog(),
    stats: new StatsByName(),
    durations: new DurationHistograms(),
    rateChanges: new Map(),
    webSockets: new WebSocketStats(),
    probe: () => Promise.resolve({ ok: true, detail: "200" }),
  };
}
