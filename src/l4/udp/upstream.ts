/**
 * One session's socket to its backend: a fresh ephemeral port per client,
 * so the backend's replies can only belong to that client (the NAT).
 *
 * `Deno.listenDatagram` sockets cannot be connected: each send names the
 * backend, and the kernel neither filters what arrives nor reports ICMP
 * port-unreachable (Linux reports it on connected sockets only). So the
 * filter is done here ([SECURITY], below), and a refused backend is noticed
 * by its silence (the relay's reply timeout). Errors a send does report go
 * to `failed` or `dropped` as before.
 *
 * A backend named by host is resolved once per session, to an IPv4
 * address, as `node:dgram`'s `connect()` did: sending to the name would
 * resolve it again for every datagram. The first datagrams wait in a short
 * queue until the address is known.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { canonicalIp, sessionAddressFor } from "./_address.ts";
import { DatagramSocket } from "./socket.ts";
import type { DropReason } from "./stats.ts";

/**
 * Datagrams held while the backend's name is resolved. A client that
 * sends more than this before its backend's address is known is
 * outrunning any backend; the rest are dropped as `send_failed`.
 */
export const CONNECT_QUEUE_LIMIT = 64;

/** What a session hears from its upstream socket. */
export interface UpstreamEvents {
  /** A datagram from the backend (a view, valid during the call: see {@linkcode DatagramSocket}). */
  reply(data: Uint8Array): void;
  /** A datagram was not sent, or one arrived from someone else. */
  dropped(reason: DropReason): void;
  /** The socket failed (the backend refused, or its name did not resolve). */
  failed(error: Error): void;
}

// Sends that a backend refused (where the kernel reports it on a send).
const REFUSED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN"]);

/** A UDP socket to one backend for one client. */
export class UpstreamSocket {
  readonly #socket: DatagramSocket;
  readonly #events: UpstreamEvents;
  /** The backend, as the runtime reports a sender; unknown while its name resolves. */
  #peer: Deno.NetAddr | undefined;
  #queue: Uint8Array[] | undefined;
  #resolving: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  /**
   * Opens a socket for the backend at `hostname:port`.
   *
   * @throws {RangeError} when `port` is no port a datagram can go to
   * @throws {Error} when no socket can be bound (out of descriptors, no permission)
   *
   * @example
   * ```ts
   * const up = new UpstreamSocket("10.0.0.7", 53, {
   *   reply: (data) => listener.send(data, client),
   *   dropped: (reason) => stats.drops[reason]++,
   *   failed: (e) => session.fail(e),
   * });
   * up.send(query);
   * await up.close();
   * ```
   */
  constructor(hostname: string, port: number, events: UpstreamEvents) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new RangeError(`udp backend port ${port} is out of range 1-65535`);
    }
    this.#events = events;
    this.#socket = DatagramSocket.bind(sessionAddressFor(hostname), {
      datagram: this.#onDatagram,
      receiveFailed: this.#onError,
      sendFailed: this.#afterSendFailed,
    });
    const ip = canonicalIp(hostname);
    if (ip !== undefined) {
      this.#peer = { transport: "udp", hostname: ip, port };
      return;
    }
    this.#queue = [];
    this.#resolving = lookup(hostname, { family: 4 }).then(
      ({ address }) => this.#onResolved({ transport: "udp", hostname: address, port }),
      (e) => this.#onError(e instanceof Error ? e : new Error(String(e))),
    );
  }

  /**
   * Sends one datagram to the backend (a copy: `data` may be reused at
   * once), or queues it while the backend's name resolves. Returns false
   * when it was not taken (closed, a queue full).
   */
  send(data: Uint8Array): boolean {
    if (this.#closed) return false;
    const peer = this.#peer;
    if (peer) return this.#socket.send(data, peer);
    const queue = this.#queue;
    if (!queue || queue.length >= CONNECT_QUEUE_LIMIT) return false;
    queue.push(data.slice());
    return true;
  }

  /**
   * Closes the socket; resolves once it is closed and a pending name
   * lookup has settled. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#queue = undefined;
    return this.#closed ??= Promise.all([this.#socket.close(), this.#resolving]).then(() => {});
  }

  #onResolved(peer: Deno.NetAddr): void {
    if (this.#closed) return;
    this.#peer = peer;
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    for (const data of queue) {
      if (!this.#socket.send(data, peer)) this.#events.dropped("send_failed");
    }
  }

  #onDatagram = (data: Uint8Array, from: Deno.NetAddr): void => {
    if (this.#closed) return;
    const peer = this.#peer;
    // [SECURITY] NAT injection: the kernel delivers whatever reaches the
    // socket's port (see the module doc), so anyone who learns it could
    // reach the client through it. Only the backend's own address and port
    // are relayed.
    if (!peer || from.port !== peer.port || from.hostname !== peer.hostname) {
      this.#events.dropped("stray");
      return;
    }
    this.#events.reply(data);
  };

  #onError = (error: Error): void => {
    if (!this.#closed) this.#events.failed(error);
  };

  #afterSendFailed = (error: Error): void => {
    if (this.#closed) return;
    const code = (error as { code?: string }).code ?? "";
    if (REFUSED.has(code)) this.#events.failed(error);
    else this.#events.dropped(code === "EMSGSIZE" ? "too_large" : "send_failed");
  };
}
