/**
 * The public listener. Aegis accepts TCP connections itself and hands each to
 * the runtime's HTTP engine, so it can enforce connection timeouts and
 * limits, count connections, and drain them one by one. The only place that
 * opens the public socket.
 *
 * @module
 */

import { systemClock, type Watch, type Watchdog } from "../clock/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { GlobalStats } from "../metrics/mod.ts";
import { formatIp, maskClientIp, parseIp, unmapIpv4 } from "../net/mod.ts";
import { isMalformedFraming } from "../proxy/mod.ts";
import { startAcceptLoop } from "./accept_loop.ts";
import { Closing } from "./closing.ts";
import {
  ConnectionAdmission,
  type ConnectionLimits,
  type RejectReason,
  type ScreenReason,
  UNLIMITED_CONNECTIONS,
} from "./admission.ts";
import { type CloseReason, ConnectionState } from "./connection.ts";
import { ReportGate } from "./report_gate.ts";
import { startFallback } from "./_fallback.ts";
import { cancelConnection, type ServedConnection, serveOnConnection } from "./_serve_connection.ts";
import { listenTls } from "./_tls_listen.ts";
import { upgradableServeOnConnection } from "./_serve_upgradable.ts";
import type { LoadedCertificate } from "../tls/mod.ts";
import {
  type ClientInfo,
  jsonResponse,
  ProxyError,
  type ProxyHandler,
  type UpgradedSession,
  upgradedSession,
} from "../core/mod.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /** Address to bind. */
  readonly hostname: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** Answers requests. */
  readonly handler: ProxyHandler;
  /** `server.read_timeout`: from accept to the first request. */
  readonly firstRequestTimeoutMs: number;
  /** `server.idle_timeout`: between requests on a keep-alive connection. */
  readonly idleTimeoutMs: number;
  /** Expires connection deadlines. */
  readonly watchdog: Watchdog;
  /** Connection-level events (debug) and accept failures (warn). */
  readonly logger: Logger;
  /**
   * Counts requests the runtime's HTTP engine refused before Aegis saw them
   * (`malformed_body`); none are counted when absent (the admin listener).
   */
  readonly rejects?: Pick<GlobalStats, "recordReject">;
  /** Most connections open at once, overall and per client; unlimited by default. */
  readonly limits?: ConnectionLimits;
  /**
   * Who counts as one client for `limits.maxPerClient`, from the address
   * {@linkcode clientFromAddr} gives; the address itself by default.
   */
  readonly clientKey?: (ip: string) => string;
  /**
   * Why a connection from this address is closed at once, before admission
   * (the listener's `deny`/`allow` networks); nothing is screened by default.
   */
  readonly screen?: (ip: string) => ScreenReason | undefined;
  /**
   * How long an idle keep-alive connection stays open once draining, for a
   * request already on its way ({@linkcode DRAIN_IDLE_GRACE_MS} by default;
   * never longer than the shutdown's grace period).
   */
  readonly drainIdleGraceMs?: number;
  /** Terminates TLS with these certificates (at least one); plain HTTP when absent. */
  readonly certificates?: readonly LoadedCertificate[];
  /**
   * Binds with `SO_REUSEPORT`, so that every worker isolate (`server.workers`)
   * binds a socket of its own on the same port and the kernel spreads new
   * connections between them. Off by default: a second process on the port
   * is then an error, as it should be for one isolate.
   */
  readonly reusePort?: boolean;
  /**
   * Whether connections accepted now may be upgraded to WebSocket
   * (`websocket.enabled`, read per connection): they are then served by
   * the engine on which an upgraded connection stays open
   * (`_serve_upgradable.ts`), and their {@linkcode ClientInfo} says
   * `upgradable`. Off when absent.
   */
  readonly webSocket?: () => boolean;
  /**
   * How long upgraded sessions may outlive the start of a drain or
   * shutdown before they are closed with 1001 (`server.shutdown_timeout`);
   * the shutdown's own grace when absent.
   */
  readonly upgradeGraceMs?: () => number;
}

