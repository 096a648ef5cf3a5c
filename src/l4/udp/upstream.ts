/**
 * One session's socket to its backend: a fresh ephemeral port per client,
 * so the backend's replies can only belong to that client (the NAT).
 *
 * The socket is `connect()`ed to the backend. In Deno 2.9 that call only
 * remembers the peer in JavaScript (denoland/deno#36492 would make it a
 * real `connect(2)`): the kernel neither filters what arrives nor reports
 * ICMP port-unreachable as `ECONNREFUSED`. So the filter is done here
 * ([SECURITY], below), and a refused backend is noticed by its silence (the
 * relay's reply timeout). Errors the socket does report — and ICMP errors,
 * once `connect()` is real — go to `failed` all the same.
 *
 * `connect()` resolves the host once per session, and sends are refused
 * until it is done, so the first datagrams wait in a short queue.
 *
 * @module
 */

import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { closeSocket, socketTypeFor } from "./_dgram.ts";
import type { DropReason } from "./stats.ts";

/**
 * Datagrams held while the socket connects (a host name being resolved).
 * A client that sends more than this before its backend's address is
 * known is outrunning any backend; the rest are dropped as `send_failed`.
 */
export const CONNECT_QUEUE_LIMIT = 64;

/** What a session hears from its upstream socket. */
export interface UpstreamEvents {
  /** A datagram from the backend. */
  reply(data: Uint8Array): void;
  /** A datagram was not sent, or one arrived from someone else. */
  dropped(reason: DropReason): void;
  /** The socket failed (the backend refused, or Aegis ran out of sockets). */
  failed(error: Error): void;
}

// Sends that a backend refused: with a real connect(2), a pending ICMP error
// is reported by the next send.
const REFUSED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN"]);

/** A connected UDP socket to one backend for one client. */
export class UpstreamSocket {
  readonly #socket: Socket;
  readonly #events: UpstreamEvents;
  #queue: Uint8Array[] | undefined = [];
  #peerAddress = "";
  #peerPort = -1;
  #closed: Promise<void> | undefined;

  /**
   * Opens a socket and connects it to `hostname:port`.
   *
   * @example
   * ```ts
   * const up = new UpstreamSocket("10.0.0.7", 53, {
   *   reply: (data) => listener.send(data, client.port, client.address),
   *   dropped: (reason) => stats.drops[reason]++,
   *   failed: (e) => session.fail(e),
   * });
   * up.send(query);
   * await up.close();
   * ```
   */
  constructor(hostname: string, port: number, events: UpstreamEvents) {
    this.#events = events;
    const socket = this.#socket = createSocket(socketTypeFor(hostname));
    socket.on("message", this.#onMessage);
    socket.on("error", this.#onError);
    socket.connect(port, hostname, this.#onConnect);
  }

  /**
   * Sends one datagram to the backend, or queues it while the socket
   * connects. Returns false when it was not taken (closed, queue full).
   * The datagram is not copied: the caller hands it over.
   */
  send(data: Uint8Array): boolean {
    if (this.#closed) return false;
    const queue = this.#queue;
    if (queue) {
      if (queue.length >= CONNECT_QUEUE_LIMIT) return false;
      queue.push(data);
      return true;
    }
    this.#socket.send(data, this.#afterSend);
    return true;
  }

  /** Closes the socket; resolves once it is closed. Calling it again returns the same promise. */
  close(): Promise<void> {
    this.#queue = undefined;
    return this.#closed ??= closeSocket(this.#socket);
  }

  #onConnect = (error?: Error | null): void => {
    if (this.#closed) return;
    if (error) {
      this.#events.failed(error);
      return;
    }
    const peer = this.#socket.remoteAddress();
    this.#peerAddress = peer.address;
    this.#peerPort = peer.port;
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    for (const data of queue) this.#socket.send(data, this.#afterSend);
  };

  #onMessage = (data: Uint8Array, from: RemoteInfo): void => {
    if (this.#closed) return;
    // [SECURITY] NAT injection: the socket is not really connected (see the
    // module doc), so anyone who learns its port could reach the client
    // through it. Only the backend's own address and port are relayed.
    if (from.port !== this.#peerPort || from.address !== this.#peerAddress) {
      this.#events.dropped("stray");
      return;
    }
    this.#events.reply(data);
  };

  #onError = (error: Error): void => {
    if (!this.#closed) this.#events.failed(error);
  };

  // One callback for every send, so a datagram costs no closure.
  #afterSend = (error: Error | null): void => {
    if (!error || this.#closed) return;
    const code = (error as { code?: string }).code ?? "";
    if (REFUSED.has(code)) this.#events.failed(error);
    else this.#events.dropped(code === "EMSGSIZE" ? "too_large" : "send_failed");
  };
}
