/**
 * Helpers for L4 (TCP relay) tests: pools of `host:port` backends, a
 * listener that hands each connection to a relay and keeps its outcome,
 * raw TCP backends, and deterministic byte streams.
 *
 * @module
 */

import { createHash } from "node:crypto";
import net from "node:net";
import type { Clock } from "../../src/clock/mod.ts";
import type { RelayOutcome, TcpRelay } from "../../src/l4/mod.ts";
import { type Balancer, createPool, type Pool } from "../../src/pool/mod.ts";
import { parseTestConfig } from "./config.ts";

/** Always the first candidate: tests say which backend a connection tries first. */
export const FIRST_AVAILABLE: Balancer = {
  name: "first_available",
  pick: (candidates) => candidates[0],
};

/**
 * A pool of L4 backends (`host:port` addresses), from a real test
 * configuration: a tcp listener forwarding to them; `overrides` are merged
 * in as YAML data (top-level sections are every pool's defaults).
 */
export async function tcpPool(
  addresses: readonly string[],
  options: { clock?: Clock; balancer?: Balancer; overrides?: Record<string, unknown> } = {},
): Promise<Pool> {
  const config = await parseTestConfig({
    ...options.overrides,
    listeners: [{ name: "l4", protocol: "tcp", address: "127.0.0.1:0", pool: "p" }],
    pools: { p: { backends: addresses.map((address) => ({ address, weight: 1 })) } },
  });
  return createPool(config.pools.p!, {
    clock: options.clock,
    balancer: options.balancer ?? FIRST_AVAILABLE,
  });
}

/** A listener whose connections go through a relay. */
export interface RelayListener extends AsyncDisposable {
  /** The port clients connect to. */
  readonly port: number;
  /** Outcomes of the relays finished so far, in the order they finished. */
  readonly outcomes: readonly RelayOutcome[];
  /** Resolves with the outcome of the `index`-th relay to finish (0-based). */
  outcome(index?: number): Promise<RelayOutcome>;
  /** Fires the relays' shutdown signal. */
  abort(): void;
}

/**
 * Accepts on 127.0.0.1 (port 0) and hands each connection to `relay`, with
 * the socket peer as the client. Dispose: stop accepting, fire the signal,
 * wait for every relay.
 */
export function relayListener(relay: TcpRelay): RelayListener {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const shutdown = new AbortController();
  const outcomes: RelayOutcome[] = [];
  const waiters: Array<{ index: number; resolve: (o: RelayOutcome) => void }> = [];
  const running = new Set<Promise<void>>();
  const loop = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      const peer = { ip: conn.remoteAddr.hostname, port: conn.remoteAddr.port };
      const task = relay(conn, peer, shutdown.signal).then((o) => {
        outcomes.push(o);
        for (const w of waiters.filter((w) => w.index < outcomes.length)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(outcomes[w.index]!);
        }
      });
      running.add(task);
      task.finally(() => running.delete(task));
    }
  })();
  return {
    port: listener.addr.port,
    outcomes,
    outcome(index = 0) {
      if (index < outcomes.length) return Promise.resolve(outcomes[index]!);
      return new Promise((resolve) => waiters.push({ index, resolve }));
    },
    abort: () => shutdown.abort(),
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      shutdown.abort();
      await Promise.all(running);
    },
  };
}

/** Writes all of `bytes`. */
export async function writeFully(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Reads until the peer ends its sending (or resets); everything read, and whether it reset. */
export async function readAll(conn: Deno.Conn): Promise<{ bytes: Uint8Array; reset: boolean }> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  let reset = false;
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch {
    reset = true;
  }
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return { bytes: out, reset };
}

/** Reads exactly `n` bytes (fewer if the peer ends first). */
export async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const got = await conn.read(out.subarray(at));
    if (got === null) break;
    at += got;
  }
  return out.subarray(0, at);
}

/** Copies everything `conn` sends back to it, then ends its sending. */
export async function echo(conn: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    await writeFully(conn, buf.subarray(0, n));
  }
  await conn.closeWrite();
}

/** Closes `conn`, quiet if it already is. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

const text = new TextEncoder();

/** UTF-8 bytes of `s`. */
export function bytes(s: string): Uint8Array {
  return text.encode(s);
}

/** A backend that dies mid-stream. */
export interface ResettingBackend extends AsyncDisposable {
  readonly port: number;
}

/**
 * A backend that sends `greeting`, then resets the connection (RST) as soon
 * as the client sends anything: what a killed backend process looks like
 * on the wire. `node:net` because `Deno.Conn.close()` always ends with a
 * FIN, even with unread bytes (verified on Deno 2.9.6).
 */
export async function startResettingBackend(greeting: Uint8Array): Promise<ResettingBackend> {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.write(greeting);
    socket.once("data", () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a stream carried: its length and SHA-256, hashed as it went. */
export interface StreamDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Writes `total` bytes of a deterministic pseudo-random stream (xorshift32
 * from `seed`) and ends the sending; returns the digest of what was written.
 * Hashing runs as the bytes go (`node:crypto` hashes incrementally; Web
 * Crypto cannot), so a gibibyte never sits in memory.
 */
export async function sendStream(
  conn: Deno.TcpConn,
  seed: number,
  total: number,
): Promise<StreamDigest> {
  const hash = createHash("sha256");
  const chunk = new Uint8Array(256 * 1024);
  const words = new Uint32Array(chunk.buffer);
  let state = seed | 0 || 1;
  let sent = 0;
  while (sent < total) {
    for (let i = 0; i < words.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      words[i] = state;
    }
    const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
    hash.update(piece);
    await writeFully(conn, piece);
    sent += piece.length;
  }
  await conn.closeWrite();
  return { bytes: sent, sha256: hash.digest("hex") };
}

/** Reads to the end of the peer's sending, hashing as it goes. */
export async function receiveStream(conn: Deno.Conn): Promise<StreamDigest> {
  const hash = createHash("sha256");
  const buf = new Uint8Array(256 * 1024);
  let received = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
    received += n;
  }
  return { bytes: received, sha256: hash.digest("hex") };
}
