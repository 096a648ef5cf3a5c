/**
 * A `protocol: udp` listener: a NAT relay with one session per client
 * address:port. A session owns a socket of its own to the backend picked
 * for it (picked once), so whatever that backend sends back can only be
 * for that client, and goes out from the listener's address. Sessions end
 * after `sessionTimeoutMs` without traffic either way; past `maxSessions`
 * the least recently active one is evicted. One timer, re-armed for the
 * next deadline, does all expiry: no timer per session.
 *
 * **Per datagram from a client**: a new client must be accepted (`accept`,
 * allow/deny networks) and the listener not draining; every datagram must
 * pass `allowPacket` (the rate limit) and fit in 65,507 bytes. Each drop is
 * counted by reason ({@linkcode UdpRelayStats.drops}).
 *
 * **The breaker**: a session takes a breaker permit when it picks a backend
 * and holds one in-flight count there while it lives (`lease.ts`). The
 * backend's first reply settles the permit as a success. A socket error
 * (ICMP unreachable, where the runtime reports it) or, with
 * `replyTimeoutMs` > 0, no reply within it settles it as a failure; the
 * session then drops that backend, remembers it as excluded, and picks
 * again at the client's next datagram (datagrams already sent are lost, as
 * UDP allows; the client's retry reaches a live backend instead of the
 * same dead one, which consistent hashing would otherwise keep choosing
 * until its breaker opened). When nothing is left to pick, the session
 * ends. A session the client leaves before any verdict is neutral.
 *
 * Why a reply timeout, off by default: an unconnected UDP socket hears no
 * ICMP port-unreachable (see `upstream.ts`), so silence is the only sign of
 * a dead backend, and udp pools have no active health check. But one-way
 * protocols (syslog, statsd, NetFlow) never reply: a timeout there would
 * open every breaker. Set it for request/response protocols (DNS, RADIUS,
 * NTP).
 *
 * **Why `Deno.listenDatagram` and not `node:dgram`**: speed. `node:dgram`
 * in Deno 2.9 allocates a fresh 64 KiB buffer for every datagram it
 * receives and runs each through an event emitter; `Deno.listenDatagram`
 * receives into one buffer the caller reuses (`socket.ts`). On the
 * benchmark's load (64-byte datagrams offered at 50,000/s, 2 cores), the
 * thinnest possible relay delivered about 24.6k/s on `node:dgram` and
 * 42.5k–49.6k/s on `Deno.listenDatagram`; this relay went from 20.5k–32k/s
 * (peak RSS 211–219 MiB) on the former to 35.9k–49.5k/s (83–101 MiB) on
 * the latter, within 0–8% of the thinnest relay's CPU per datagram (README,
 * "L4: TCP and UDP"). The
 * price: it exists only with `--unstable-net` (without it the function is
 * missing, and {@linkcode startUdpRelay} refuses to start), so every task
 * that runs Aegis and the compiled binary carry that flag; and its sockets
 * have no `connect()`, so ICMP errors will not surface even once the
 * runtime reports them on connected sockets (denoland/deno#36492): the
 * reply timeout stays the way to notice a dead backend. Neither API raises
 * kernel socket buffers; `net.core.rmem_default` is the knob.
 *
 * **Permissions**: `--allow-net` (and `--unstable-net`) only, covering the
 * listener, each backend, every client replied to, and where a session's
 * socket binds: `127.0.0.1:0` (`[::1]:0`) for a loopback backend, else
 * `0.0.0.0:0` (`[::]:0` for IPv6 backends). All but the clients are checked
 * at start, so a missing one refuses the listener instead of failing each
 * session; a backend named by host also needs its name covered, to
 * resolve it.
 *
 * @module
 */

import { systemClock } from "../../clock/mod.ts";
import type { Pool } from "../../pool/mod.ts";
import {
  backendAt,
  formatHostPort,
  type HostPort,
  requireNet,
  sessionAddressFor,
  splitHostPort,
} from "./_address.ts";
import { Nat } from "./nat.ts";
import {
  limitsOf,
  UDP_RELAY_DEFAULTS,
  type UdpRelayFilters,
  type UdpRelayOptions,
} from "./options.ts";
import type { SessionLimits } from "./sessions.ts";
import { DatagramSocket } from "./socket.ts";
import type { UdpRelaySnapshot, UdpRelayStats } from "./stats.ts";

