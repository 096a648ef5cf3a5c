/**
 * One UDP socket of the relay, on `Deno.listenDatagram` (`--unstable-net`):
 * a single receive loop that reuses one buffer for every datagram, and
 * sends that are started, not awaited: the caller goes on at once, and a
 * failure is reported later. `relay.ts` says why this API and not
 * `node:dgram`.
 *
 * One send is in flight per socket; the next ones wait in a short queue
 * until it finishes. Normally it finishes at once (the runtime tries the
 * send when it is made) and nothing waits. But a send the runtime cannot
 * finish at once — the first ones on a new socket, before it is known to be
 * writable, or any while the kernel's send buffer is full — is finished
 * later, and the runtime finishes several of those in the reverse order
 * they were made (measured: five back-to-back sends on a new socket
 * arrived last first). The queue keeps datagrams in order.
 *
 * Per datagram received, the runtime allocates its promise, its address
 * object and a view of the buffer; the relay adds one copy of the payload
 * when it forwards it (the buffer is reused by the next receive while the
 * send may still read it) and one promise to learn how the send went.
 *
 * @module
 */

import { formatHostPort, type HostPort } from "./_address.ts";

/**
 * The receive buffer: the largest UDP payload over IPv4 (65,507 bytes) and
 * over IPv6 (65,527) both fit, so no datagram is cut short by the runtime;
 * one over 65,507 is then dropped as too large by the relay, whole.
 */
export const RECEIVE_BUFFER_BYTES = 65_536;

/**
 * [SECURITY] Datagrams one socket holds while a send is in flight. The
 * queue fills only when sends stop finishing at once (the kernel takes no
 * more); past it datagrams are dropped, as the kernel would drop them,
 * instead of piling up copies without bound under a flood: at most this
 * many times the datagram size per socket. Under 100,000 datagrams/s
 * offered to one relay on loopback, no send ever waited.
 */
export const SEND_QUEUE_LIMIT = 256;

/** What a socket reports to its owner. */
export interface DatagramEvents {
  /**
   * A datagram, and who sent it. `data` is a view of the socket's receive
   * buffer, valid until the handler returns: keep a copy, not the view.
   */
  datagram(data: Uint8Array, from: Deno.NetAddr): void;
  /** A receive failed; the loop goes on (the owner may close the socket). */
  receiveFailed(error: Error): void;
  /** A send the socket had taken failed. */
  sendFailed(error: Error): void;
}

/** A bound UDP socket with its receive loop running. */
export class DatagramSocket {
  /** The bound address, with the real port when port 0 was asked. */
  readonly addr: Deno.NetAddr;
  readonly #conn: Deno.DatagramConn;
  readonly #events: DatagramEvents;
  readonly #loop: Promise<void>;
  /** Whether a send is in flight: the next ones queue behind it. */
  #sending = false;
  readonly #queue: Array<readonly [Uint8Array, Deno.NetAddr]> = [];
  #closed: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  /**
   * Binds `at` and starts receiving.
   *
   * @throws {Error} naming the address and the reason (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`),
   *   the runtime's error as its `cause`
   * @throws {Deno.errors.NotCapable} when `--allow-net` does not cover `at`
   * @throws {TypeError} when the runtime was started without `--unstable-net`
   *
   * @example
   * ```ts
   * const socket = DatagramSocket.bind({ hostname: "127.0.0.1", port: 0 }, {
   *   datagram: (data, from) => socket.send(data, from), // an echo
   *   receiveFailed: (e) => console.warn(e),
   *   sendFailed: (e) => console.warn(e),
   * });
   * await socket.close();
   * ```
   */
  static bind(at: HostPort, events: DatagramEvents): DatagramSocket {
    if (typeof Deno.listenDatagram !== "function") {
      throw new TypeError("udp listeners need Deno.listenDatagram: run with --unstable-net");
    }
    let conn: Deno.DatagramConn;
    try {
      conn = Deno.listenDatagram({ transport: "udp", hostname: at.hostname, port: at.port });
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) throw e;
      const code = (e as { code?: string }).code ?? (e as Error).message;
      throw new Error(`cannot bind udp ${formatHostPort(at)}: ${code}`, { cause: e });
    }
    return new DatagramSocket(conn, events);
  }

  private constructor(conn: Deno.DatagramConn, events: DatagramEvents) {
    this.#conn = conn;
    this.#events = events;
    this.addr = conn.addr as Deno.NetAddr;
    this.#loop = this.#receive();
  }

  /**
   * Sends a copy of `data` to `to`, without waiting for it to go out (a
   * failure reaches {@linkcode DatagramEvents.sendFailed}), after the
   * datagrams queued before it. Returns false, sending nothing, when the
   * socket is closed or its queue holds {@linkcode SEND_QUEUE_LIMIT}.
   */
  send(data: Uint8Array, to: Deno.NetAddr): boolean {
    if (this.#closed) return false;
    // The copy: `data` may be a view of a receive buffer the next datagram overwrites.
    if (!this.#sending) {
      this.#start(data.slice(), to);
      return true;
    }
    if (this.#queue.length >= SEND_QUEUE_LIMIT) return false;
    this.#queue.push([data.slice(), to]);
    return true;
  }

  /**
   * Closes the socket, dropping the datagrams still queued; resolves once
   * its receive loop has ended and the send in flight has finished, so no
   * operation outlives it. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#queue.length = 0;
    const idle = this.#sending
      ? new Promise<void>((resolve) => this.#idle = resolve)
      : Promise.resolve();
    this.#closed = Promise.all([this.#loop, idle]).then(() => {});
    // Rejects the pending receive (Interrupted), which ends the loop.
    this.#conn.close();
    return this.#closed;
  }

  async #receive(): Promise<void> {
    const buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
    for (;;) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await this.#conn.receive(buffer);
      } catch (e) {
        // Closing cancels the pending receive: Interrupted (BadResource if already gone).
        if (this.#closed || e instanceof Deno.errors.Interrupted) return;
        if (e instanceof Deno.errors.BadResource) return;
        this.#events.receiveFailed(e instanceof Error ? e : new Error(String(e)));
        continue;
      }
      if (this.#closed) return;
      this.#events.datagram(received[0], received[1] as Deno.NetAddr);
    }
  }

  #start(data: Uint8Array, to: Deno.NetAddr): void {
    this.#sending = true;
    this.#conn.send(data, to).then(this.#sent, this.#unsent);
  }

  /** The send in flight finished: the next queued one goes, if any. */
  #next(): void {
    this.#sending = false;
    const next = this.#queue.shift();
    if (next && !this.#closed) this.#start(next[0], next[1]);
    else if (this.#closed) this.#idle?.();
  }

  // One pair of callbacks for every send, so a datagram costs no closure.
  #sent = (): void => this.#next();

  #unsent = (error: unknown): void => {
    if (!this.#closed) {
      this.#events.sendFailed(error instanceof Error ? error : new Error(String(error)));
    }
    this.#next();
  };
}
