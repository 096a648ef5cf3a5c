/**
 * The packet path of a UDP listener: a client's datagram finds or opens
 * its session and goes to the session's backend; the backend's reply goes
 * back to that client; one timer expires idle sessions and fails backends
 * that stay silent. `relay.ts` explains the choices; this is the mechanism.
 *
 * @module
 */

import type { Clock } from "../../clock/mod.ts";
import { isLocalResourceError } from "../../core/mod.ts";
import type { EventLog } from "../../events/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { maskClientIp } from "../../net/mod.ts";
import type { Pool } from "../../pool/mod.ts";
import { backendAt, MAX_UDP_PAYLOAD } from "./_address.ts";
import { DeadlineTimer } from "./deadline.ts";
import type { UdpRelayFilters, UdpRelayOptions } from "./options.ts";
import { leaseBackend, UdpSession } from "./session.ts";
import { type SessionLimits, SessionTable } from "./sessions.ts";
import type { DatagramSocket } from "./socket.ts";
import { UdpRelayStats } from "./stats.ts";
import { UpstreamSocket } from "./upstream.ts";

const ALLOW_ALL = (): boolean => true;

/** What the packet path is built from: the relay's options, resolved. */
export interface NatOptions
  extends Omit<UdpRelayOptions, "address" | "clock" | keyof SessionLimits> {
  /** Time for expiry, reply timeouts, the grace and the rate limit. */
  readonly clock: Clock;
  /** The session table's limits. */
  readonly limits: SessionLimits;
}

/**
 * Sessions, counters and the sweep timer of one listener. Its owner binds
 * the listener socket with {@linkcode Nat.datagram} as its handler and
 * hands it over ({@linkcode Nat.listen}) before the first datagram arrives.
 */
export class Nat {
  readonly table: SessionTable<UdpSession>;
  readonly stats = new UdpRelayStats();
  readonly logger: Logger;
  #socket: DatagramSocket | undefined;
  readonly #name: string;
  readonly #events: EventLog;
  readonly #clock: Clock;
  #pool: Pool;
  #poolName: string;
  #accept: (ip: string) => boolean;
  #allowPacket: (ip: string, now: number) => boolean;
  readonly #timer: DeadlineTimer;
  #fullNoted = false;
  #draining = false;
  #drained: (() => void) | undefined;
  #closed = false;
  readonly #closing = new Set<Promise<void>>();

  constructor(options: NatOptions) {
    this.#name = options.name;
    this.#pool = options.pool;
    this.#poolName = options.poolName;
    this.logger = options.logger;
    this.#events = options.events;
    this.#clock = options.clock;
    this.table = new SessionTable(options.limits);
    this.#accept = options.accept ?? ALLOW_ALL;
    this.#allowPacket = options.allowPacket ?? ALLOW_ALL;
    this.#timer = new DeadlineTimer(this.#clock, this.#sweep);
  }

  /** The listener socket, bound with this as its events: where replies go out. */
  listen(socket: DatagramSocket): void {
    this.#socket = socket;
  }

