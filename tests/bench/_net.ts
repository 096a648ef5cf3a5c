/**
 * Socket helpers for the load benchmark: free ports, readiness probes (HTTP,
 * and bare TCP and UDP listening for the L4 proxies), and the thousands of
 * idle keep-alive connections of scenario 7. Raw TCP rather than `fetch`, so
 * the benchmark decides exactly which connections exist.
 *
 * @module
 */

import { type Child, run } from "./_procs.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: bound with port 0,
 * then released for the process that will listen on it.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Sends one `GET path` on `conn` and reads its whole response (by
 * `Content-Length`, or to the last chunk). Resolves with the status code;
 * rejects if the connection ends first.
 */
export async function exchange(
  conn: Deno.Conn,
  port: number,
  { path = "/", close = false } = {},
): Promise<number> {
  const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    (close ? "Connection: close\r\n" : "") + "\r\n";
  const bytes = enc.encode(request);
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  const buf = new Uint8Array(16 * 1024);
  let text = "";
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("connection closed before the response ended");
    // latin1-safe enough: only the head is parsed, the body is only counted.
    text += dec.decode(buf.subarray(0, n));
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) continue;
    const head = text.slice(0, end).toLowerCase();
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
    if (length) {
      if (enc.encode(text.slice(end + 4)).length >= Number(length[1])) return status;
    } else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
      if (text.endsWith("\r\n0\r\n\r\n") || text.slice(end + 4).startsWith("0\r\n\r\n")) {
        return status;
      }
    } else {
      return status;
    }
  }
}

/**
 * Waits until `GET /` on 127.0.0.1:port answers 200, polling every 100 ms;
 * fails early if `child` exits, and after `timeoutMs`.
 */
export async function waitReady(port: number, child?: Child, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child?.exited()) throw new Error(`${child.name} exited:\n${child.output()}`);
    try {
      using conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const status = await exchange(conn, port, { close: true });
      if (status === 200) return;
      last = `status ${status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const who = child ? `${child.name}:\n${child.output()}` : "";
  throw new Error(`port ${port} not ready after ${timeoutMs} ms (${last}) ${who}`);
}

/** Idle keep-alive connections held open until {@linkcode IdleConnections.close}. */
export interface IdleConnections {
  /** How many are open (each has completed one request). */
  readonly count: number;
  /** Connections that could not be opened or whose request failed. */
  readonly failed: number;
  /** Closes every connection. */
  close(): void;
}

/**
 * Opens `count` connections to 127.0.0.1:port, sends one `GET /` on each so
 * the server sees a real keep-alive client, and leaves them idle. At most
 * `concurrency` are being opened at once, to stay under the listen backlog.
 */
export async function openIdleConnections(
  port: number,
  count: number,
  concurrency = 64,
): Promise<IdleConnections> {
  const conns: Deno.Conn[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      let conn: Deno.Conn | undefined;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await exchange(conn, port);
        conns.push(conn);
      } catch {
        failed++;
        try {
          conn?.close();
        } catch {
          // Already closed.
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return {
    count: conns.length,
    failed,
    close() {
      for (const conn of conns.splice(0)) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
    },
  };
}

/**
 * The local ports of 127.0.0.1 (or any address) with a bound UDP socket, read
 * from the text of Linux's `/proc/net/udp`, where each socket's
 * `local_address` is `HEXADDR:HEXPORT`.
 *
 * @example
 * ```ts
 * udpPortsIn("  sl  local_address …\n  746: 0100007F:1538 00000000:0000 07 …"); // Set {5432}
 * ```
 */
export function udpPortsIn(procNetUdp: string): Set<number> {
  const ports = new Set<number>();
  for (const m of procNetUdp.matchAll(/^\s*\d+:\s+(0100007F|00000000):([0-9A-F]{4})\s/gm)) {
    ports.add(parseInt(m[2]!, 16));
  }
  return ports;
}

/**
 * Waits until 127.0.0.1:port accepts TCP connections and, with `udp`, until
 * a UDP socket is bound to the same port too. Nothing is sent: behind an L4
 * proxy the byte stream belongs to whatever the backend speaks (iperf3).
 * Deno reads `/proc` only with `--allow-all`, so `cat` does.
 */
export async function waitListening(
  port: number,
  child: Child | undefined,
  { udp = false, timeoutMs = 20_000 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child?.exited()) throw new Error(`${child.name} exited:\n${child.output()}`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      if (!udp) return;
      const out = await run("cat", ["/proc/net/udp"]);
      // No /proc (not Linux): the first datagrams will tell.
      if (!out || out.code !== 0) return;
      if (udpPortsIn(out.stdout).has(port)) return;
      last = "no UDP socket bound";
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const who = child ? `${child.name}:\n${child.output()}` : "";
  throw new Error(`port ${port} not listening after ${timeoutMs} ms (${last}) ${who}`);
}
