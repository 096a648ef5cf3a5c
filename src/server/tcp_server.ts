/**
 * The TCP listener of an L4 (`protocol: tcp`) listener: binds the socket,
 * screens and admits each accepted connection, and hands it to a handler
 * (the TCP relay) with a signal that ends it when a shutdown's grace is
 * over. It reuses the HTTP listener's accept loop and connection
 * admission, so limits, refusals and accept failures count alike.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock/mod.ts";
import type { Logger } from "../log/mod.ts";
import { maskClientIp } from "../net/mod.ts";
import { startAcceptLoop } from "./accept_loop.ts";
import { Closing } from "./closing.ts";
import {
  ConnectionAdmission,
  type ConnectionLimits,
  type ScreenReason,
  UNLIMITED_CONNECTIONS,
} from "./admission.ts";
import { ReportGate } from "./report_gate.ts";
import { clientFromAddr, type Server } from "./server.ts";

/** A TCP connection's client: the socket peer, IPv4-mapped IPv6 shown as IPv4. */
export interface TcpClient {
  readonly ip: string;
  readonly port: number;
}

/**
 * Serves one admitted connection until it is over, closing it; `signal`
 * fires when the shutdown's grace period is over. The relay's type, seen
 * from here without importing it.
 */
export type TcpHandler = (
  conn: Deno.TcpConn,
  client: TcpClient,
  signal: AbortSignal,
) => Promise<unknown>;

/** Options for {@linkcode startTcpServer}. */
export interface TcpServerOptions {
  /** Address to bind. */
  readonly hostname: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** Serves each admitted connection (the TCP relay). */
  readonly handler: TcpHandler;
  /** Refusals, accept failures, handler failures, forced closes. */
  readonly logger: Logger;
  /** Most connections open at once, overall and per client; unlimited by default. */
  readonly limits?: ConnectionLimits;
  /** Who counts as one client for `limits.maxPerClient`; the address itself by default. */
  readonly clientKey?: (ip: string) => string;
  /**
   * Decides first, for every accepted connection, whether it is turned away
   * (the listener's allowed and denied networks, its new-connection rate);
   * `undefined` lets it on to admission. Nothing is screened by default.
   */
  readonly screen?: (ip: string) => ScreenReason | undefined;
  /**
   * Receives `setTimeouts()` (a reload). The relay owns a TCP connection's
   * timeouts, so the listener only passes them on; ignored by default.
   */
  readonly onTimeouts?: (
    timeouts: { firstRequestTimeoutMs: number; idleTimeoutMs: number },
  ) => void;
  /** Times the shutdown's grace period; the system clock by default. */
  readonly clock?: Clock;
  /**
   * Binds with `SO_REUSEPORT`, so that every worker isolate (`server.workers`)
   * binds a socket of its own on the same port and the kernel spreads new
   * connections between them. Off by default: a second process on the port
   * is then an error, as it should be for one isolate.
   */
  readonly reusePort?: boolean;
}

/** At most one log line per this period about refused connections. */
const REPORT_EVERY_MS = 10_000;

/** A connection being served. */
interface Live {
  readonly abort: AbortController;
}

/**
 * Binds a TCP listener and starts handing connections to `handler`.
 * `requestsInFlight` counts open relays (one per connection).
 *
 * @throws {Deno.errors.AddrInUse} and other bind errors, before anything is accepted
 *
 * @example
 * ```ts
 * const server = startTcpServer({
 *   hostname: "0.0.0.0", port: 5432, logger,
 *   handler: tcpRelay({ pool, poolName: "db", connectTimeoutMs: 5000, retries: 1, idleTimeoutMs: 300_000, logger }),
 *   limits: { maxConnections: 10_000, maxPerClient: 64 },
 *   screen: (ip) => (allowed(ip) ? undefined : "denied"),
 * });
 * await server.shutdown(30_000);
 * ```
 */
export function startTcpServer(options: TcpServerOptions): Server {
  const { logger, handler } = options;
  const clock = options.clock ?? systemClock;
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
    ...(options.reusePort ? { reusePort: true } : {}),
  });
  const admission = new ConnectionAdmission(options.limits ?? UNLIMITED_CONNECTIONS);
  const keyOf = options.clientKey ?? ((ip: string) => ip);
  const screen = options.screen ?? (() => undefined);
  const screened: Record<ScreenReason, number> = { denied: 0, rate_limited: 0 };
  const refusals = new ReportGate(REPORT_EVERY_MS);
  const live = new Set<Live>();
  let accepted = 0;
  let accepting = true;

  const refused = (reason: string, client: string) => {
    const count = refusals.note(clock.now());
    if (count === undefined) return;
    logger.warn("connections refused", {
      refused: count,
      reason,
      client: maskClientIp(client),
      open: admission.open,
      max_connections: admission.limits.maxConnections,
      max_connections_per_client: admission.limits.maxPerClient,
    });
  };

  const track = (conn: Deno.TcpConn) => {
    if (!accepting) {
      // Accepted in the moment between the shutdown and the listener's close.
      conn.close();
      return;
    }
    const { ip, port } = clientFromAddr(conn.remoteAddr, listener.addr.port);
    // [SECURITY] Network filter and new-connection rate first: a client
    // turned away never takes an admission slot or reaches a backend.
    const verdict = screen(ip);
    if (verdict !== undefined) {
      conn.close();
      screened[verdict]++;
      return refused(verdict, ip);
    }
    // [SECURITY] Connection caps: past max_connections or the per-client
    // cap the connection is closed at once, before a backend is dialled.
    const permit = admission.admit(keyOf(ip));
    if (typeof permit === "string") {
      conn.close();
      return refused(permit, ip);
    }
    accepted++;
    const entry: Live = { abort: new AbortController() };
    live.add(entry);
    let served: Promise<unknown>;
    try {
      served = handler(conn, { ip, port }, entry.abort.signal);
    } catch (e) {
      served = Promise.reject(e);
    }
    served.catch((e) => {
      // The relay reports its own endings; a throw is a bug, and the
      // connection must not outlive it.
      logger.error("tcp connection handler failed", {
        error: e instanceof Error ? e.message : String(e),
      });
      try {
        conn.close();
      } catch {
        // The handler closed it.
      }
    }).finally(() => {
      permit[Symbol.dispose]();
      live.delete(entry);
      closing.connectionClosed();
    });
  };

  const acceptLoop = startAcceptLoop(listener, track, logger, () => ({ connections: live.size }));

  const closing = new Closing({
    clock,
    logger,
    open: () => live.size,
    force: () => {
      for (const entry of live) entry.abort.abort();
    },
  });

  return {
    addr: listener.addr,
    get connections() {
      return live.size;
    },
    get accepted() {
      return accepted;
    },
    // One relay per connection: a TCP connection is its one "request".
    get requestsInFlight() {
      return live.size;
    },
    get draining() {
      return !accepting;
    },
    get limits() {
      return admission.limits;
    },
    get rejected() {
      return { ...admission.rejected };
    },
    get screened() {
      return { ...screened };
    },
    get acceptErrors() {
      return acceptLoop.errors;
    },
    connectionTimeouts: true,
    setLimits(limits) {
      admission.setLimits(limits);
    },
    setTimeouts(timeouts) {
      options.onTimeouts?.(timeouts);
    },
    shutdown(graceMs) {
      return closing.begin(graceMs, () => {
        accepting = false;
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        acceptLoop.stop();
      });
    },
  };
}
