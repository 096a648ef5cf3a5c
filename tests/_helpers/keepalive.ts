/**
 * HTTP/1.1 keep-alive clients over raw sockets, for what `fetch` hides:
 * which connection a request went out on, whether it was reused, and how
 * exactly it failed. Used by the connection-limit and drain tests, and as a
 * load generator whose error counts the README reports.
 *
 * @module
 */

import { connect, send } from "./raw.ts";

const dec = new TextDecoder();

/** One response read off a keep-alive connection. */
export interface KeptResponse {
  readonly status: number;
  /** The head, lower-cased, for header checks. */
  readonly head: string;
  readonly body: string;
  /** True when the response says `Connection: close`. */
  readonly close: boolean;
}

/** A keep-alive connection that reads responses one at a time. */
export class KeepAliveConn implements Disposable {
  readonly conn: Deno.TcpConn;
  #buffered = new Uint8Array(0);
  /** Responses read on this connection so far. */
  responses = 0;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Opens a connection to 127.0.0.1:port. */
  static async open(port: number): Promise<KeepAliveConn> {
    return new KeepAliveConn(await connect(port));
  }

  /** Sends `GET target` (keep-alive) and reads its response; rejects if the connection ends first. */
  async get(target = "/"): Promise<KeptResponse> {
    await send(this.conn, `GET ${target} HTTP/1.1\r\nHost: test.local\r\n\r\n`);
    return await this.read();
  }

  /** Reads exactly one response (framed by Content-Length or chunked). */
  async read(): Promise<KeptResponse> {
    let end: number;
    while ((end = this.#find("\r\n\r\n")) < 0) await this.#fill();
    const head = dec.decode(this.#buffered.subarray(0, end)).toLowerCase();
    this.#buffered = this.#buffered.subarray(end + 4);
    const status = Number(/^http\/1\.[01] (\d{3})/.exec(head)?.[1]);
    const length = /\r\ncontent-length: *(\d+)/.exec(head)?.[1];
    let body: string;
    if (length !== undefined) {
      while (this.#buffered.length < Number(length)) await this.#fill();
      body = dec.decode(this.#buffered.subarray(0, Number(length)));
      this.#buffered = this.#buffered.subarray(Number(length));
    } else {
      // Chunked: small test bodies, read up to the last chunk.
      let last: number;
      while ((last = this.#find("0\r\n\r\n")) < 0) await this.#fill();
      body = dec.decode(this.#buffered.subarray(0, last));
      this.#buffered = this.#buffered.subarray(last + 5);
    }
    this.responses++;
    return { status, head, body, close: /\r\nconnection: *close/.test(head) };
  }

  #find(text: string): number {
    const bytes = new TextEncoder().encode(text);
    const b = this.#buffered;
    outer: for (let i = 0; i + bytes.length <= b.length; i++) {
      for (let j = 0; j < bytes.length; j++) if (b[i + j] !== bytes[j]) continue outer;
      return i;
    }
    return -1;
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(16 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) throw new Deno.errors.UnexpectedEof("connection closed mid-response");
    const next = new Uint8Array(this.#buffered.length + n);
    next.set(this.#buffered);
    next.set(chunk.subarray(0, n), this.#buffered.length);
    this.#buffered = next;
  }

  [Symbol.dispose](): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** What happened to a group of clients sending requests back to back. */
export interface LoadOutcome {
  /** Responses received. */
  readonly responses: number;
  /** Responses that announced `Connection: close`. */
  readonly closeAnnounced: number;
  /**
   * Requests written on a connection that had already carried a response,
   * then met a write error, a reset or the end of the connection before
   * their response: what a client pool sees as a failed request on a
   * reused connection.
   */
  readonly reusedConnectionErrors: number;
  /** Connections that could not be opened (refused: the listener is gone). */
  readonly connectErrors: number;
  /** Other failures (a first request on a fresh connection failing). */
  readonly otherErrors: number;
}

/** Options for {@linkcode keepAliveLoad}. */
export interface LoadOptions {
  /** Clients, each with one connection at a time. */
  readonly clients: number;
  /** The clients stop once this settles (they also stop when a connect is refused). */
  readonly stop?: Promise<unknown>;
  /** Called after every response, with the number so far. */
  readonly onResponse?: (responses: number) => void;
}

/**
 * Runs keep-alive clients against 127.0.0.1:port, each sending GETs back to
 * back on its connection, opening a new one when a response says
 * `Connection: close`, until `stop` settles or a connection cannot be
 * opened. Never throws; counts what happened.
 */
export async function keepAliveLoad(port: number, options: LoadOptions): Promise<LoadOutcome> {
  let stopped = false;
  options.stop?.finally(() => (stopped = true));
  const counts = {
    responses: 0,
    closeAnnounced: 0,
    reusedConnectionErrors: 0,
    connectErrors: 0,
    otherErrors: 0,
  };
  const client = async () => {
    while (!stopped) {
      let kept: KeepAliveConn;
      try {
        kept = await KeepAliveConn.open(port);
      } catch {
        counts.connectErrors++;
        return;
      }
      using conn = kept;
      while (!stopped) {
        const reused = conn.responses > 0;
        try {
          const res = await conn.get("/");
          counts.responses++;
          options.onResponse?.(counts.responses);
          if (!res.close) continue;
          counts.closeAnnounced++;
        } catch {
          if (reused) counts.reusedConnectionErrors++;
          else counts.otherErrors++;
        }
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  return counts;
}
