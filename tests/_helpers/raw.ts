/**
 * Raw HTTP/1.1 over a socket, for what `fetch` will not send: malformed
 * framing, trickled headers, idle connections, traversal paths.
 *
 * @module
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The outcome of a raw exchange. */
export interface RawResult {
  /** Everything the server sent before closing (or before the wait ended). */
  readonly text: string;
  /** The status code of the first response, if any arrived. */
  readonly status?: number;
  /** True when the server closed the connection. */
  readonly closed: boolean;
}

/** Opens a TCP connection to 127.0.0.1:port. */
export function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Writes text to a connection. */
export async function send(conn: Deno.Conn, text: string | Uint8Array): Promise<void> {
  const bytes = typeof text === "string" ? enc.encode(text) : text;
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/**
 * Reads until the server closes the connection, or `waitMs` passes without
 * it closing. Closes the connection before returning.
 */
export async function readUntilClose(conn: Deno.Conn, waitMs: number): Promise<RawResult> {
  const chunks: string[] = [];
  const buf = new Uint8Array(64 * 1024);
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), waitMs)));
  try {
    for (;;) {
      const n = await Promise.race([conn.read(buf), timeout]);
      if (n === "timeout") break;
      if (n === null) {
        closed = true;
        break;
      }
      chunks.push(dec.decode(buf.subarray(0, n), { stream: true }));
    }
  } catch {
    closed = true;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  const text = chunks.join("");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return { text, closed, status: m ? Number(m[1]) : undefined };
}

/** Sends `text` on a fresh connection and reads until close or `waitMs`. */
export async function rawExchange(port: number, text: string, waitMs = 2000): Promise<RawResult> {
  const conn = await connect(port);
  await send(conn, text);
  return readUntilClose(conn, waitMs);
}

/** A GET with the given raw target and `Connection: close`. */
export function rawGet(target: string, extraHeaders = ""): string {
  return `GET ${target} HTTP/1.1\r\nHost: test.local\r\n${extraHeaders}Connection: close\r\n\r\n`;
}

/** A TCP server that answers with whatever the test writes, for backends that misbehave. */
export interface RawBackend extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
}

/**
 * Starts a raw TCP backend on `hostname` (127.0.0.1 by default).
 * `onConnection` owns each accepted connection (it may write anything,
 * stall, or close); connections still open when the backend is disposed
 * are closed.
 */
export function startRawBackend(
  onConnection: (conn: Deno.TcpConn) => Promise<void>,
  hostname = "127.0.0.1",
): RawBackend {
  return serveRaw(Deno.listen({ hostname, port: 0 }), onConnection, "http");
}

/**
 * Serves a raw backend on a bound listener (TCP, or TLS with
 * `Deno.listenTls`), as {@linkcode startRawBackend} does; `scheme` names
 * its URL's.
 */
export function serveRaw<C extends Deno.Conn<Deno.NetAddr>>(
  listener: Deno.Listener<C, Deno.NetAddr>,
  onConnection: (conn: C) => Promise<void>,
  scheme: "http" | "https",
): RawBackend {
  const hostname = listener.addr.hostname;
  const open = new Set<C>();
  const tasks = new Set<Promise<void>>();
  let accepted = 0;
  const loop = (async () => {
    for (;;) {
      let conn: C;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      accepted++;
      open.add(conn);
      const task = onConnection(conn).catch(() => {}).finally(() => {
        open.delete(conn);
        try {
          conn.close();
        } catch {
          // Closed by the handler.
        }
      });
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();
  const port = listener.addr.port;
  return {
    url: `${scheme}://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      await Promise.all(tasks);
    },
  };
}

/** Reads from `conn` until the end of a request header block (or close). */
export async function readRequestHead(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(16 * 1024);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += dec.decode(buf.subarray(0, n));
  }
  return text;
}

/** Waits until the peer closes `conn` (or it errors), discarding anything read. */
export async function waitForClose(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  try {
    while ((await conn.read(buf)) !== null) {
      // Discard.
    }
  } catch {
    // Reset counts as closed.
  }
}