  /** One datagram from a client (a view of the listener's receive buffer). */
  datagram = (data: Uint8Array, from: Deno.NetAddr): void => {
    if (this.#closed) return;
    const now = this.#clock.now();
    const drops = this.stats.drops;
    let session = this.table.find(from.hostname, from.port);
    if (!session) {
      if (this.#draining) return void drops.draining++;
      // [SECURITY] Allow/deny networks, once per session: the address of a
      // session never changes, and a reload re-checks them (setFilters).
      if (!this.#accept(from.hostname)) return void drops.denied++;
    }
    // [SECURITY] Flood control: every datagram, before it costs a socket.
    if (!this.#allowPacket(from.hostname, now)) return void drops.rate_limited++;
    if (data.length > MAX_UDP_PAYLOAD) return void drops.too_large++;
    if (session) this.table.touch(session, now);
    else session = this.#open(from, now);
    if (!session || (!session.upstream && !this.#attach(session))) return void drops.no_backend++;
    const lease = session.lease!;
    if (!session.upstream!.send(data)) return void drops.send_failed++;
    this.stats.packetsToBackend++;
    this.stats.bytesToBackend += data.length;
    lease.state.stats.bytesOut += data.length;
    if (this.table.awaitReply(session, now)) {
      session.firstSentAt = now;
      this.#arm();
    }
  };

  /** New limits: a lower `maxSessions` evicts at once, new timeouts apply to every session. */
  setLimits(limits: SessionLimits): void {
    this.table.setLimits(limits);
    this.#makeRoom(0);
    this.#timer.cancel(); // deadlines may have moved either way
    this.#arm();
  }

  /** New filters: sessions of clients `accept` now refuses are closed. */
  setFilters(filters: UdpRelayFilters): void {
    if (filters.allowPacket) this.#allowPacket = filters.allowPacket;
    if (!filters.accept) return;
    this.#accept = filters.accept;
    for (const session of this.table.entries()) {
      // [SECURITY] A network denied by a reload loses its sessions now, not when idle.
      if (this.#accept(session.address)) continue;
      this.stats.sessionsRevoked++;
      this.#close(session);
    }
  }

  /** A new pool: sessions whose backend left it pick again at their next datagram. */
  setPool(pool: Pool, poolName = this.#poolName): void {
    this.#pool = pool;
    this.#poolName = poolName;
    const kept = new Set(pool.states);
    for (const session of this.table.entries()) {
      const lease = session.lease;
      if (lease && !kept.has(lease.state)) this.#detach(session);
    }
  }

  /** Takes no new sessions; resolves when none is left or `graceMs` has passed. */
  drain(graceMs: number): Promise<void> {
    this.#draining = true;
    if (this.table.size === 0 || graceMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const grace = this.#clock.setTimer(graceMs, () => this.#drained?.());
      this.#drained = () => {
        this.#drained = undefined;
        grace.cancel();
        resolve();
      };
    });
  }

  /** Closes every session and the listener socket; resolves when every socket is closed. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    this.#timer.cancel();
    for (const session of this.table.entries()) this.#close(session);
    if (this.#socket) this.#track(this.#socket.close());
    while (this.#closing.size > 0) await Promise.all(this.#closing);
  }

  #open(from: Deno.NetAddr, now: number): UdpSession | undefined {
    const session = new UdpSession(from);
    if (!this.#attach(session)) return undefined;
    this.#makeRoom(1);
    this.table.add(session, now);
    this.stats.sessionsCreated++;
    this.#arm();
    return session;
  }

  /** Picks a backend for the session and opens its socket there. */
  #attach(session: UdpSession): boolean {
    for (;;) {
      const lease = leaseBackend(this.#pool, session.address, session.excluded);
      if (!lease) {
        // Nothing left to try: the session ends, and with it what it excluded.
        this.#close(session);
        return false;
      }
      session.lease = lease;
      this.table.resetReply(session);
      const { hostname, port } = backendAt(lease.state.backend.url);
      try {
        session.upstream = new UpstreamSocket(hostname, port, {
          reply: (data) => this.#toClient(session, data),
          dropped: (reason) => this.stats.drops[reason]++,
          failed: (error) => this.#failed(session, error.message, error),
        });
        return true;
      } catch (e) {
        // A backend address no socket takes (a bad port): fails at once, try another.
        this.#failed(session, e instanceof Error ? e.message : String(e), e);
        if (!session.excluded?.has(lease.state.id)) return false; // local: the session closed
      }
    }
  }

  #toClient(session: UdpSession, data: Uint8Array): void {
    const lease = session.lease;
    if (!lease || this.#closed) return;
    const now = this.#clock.now();
    this.table.touch(session, now);
    if (!session.replied) {
      this.table.answered(session);
      lease.succeeded();
      const waited = now - session.firstSentAt;
      if (Number.isFinite(waited)) lease.state.stats.latency.record(waited, now);
    }
    if (data.length > MAX_UDP_PAYLOAD) return void this.stats.drops.too_large++;
    if (!this.#socket?.send(data, session.client)) return void this.stats.drops.send_failed++;
    this.stats.packetsToClient++;
    this.stats.bytesToClient += data.length;
    lease.state.stats.bytesIn += data.length;
  }

  /** The session's backend failed it: blame the backend, and pick another next time. */
  #failed(session: UdpSession, detail: string, error?: unknown): void {
    const lease = session.lease;
    if (!lease) return;
    const fields = {
      listener: this.#name,
      pool: this.#poolName,
      backend: lease.state.id,
      client: maskClientIp(session.address),
      detail,
    };
    if (error !== undefined && isLocalResourceError(error)) {
      // [SECURITY] Blame: Aegis out of sockets says nothing about the backend,
      // so the breaker hears nothing and the session ends.
      this.logger.warn("udp session lost: no socket", fields);
      this.#close(session);
      return;
    }
    lease.failed();
    this.stats.upstreamFailures++;
    (session.excluded ??= new Set()).add(lease.state.id);
    this.logger.debug("udp backend failed a session", fields);
    this.#detach(session);
  }

  #detach(session: UdpSession): void {
    this.table.resetReply(session);
    const closing = session.detach();
    if (closing) this.#track(closing);
  }

  #close(session: UdpSession): void {
    // A new client's session that found no backend was never added: not counted.
    if (this.table.remove(session)) this.stats.sessionsClosed++;
    this.#detach(session);
    if (this.#draining && this.table.size === 0) this.#drained?.();
  }

  /** Evicts the least recently active sessions until `room` more fit. */
  #makeRoom(room: number): void {
    const max = this.table.limits.maxSessions;
    while (this.table.size + room > max) {
      this.stats.sessionsEvicted++;
      this.#close(this.table.oldest()!);
      if (this.#fullNoted) continue;
      this.#fullNoted = true;
      const fields = { listener: this.#name, pool: this.#poolName, max_sessions: max };
      this.logger.warn("udp session table full: evicting the least recently active", fields);
      this.#events.record("udp", `udp listener ${this.#name}: session table full (${max})`, fields);
    }
  }

  #sweep = (): void => {
    const now = this.#clock.now();
    for (let s = this.table.nextOverdue(now); s; s = this.table.nextOverdue(now)) {
      const waited = now - s.waitingSince;
      this.table.resetReply(s);
      this.#failed(s, `no reply within ${waited}ms`);
    }
    for (let s = this.table.nextExpired(now); s; s = this.table.nextExpired(now)) {
      this.stats.sessionsExpired++;
      this.#close(s);
    }
    if (!this.table.full) this.#fullNoted = false;
    this.#arm();
  };

  /** Makes sure the sweep runs by the table's next deadline. */
  #arm(): void {
    if (!this.#closed) this.#timer.at(this.table.nextDeadline());
  }

  #track(closing: Promise<void>): void {
    this.#closing.add(closing);
    closing.finally(() => this.#closing.delete(closing));
  }
}