/** A running UDP listener. */
export interface UdpRelay extends AsyncDisposable {
  /** The listener's name. */
  readonly name: string;
  /** The bound address, with the real port when port 0 was asked. */
  readonly addr: Deno.NetAddr;
  /** Live counters (read them through {@linkcode UdpRelay.snapshot}). */
  readonly stats: UdpRelayStats;
  /** Sessions open now. */
  readonly sessions: number;
  /** A frozen view of the counters and the sessions open. */
  snapshot(): UdpRelaySnapshot;
  /** New limits (a reload); a lower `maxSessions` evicts the least recently active at once. */
  setLimits(limits: Partial<SessionLimits>): void;
  /** New filters (a reload); sessions of clients `accept` now refuses are closed at once. */
  setFilters(filters: UdpRelayFilters): void;
  /**
   * A new pool (a reload); sessions whose backend left it pick again at
   * their next datagram.
   *
   * @throws {Deno.errors.NotCapable} before changing anything, when `--allow-net` does not cover a backend
   */
  setPool(pool: Pool, poolName?: string): void;
  /**
   * Stops taking new sessions; existing ones go on until idle or until
   * `graceMs` has passed, then every socket is closed. Resolves when all
   * are. Later calls return the same promise (the first grace holds).
   */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * Binds a UDP listener and starts relaying.
 *
 * @throws {Error} (rejects) when the address cannot be bound, naming it and why, e.g. `EADDRINUSE`
 * @throws {Deno.errors.NotCapable} (rejects) when `--allow-net` does not cover the listener, a
 *   backend, or where sessions bind their sockets (`127.0.0.1:0`, `0.0.0.0:0`, `[::1]:0`, `[::]:0`)
 *
 * @example
 * ```ts
 * const relay = await startUdpRelay({
 *   name: "dns", address: "0.0.0.0:53", pool, poolName: "dns", logger, events,
 *   sessionTimeoutMs: 10_000, replyTimeoutMs: 2_000,
 *   accept: addressFilter(allow, deny), allowPacket: (ip, now) => limiter.allow(ip, now),
 * });
 * relay.addr.port; // 53
 * await relay.shutdown(5_000);
 * ```
 */
export function startUdpRelay(options: UdpRelayOptions): Promise<UdpRelay> {
  // Binding is synchronous now; every failure still rejects, as callers
  // (and a later asynchronous bind) expect.
  return Promise.try(() => {
    const at = splitHostPort(options.address);
    requireNet(at, `listener ${options.name}`);
    requirePoolNet(options.pool);
    const relay = new Relay(at, options);
    options.logger.info("udp listener started", {
      listener: options.name,
      address: formatHostPort(relay.addr),
      pool: options.poolName,
    });
    return relay;
  });
}

/** The listener's lifecycle around the packet path ({@linkcode Nat}). */
class Relay implements UdpRelay {
  readonly name: string;
  readonly addr: Deno.NetAddr;
  readonly #nat: Nat;
  #done: Promise<void> | undefined;

  constructor(at: HostPort, options: UdpRelayOptions) {
    this.name = options.name;
    this.#nat = new Nat({
      ...options,
      clock: options.clock ?? systemClock,
      limits: limitsOf(UDP_RELAY_DEFAULTS, options),
    });
    const stats = this.#nat.stats;
    // The first datagram can only be handled on a later turn of the event
    // loop, after the Nat has its socket.
    const socket = DatagramSocket.bind(at, {
      datagram: this.#nat.datagram,
      // A listener keeps serving whatever one receive reported.
      receiveFailed: (e) =>
        options.logger.warn("udp listener error", {
          listener: this.name,
          error: e.message,
        }),
      // A reply to a client was not sent.
      sendFailed: (e) =>
        stats.drops[(e as { code?: string }).code === "EMSGSIZE" ? "too_large" : "send_failed"]++,
    });
    this.#nat.listen(socket);
    this.addr = socket.addr;
  }

  get stats(): UdpRelayStats {
    return this.#nat.stats;
  }

  get sessions(): number {
    return this.#nat.table.size;
  }

  snapshot(): UdpRelaySnapshot {
    return this.#nat.stats.snapshot(this.sessions);
  }

  setLimits(limits: Partial<SessionLimits>): void {
    this.#nat.setLimits(limitsOf(this.#nat.table.limits, limits));
  }

  setFilters(filters: UdpRelayFilters): void {
    this.#nat.setFilters(filters);
  }

  setPool(pool: Pool, poolName?: string): void {
    requirePoolNet(pool);
    this.#nat.setPool(pool, poolName);
  }

  shutdown(graceMs: number): Promise<void> {
    return this.#done ??= this.#nat.drain(graceMs).then(async () => {
      await this.#nat.closeAll();
      this.#nat.logger.info("udp listener stopped", { listener: this.name });
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown(0);
  }
}

/** Every address a session of `pool` will bind or send to must be allowed (see `requireNet`). */
function requirePoolNet(pool: Pool): void {
  for (const state of pool.states) {
    const at = backendAt(state.backend.url);
    requireNet(at, `backend ${state.id}`);
    requireNet(sessionAddressFor(at.hostname), "session sockets");
  }
}
