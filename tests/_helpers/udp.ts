/**
 * UDP test parts: real backends on 127.0.0.1 that answer in a way a test
 * can check, clients with their own sockets, a port where nothing
 * listens, and a pool of address backends built by the real loader.
 *
 * Their sockets are `Deno.listenDatagram` ones (`--unstable-net`, as the
 * relay's) that send one datagram at a time: several sends the runtime
 * cannot finish at once, as on a new socket, go out last first, and a test
 * sending `q1`, `q2` must be able to expect `q1` first.
 *
 * @module
 */

import type { Clock } from "../../src/clock/mod.ts";
import { EventLog } from "../../src/events/mod.ts";
import { startUdpRelay, type UdpRelay, type UdpRelayOptions } from "../../src/l4/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { createPool, type Pool } from "../../src/pool/mod.ts";
import { parseTestConfig } from "./config.ts";

/**
 * What UDP relay tests need: sockets on loopback, the wildcard address
 * sessions bind their sockets to, and npm:yaml's variables for the config.
 */
export const UDP_TEST: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { net: ["127.0.0.1", "0.0.0.0"], env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/** Guards every wait on the network, so a lost datagram fails the test instead of hanging it. */
const WAIT_MS = 10_000;

/** A test's own socket on 127.0.0.1: datagrams in through `onDatagram`, out in the order sent. */
interface TestSocket {
  readonly port: number;
  /** Sends after the previous send has finished: the runtime may reorder sends it has not finished. */
  send(data: Uint8Array, port: number, hostname?: string): void;
  /** Closes it; resolves once its receive loop has ended. */
  close(): Promise<void>;
}

function openSocket(
  onDatagram: (data: Uint8Array, from: Deno.NetAddr) => void,
  port = 0,
): TestSocket {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  let closed = false;
  let sending: Promise<unknown> = Promise.resolve();
  const loop = (async () => {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await conn.receive(buffer);
      } catch (e) {
        if (closed) return;
        throw e;
      }
      // A copy: what a test keeps must not change under it.
      onDatagram(received[0].slice(), received[1] as Deno.NetAddr);
    }
  })();
  return {
    port: (conn.addr as Deno.NetAddr).port,
    send(data, to, hostname = "127.0.0.1") {
      sending = sending.then(() => conn.send(data, { transport: "udp", hostname, port: to }))
        .catch(() => {});
    },
    async close() {
      if (closed) return;
      closed = true;
      await sending;
      conn.close();
      await loop;
    },
  };
}

/** A UDP backend: answers each datagram with `respond(data)` (nothing when it returns undefined). */
export interface UdpBackend extends AsyncDisposable {
  /** Its name, as it tags replies. */
  readonly name: string;
  /** `127.0.0.1:port`: its address as a pool backend. */
  readonly address: string;
  /** Datagrams received, with the address:port each came from. */
  readonly received: Array<{ readonly data: Uint8Array; readonly from: string }>;
}

/** Starts a backend on 127.0.0.1, on a free port unless given one. */
export function startUdpBackend(
  name: string,
  respond: (data: Uint8Array) => Uint8Array | undefined,
  port = 0,
): Promise<UdpBackend> {
  const received: Array<{ data: Uint8Array; from: string }> = [];
  const socket = openSocket((data, from) => {
    received.push({ data, from: `${from.hostname}:${from.port}` });
    const reply = respond(data);
    if (reply) socket.send(reply, from.port, from.hostname);
  }, port);
  return Promise.resolve({
    name,
    address: `127.0.0.1:${socket.port}`,
    received,
    [Symbol.asyncDispose]: () => socket.close(),
  });
}

const text = new TextEncoder();
const read = new TextDecoder();

/** A backend that answers `payload` with `name|payload`, so a reply says who sent it. */
export function startTaggingBackend(name: string, port = 0): Promise<UdpBackend> {
  return startUdpBackend(name, (data) => text.encode(`${name}|${read.decode(data)}`), port);
}

/** A client with a socket of its own on 127.0.0.1; replies queue until taken. */
export interface UdpClient extends AsyncDisposable {
  /** Its own port. */
  readonly port: number;
  /** Sends a datagram to `port` on 127.0.0.1. */
  send(data: Uint8Array | string, port: number): void;
  /** The next datagram it receives (rejects after a generous guard, never expected to). */
  next(): Promise<Uint8Array>;
  /** The next `n` datagrams, as text. */
  texts(n: number): Promise<string[]>;
  /** Datagrams received and not yet taken. */
  readonly pending: number;
}

/** Opens a client socket on 127.0.0.1 port 0. */
export function udpClient(): Promise<UdpClient> {
  const queue: Uint8Array[] = [];
  const waiting: Array<(d: Uint8Array) => void> = [];
  const socket = openSocket((data) => {
    const w = waiting.shift();
    if (w) w(data);
    else queue.push(data);
  });
  const port = socket.port;
  const next = (): Promise<Uint8Array> => {
    const ready = queue.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => {
        waiting.splice(waiting.indexOf(got), 1);
        reject(new Error(`client ${port}: no datagram within the guard`));
      }, WAIT_MS);
      const got = (d: Uint8Array) => {
        clearTimeout(guard);
        resolve(d);
      };
      waiting.push(got);
    });
  };
  return Promise.resolve({
    port,
    send: (data, to) => socket.send(typeof data === "string" ? text.encode(data) : data, to),
    next,
    async texts(n) {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(read.decode(await next()));
      return out;
    },
    get pending() {
      return queue.length;
    },
    [Symbol.asyncDispose]: () => socket.close(),
  });
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed again). */
export async function closedPort(): Promise<number> {
  const socket = openSocket(() => {});
  await socket.close();
  return socket.port;
}

/**
 * A pool of address backends, built from a udp listener's configuration by
 * the real loader; `pool` is merged into the pool's YAML data.
 */
export async function udpPool(
  addresses: readonly string[],
  clock: Clock,
  pool: Record<string, unknown> = {},
): Promise<Pool> {
  const config = await parseTestConfig({
    listeners: [{ name: "udp", protocol: "udp", address: "127.0.0.1:0", pool: "udp" }],
    pools: { udp: { backends: addresses.map((address) => ({ address, weight: 1 })), ...pool } },
  });
  return createPool(config.pools.udp!, { clock });
}

/** Polls `cond` on the event loop until it holds (guarded like every wait here). */
export async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A relay on 127.0.0.1 port 0 with a logger and event log the test can read. */
export interface TestRelay extends AsyncDisposable {
  readonly relay: UdpRelay;
  /** The listener's port. */
  readonly port: number;
  /** Log lines, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  readonly events: EventLog;
}

/** Starts a relay over `pool`; disposing of it shuts the relay down at once. */
export async function startTestRelay(
  pool: Pool,
  clock: Clock,
  options: Partial<UdpRelayOptions> = {},
): Promise<TestRelay> {
  const logs: Array<Record<string, unknown>> = [];
  const events = new EventLog();
  const relay = await startUdpRelay({
    name: "udp",
    address: "127.0.0.1:0",
    pool,
    poolName: "udp",
    clock,
    logger: createLogger({ level: "debug", sink: (l) => logs.push(JSON.parse(l)) }),
    events,
    ...options,
  });
  return {
    relay,
    port: relay.addr.port,
    logs,
    events,
    [Symbol.asyncDispose]: () => relay.shutdown(0),
  };
}
