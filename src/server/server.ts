/**
 * The public listener. Aegis accepts TCP connections itself and hands each to
 * the runtime's HTTP engine, so it can enforce connection timeouts, count
 * connections, and drain them one by one on shutdown. The only place that
 * opens the public socket.
 *
 * @module
 */

import type { Watch, Watchdog } from "../clock/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { GlobalStats } from "../metrics/mod.ts";
import { formatIp, maskClientIp, parseIp, unmapIpv4 } from "../net/mod.ts";
import { jsonResponse } from "../proxy/errors.ts";
import { type ClientInfo, isMalformedFraming, type ProxyHandler } from "../proxy/mod.ts";
import { type CloseReason, ConnectionState } from "./connection.ts";
import { cancelConnection, type ServedConnection, serveOnConnection } from "./_serve_connection.ts";

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
}

/** A running listener. */
export interface Server {
  /** The bound address (with the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Open client connections. */
  readonly connections: number;
  /** Client connections accepted since start. */
  readonly accepted: number;
  /** False when connection timeouts are unavailable on this runtime. */
  readonly connectionTimeouts: boolean;
  /** Requests in progress on all connections. */
  readonly requestsInFlight: number;
  /** True once the listener stopped accepting (drain or shutdown). */
  readonly draining: boolean;
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
export function clientFromAddr(addr: Deno.NetAddr, listenerPort: number): ClientInfo {
  const ip = parseIp(addr.hostname);
  return {
    ip: ip ? formatIp(unmapIpv4(ip)) : addr.hostname,
    port: addr.port,
    proto: "http",
    listenerPort,
  };
}

const ACCEPT_BACKOFF_MS = 100;
/** How long a connection being closed may take to flush before it is cut. */
const LINGER_MS = 1000;

/**
 * Binds the public listener and starts serving.
 *
 * @throws {Deno.errors.AddrInUse} and other bind errors, before anything is served
 */
export function startServer(options: ServerOptions): Server {
  const serveConn = serveOnConnection();
  if (!serveConn) return startFallback(options);
  const { logger, watchdog, handler } = options;
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
  });
  const live = new Set<ConnectionState>();
  let accepted = 0;
  let accepting = true;
  let allClosed: (() => void) | undefined;
  const onError = (e: unknown) => {
    logger.error("server error", { error: e instanceof Error ? e.message : String(e) });
    return jsonResponse(500, { error: "internal error" });
  };

  const track = (conn: Deno.TcpConn) => {
    if (!accepting) {
      // Accepted in the moment between the shutdown and the listener's
      // close taking effect: turn it away rather than serve it.
      conn.close();
      return;
    }
    try {
      conn.setNoDelay(true);
    } catch {
      // The peer may already be gone.
    }
    const client = clientFromAddr(conn.remoteAddr, listener.addr.port);
    const abort = new AbortController();
    // A connection told to close gets a moment to flush what it is sending;
    // one that still waits for body bytes it will never get is then cut.
    // Created only then: most connections never need it.
    let linger: Watch | undefined;
    const state = new ConnectionState(
      (onExpire) => watchdog.watch(onExpire),
      { firstRequestMs: options.firstRequestTimeoutMs, idleMs: options.idleTimeoutMs },
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
    const served: ServedConnection = serveConn(
      conn,
      abort.signal,
      async (request, info) => {
        state.requestStarted();
        const ended = () => state.requestEnded();
        info.completed.then(ended, ended);
        const response = await handler(request, client);
        // Tell HTTP/1.1 clients not to reuse a connection that is about to close.
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
    }).finally(() => {
      linger?.[Symbol.dispose]();
      state.dispose();
      live.delete(state);
      if (live.size === 0) allClosed?.();
    });
  };

  (async () => {
    while (accepting) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (!accepting || e instanceof Deno.errors.BadResource) break;
        // Out of file descriptors and the like: keep the listener, try again shortly.
        logger.warn("accept failed", { error: e instanceof Error ? e.message : String(e) });
        await new Promise((r) => setTimeout(r, ACCEPT_BACKOFF_MS));
        continue;
      }
      accepted++;
      track(conn);
    }
  })();

  let done: Promise<void> | undefined;
  let deadline = Infinity;
  let forceTimer: ReturnType<typeof setTimeout> | undefined;
  const force = () => {
    if (live.size === 0) return;
    logger.warn("shutdown grace period over, closing remaining connections", {
      connections: live.size,
    });
    for (const state of live) state.force();
  };
  return {
    addr: listener.addr,
    get connections() {
      return live.size;
    },
    get accepted() {
      return accepted;
    },
    get requestsInFlight() {
      let n = 0;
      for (const state of live) n += state.active;
      return n;
    },
    get draining() {
      return !accepting;
    },
    connectionTimeouts: true,
    shutdown(graceMs) {
      if (!done) {
        accepting = false;
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        done = new Promise<void>((resolve) => {
          allClosed = resolve;
          if (live.size === 0) resolve();
        });
        for (const state of live) state.drain();
        done.then(() => clearTimeout(forceTimer));
      }
      // A later call may only bring the deadline closer (drain, then SIGTERM).
      const at = performance.now() + graceMs;
      if (Number.isFinite(graceMs) && at < deadline) {
        deadline = at;
        clearTimeout(forceTimer);
        forceTimer = setTimeout(force, graceMs);
      }
      return done;
    },
  };
}

/** `Deno.serve` without connection timeouts, for runtimes lacking the per-connection server. */
function startFallback(options: ServerOptions): Server {
  const { logger, handler } = options;
  logger.warn(
    "this runtime cannot serve connections individually: header-read and idle timeouts are off",
  );
  const abort = new AbortController();
  let open = 0;
  let accepted = 0;
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    signal: abort.signal,
    onListen() {},
  }, (request, info): Promise<Response> => {
    open++;
    accepted++;
    const ended = () => open--;
    info.completed.then(ended, ended);
    return handler(request, clientFromAddr(info.remoteAddr, server.addr.port));
  });
  let shuttingDown: Promise<void> | undefined;
  return {
    addr: server.addr,
    get connections() {
      return open;
    },
    get accepted() {
      return accepted;
    },
    get requestsInFlight() {
      return open;
    },
    get draining() {
      return shuttingDown !== undefined;
    },
    connectionTimeouts: false,
    shutdown(graceMs) {
      shuttingDown ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const graceOver = new Promise<void>((r) => {
          if (Number.isFinite(graceMs)) timer = setTimeout(r, graceMs);
        });
        await Promise.race([server.shutdown(), graceOver]);
        clearTimeout(timer);
        abort.abort();
        await server.finished.catch(() => {});
      })();
      return shuttingDown;
    },
  };
}