/** A running listener. */
export interface Server {
  /** The bound address (with the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Open client connections. */
  readonly connections: number;
  /** Client connections accepted and served since start (refused ones not counted). */
  readonly accepted: number;
  /** False when connection timeouts are unavailable on this runtime. */
  readonly connectionTimeouts: boolean;
  /** Requests in progress on all connections. */
  readonly requestsInFlight: number;
  /** True once the listener stopped accepting (drain or shutdown). */
  readonly draining: boolean;
  /** The connection limits in force. */
  readonly limits: ConnectionLimits;
  /** Connections refused since start, by the limit they hit. */
  readonly rejected: Readonly<Record<RejectReason, number>>;
  /**
   * Connections a TCP listener's screen closed before admission, by reason
   * (network not allowed, new-connection rate); absent on HTTP listeners,
   * which filter per request.
   */
  readonly screened?: Readonly<Record<ScreenReason, number>>;
  /** Failed `accept` calls since start (out of descriptors and the like). */
  readonly acceptErrors: number;
  /** The certificates served to new connections; absent on a plain HTTP listener. */
  readonly certificates?: readonly LoadedCertificate[];
  /**
   * Serves `certificates` to connections accepted from now on, on a freshly
   * bound socket; open connections keep theirs. A TLS listener only.
   *
   * @throws the bind error, the old certificates still serving
   */
  setCertificates?(certificates: readonly LoadedCertificate[]): void;
  /** New limits for connections accepted from now on (a reload); open ones stay. */
  setLimits(limits: ConnectionLimits): void;
  /**
   * New `read_timeout` (first request) and `idle_timeout` for connections
   * accepted from now on (a reload); open ones keep theirs.
   */
  setTimeouts(timeouts: { firstRequestTimeoutMs: number; idleTimeoutMs: number }): void;
  /**
   * Stops accepting, lets requests in progress finish for up to `graceMs`
   * (`Infinity`: as long as they take), then closes whatever is left.
   * Resolves when every connection is closed. Calling it again can only
   * shorten the grace period.
   */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * The socket peer as the proxy sees it (IPv4-mapped IPv6 shown as IPv4), and
 * the port of the listener that accepted it.
 *
 * @example
 * ```ts
 * clientFromAddr({ transport: "tcp", hostname: "::ffff:203.0.113.9", port: 5000 }, 8080);
 * // { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 }
 * ```
 */
export function clientFromAddr(
  addr: Deno.NetAddr,
  listenerPort: number,
  proto: ClientInfo["proto"] = "http",
): ClientInfo {
  // [SECURITY] IP spoofing: who the client is comes from the socket alone;
  // no header (X-Forwarded-For, X-Real-IP) is ever read for it.
  const ip = parseIp(addr.hostname);
  return {
    ip: ip ? formatIp(unmapIpv4(ip)) : addr.hostname,
    port: addr.port,
    proto,
    listenerPort,
  };
}

/** How long a connection being closed may take to flush before it is cut. */
const LINGER_MS = 1000;

/**
 * How long an idle keep-alive connection stays open once draining: long
 * enough for a request a client sent just before it learnt of the drain to
 * arrive (a network round trip, with room to spare), short enough not to
 * hold a shutdown up.
 */
export const DRAIN_IDLE_GRACE_MS = 1000;

/** At most one log line per this period about refused connections or failed accepts. */
const REPORT_EVERY_MS = 10_000;

/**
 * Binds the public listener and starts serving.
 *
 * @throws {Deno.errors.AddrInUse} and other bind errors, before anything is served
 */
export function startServer(options: ServerOptions): Server {
  const serveConn = serveOnConnection();
  if (!serveConn) return startFallback(options, clientFromAddr);
  const { logger, watchdog, handler } = options;
  const serveUpgradable = upgradableServeOnConnection();
  if (!serveUpgradable && options.webSocket) {
    logger.warn("this runtime cannot keep upgraded connections open: WebSocket is not relayed", {
      port: options.port,
    });
  }
  /** Upgraded sessions open on this listener's connections. */
  const upgrades = new Set<UpgradedSession>();
  /** Set once the shutdown grace for upgraded sessions is over: new ones are closed at once. */
  let upgradesClosed = false;
  const closeUpgrades = () => {
    upgradesClosed = true;
    for (const session of upgrades) session.close(1001, "server shutting down");
  };
  let certificates = options.certificates ?? [];
  const proto = certificates.length > 0 ? "https" : "http";
  let renewing = false;
  const bind = (port: number): Deno.Listener<Deno.Conn<Deno.NetAddr>, Deno.NetAddr> => {
    if (certificates.length === 0) {
      return Deno.listen({
        hostname: options.hostname,
        port,
        transport: "tcp",
        ...(options.reusePort ? { reusePort: true } : {}),
      });
    }
    const socket = listenTls({
      hostname: options.hostname,
      port,
      certificates,
      // [SECURITY] Memory: the runtime caches a certificate per server name a
      // client sends, for the socket's life; a fresh socket starts afresh.
      onCacheFull: () => {
        if (renewing) return;
        renewing = true;
        setTimeout(() => {
          renewing = false;
          if (accepting) replaceSocket();
        });
      },
    });
    if (!socket.sni) {
      logger.warn(
        "this runtime cannot choose a certificate by SNI: the first one is served to all",
        {
          port: options.port,
        },
      );
    }
    return socket.listener;
  };
  let listener = bind(options.port);
  const live = new Set<ConnectionState>();
  const admission = new ConnectionAdmission(options.limits ?? UNLIMITED_CONNECTIONS);
  const keyOf = options.clientKey ?? ((ip: string) => ip);
  const refusals = new ReportGate(REPORT_EVERY_MS);
  const screen = options.screen;
  const screened: Record<ScreenReason, number> = { denied: 0, rate_limited: 0 };
  let accepted = 0;
  let accepting = true;
  let drainIdleGraceMs = options.drainIdleGraceMs ?? DRAIN_IDLE_GRACE_MS;
  let timeouts = { firstRequestMs: options.firstRequestTimeoutMs, idleMs: options.idleTimeoutMs };
  // The engine calls this for a handler that threw, and for a response body
  // that failed midway. The request path logs its own failures (as a
  // ProxyError), so only what it did not expect is an error here.
  const onError = (e: unknown) => {
    const error = e instanceof Error ? e.message : String(e);
    if (e instanceof ProxyError) logger.debug("response body ended early", { error });
    else logger.error("server error", { error });
    return jsonResponse(500, { error: "internal error" });
  };

  const track = (conn: Deno.Conn<Deno.NetAddr>) => {
    if (!accepting) {
      // Accepted in the moment between the shutdown and the listener's
      // close taking effect: turn it away rather than serve it.
      conn.close();
      return;
    }
    // Chosen per connection, so a reload that turns WebSocket on or off
    // applies to the connections accepted from then on.
    const upgradable = serveUpgradable !== undefined && options.webSocket?.() === true;
    const client: ClientInfo = {
      ...clientFromAddr(conn.remoteAddr, listener.addr.port, proto),
      ...(upgradable ? { upgradable } : {}),
    };
    // [SECURITY] Networks the listener does not serve are closed before any
    // HTTP work, as the caps below.
    const refusedBy = screen?.(client.ip);
    if (refusedBy !== undefined) {
      conn.close();
      screened[refusedBy]++;
      return;
    }
    // [SECURITY] Connection caps: past server.max_connections or the
    // per-client cap the connection is closed at once, before any HTTP work,
    // so it holds its descriptor for no time; those already open go on.
    const permit = admission.admit(keyOf(client.ip));
    if (typeof permit === "string") {
      conn.close();
      const count = refusals.note(performance.now());
      if (count !== undefined) {
        logger.warn("connections refused: limit reached", {
          refused: count,
          reason: permit,
          open: admission.open,
          // Named as in the configuration (and the `Aegis listening` line).
          max_connections: admission.limits.maxConnections,
          max_connections_per_client: admission.limits.maxPerClient,
        });
      }
      return;
    }
    accepted++;
    try {
      // A TLS connection has no such switch (its socket is the runtime's).
      if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // The peer may already be gone.
    }
    const abort = new AbortController();
    // A connection told to close gets a moment to flush what it is sending;
    // one that still waits for body bytes it will never get is then cut.
    // Created only then: most connections never need it.
    let linger: Watch | undefined;
    const state = new ConnectionState(
      (onExpire) => watchdog.watch(onExpire),
      timeouts,
      (reason: CloseReason) => {
        if (reason !== "drained" && logger.enabled("debug")) {
          logger.debug("connection closed", { reason, port: client.port });
        }
        if (reason === "forced") return cancelConnection(abort);
        // The callback only runs from a later task, once `served` exists.
        served.shutdown().catch(() => {});
        linger = watchdog.watch(() => cancelConnection(abort));
        linger.arm(LINGER_MS);
      },
    );
    live.add(state);
    /** The session this connection was upgraded to, if it was. */
    let upgrade: UpgradedSession | undefined;
    const served: ServedConnection = (upgradable ? serveUpgradable : serveConn)(
      conn,
      abort.signal,
      async (request, info) => {
        state.requestStarted();
        // A request the runtime had already read when the close was decided
        // is still answered: the flush deadline waits for its response.
        linger?.disarm();
        const ended = () => {
          state.requestEnded();
          if (state.closed) linger?.arm(LINGER_MS);
        };
        info.completed.then(ended, ended);
        const response = await handler(request, client);
        const session = upgradedSession(response);
        if (session) {
          // The session holds the connection as a request in progress would:
          // no connection timeout runs, and a drain waits for it.
          upgrade = session;
          upgrades.add(session);
          state.requestStarted();
          session.ended.finally(() => {
            upgrades.delete(session);
            state.requestEnded();
          });
          if (upgradesClosed) session.close(1001, "server shutting down");
          return response;
        }
        // [SECURITY] Drain: tell HTTP/1.1 clients not to reuse a connection
        // that is about to close (RFC 9112 §9.6), so none sends a request
        // into a closing socket.
        if (state.draining) response.headers.set("connection", "close");
        // A response that announces the end of the connection (408, 413, drain)
        // really ends it, even if the client still owes body bytes.
        if (response.headers.get("connection") === "close") state.closeAfterResponse();
        return response;
      },
      onError,
      () => {},
    );
    served.finished.catch((e) => {
      // A request head and a malformed chunk of its body that arrive in one
      // read make the runtime fail the connection before the handler runs: no
      // response can be written, so one warning line and the count are all
      // that can be done (the handler answers 400 when the chunk comes later).
      if (!isMalformedFraming(e)) return;
      options.rejects?.recordReject("malformed_body");
      logger.warn("malformed request body, connection closed by the HTTP engine", {
        client: maskClientIp(client.ip),
        reason: "malformed_body",
        error: e instanceof Error ? e.message : String(e),
      });
    }).then(() => upgrade?.ended).finally(() => {
      linger?.[Symbol.dispose]();
      state.dispose();
      permit[Symbol.dispose]();
      live.delete(state);
      closing.connectionClosed();
    });
  };

  const describe = () => ({ connections: live.size });
  let acceptLoop = startAcceptLoop(listener, track, logger, describe);
  let pastAcceptErrors = 0;
  /**
   * Binds a new socket on the same port and accepts there; the old one stops
   * accepting and closes, its connections going on. A connection the kernel
   * queued on the old socket in the instant between is reset (clients retry).
   */
  const replaceSocket = () => {
    const next = bind(listener.addr.port);
    const old = { listener, acceptLoop };
    pastAcceptErrors += acceptLoop.errors;
    listener = next;
    acceptLoop = startAcceptLoop(next, track, logger, describe);
    old.acceptLoop.stop();
    try {
      old.listener.close();
    } catch {
      // Already closed.
    }
  };

  const closing = new Closing({
    clock: systemClock,
    logger,
    open: () => live.size,
    force: () => {
      closeUpgrades();
      for (const state of live) state.force();
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
    get requestsInFlight() {
      // Upgraded sessions hold their connections as requests do, but are none.
      let n = 0;
      for (const state of live) n += state.active;
      return n - upgrades.size;
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
    get acceptErrors() {
      return pastAcceptErrors + acceptLoop.errors;
    },
    get certificates() {
      return proto === "https" ? certificates : undefined;
    },
    setCertificates(next) {
      if (proto !== "https" || next.length === 0) {
        throw new Error("only a TLS listener serves certificates");
      }
      if (!accepting) return;
      const before = certificates;
      certificates = next;
      try {
        replaceSocket();
      } catch (e) {
        certificates = before;
        throw e;
      }
    },
    get screened() {
      return { ...screened };
    },
    setLimits(limits) {
      admission.setLimits(limits);
    },
    setTimeouts(t) {
      timeouts = { firstRequestMs: t.firstRequestTimeoutMs, idleMs: t.idleTimeoutMs };
    },
    connectionTimeouts: true,
    shutdown(graceMs) {
      return closing.begin(graceMs, () => {
        accepting = false;
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        acceptLoop.stop();
        // Idle connections get a short grace for a request already on its
        // way, never longer than the grace period itself.
        drainIdleGraceMs = Math.min(drainIdleGraceMs, graceMs);
        for (const state of live) state.drain(drainIdleGraceMs);
        // The watchdog sweeps on its own tick (up to 250 ms); one wake-up when
        // the grace ends closes the connections idle now on time.
        const sweep = setTimeout(() => watchdog.sweep(), drainIdleGraceMs + 1);
        // [SECURITY] Drain: upgraded sessions may last for ever; they get the
        // shutdown grace (a drain's too, which otherwise waits without end).
        const sessionGraceMs = Math.min(graceMs, options.upgradeGraceMs?.() ?? graceMs);
        const sessionsOver = Number.isFinite(sessionGraceMs)
          ? setTimeout(closeUpgrades, sessionGraceMs)
          : undefined;
        closing.done!.then(() => {
          clearTimeout(sweep);
          clearTimeout(sessionsOver);
        });
      });
    },
  };
}
