/**
 * The tcp and udp listeners as the lifecycle owns them: the same
 * {@linkcode Listener} as an http one, so the listener set opens, moves,
 * drains and counts them alike. Each reads its pool, filters and limits
 * from the runtime in force, so that after a reload new connections and
 * new sessions follow the new configuration while established ones carry on.
 *
 * @module
 */

import { type ListenerConfig, parseHostPort } from "../config/mod.ts";
import { startUdpRelay, type UdpRelay, type UdpRelaySnapshot } from "../l4/mod.ts";
import type { Pool } from "../pool/mod.ts";
import type { Runtime, Shared } from "../runtime/mod.ts";
import {
  type ConnectionLimits,
  DRAIN_IDLE_GRACE_MS,
  type Server,
  startTcpServer,
} from "../server/mod.ts";
import { type Listener, tagBindError, urlOf } from "./listener.ts";

/** What an L4 listener reads from the running parts. */
export interface L4ListenerParts {
  /** The runtime in force now (its listener of this name, and that one's pool). */
  readonly runtime: () => Runtime;
  readonly shared: Shared;
  /** Binds with `SO_REUSEPORT` (a worker isolate of several). */
  readonly reusePort?: boolean;
}

/** A udp listener: a {@linkcode Listener} whose relay a snapshot can read. */
export interface UdpListener extends Listener {
  /** The relay's counters now; zeros until the socket is bound. */
  udp(): UdpRelaySnapshot | undefined;
}

/**
 * Opens a tcp listener: binds at once (throwing, tagged with its name, when
 * it cannot) and hands every admitted connection to the relay of the
 * runtime in force, so connections accepted after a reload go to the new
 * pool while those open carry on with theirs.
 *
 * @throws the bind error, tagged with the listener's name
 */
export function openTcpListener(
  config: ListenerConfig,
  limits: ConnectionLimits,
  parts: L4ListenerParts & { readonly clientKey: (ip: string) => string },
): Listener {
  const { name } = config;
  const mine = () => parts.runtime().listeners.get(name);
  const { host, port } = parseHostPort(config.address)!;
  let server: Server;
  try {
    server = startTcpServer({
      hostname: host,
      port,
      logger: parts.shared.logger,
      clock: parts.shared.clock,
      limits,
      clientKey: parts.clientKey,
      reusePort: parts.reusePort,
      // A listener a reload removed accepts nothing: its socket drains.
      screen: (ip) => {
        const now = mine();
        return now ? now.screen(ip) : "denied";
      },
      handler: (conn, client, signal) => {
        const relay = mine()?.relay;
        // Unreachable: a tcp listener's runtime always has its relay.
        if (!relay) return Promise.resolve(conn.close());
        return relay(conn, client, signal);
      },
    });
  } catch (e) {
    throw tagBindError(e, name);
  }
  return {
    name,
    protocol: "tcp",
    server,
    addr: server.addr,
    url: urlOf(server.addr, "tcp"),
    ready: Promise.resolve(),
    // Timeouts and the pool are the relay's, read from the runtime per connection.
    reconfigure: (_config, next) => server.setLimits(next),
    drain: (graceMs) => server.shutdown(graceMs),
    [Symbol.asyncDispose]: () => server.shutdown(0),
  };
}

/** A pool with no backend, for a udp socket bound before its runtime is in force. */
const NO_BACKENDS: Pool = { states: [], backends: [], pick: () => undefined };

/** The udp listener's own settings from its configuration. */
function sessionLimits(config: ListenerConfig) {
  const udp = config.udp!;
  return {
    maxSessions: udp.max_sessions,
    sessionTimeoutMs: udp.session_timeout,
    replyTimeoutMs: udp.reply_timeout,
  };
}

/**
 * Opens a udp listener: binds (asynchronously: {@linkcode Listener.ready}
 * settles when bound) and relays datagrams to the pool the runtime in
 * force names. Its `server` reports sessions as connections.
 */
export function openUdpListener(config: ListenerConfig, parts: L4ListenerParts): UdpListener {
  const { name } = config;
  const { logger, events, clock } = parts.shared;
  const mine = () => parts.runtime().listeners.get(name);
  let relay: UdpRelay | undefined;
  let draining = false;
  let limits = sessionLimits(config);
  // Read per datagram from the runtime in force: a reload's filters and
  // rate limit apply at once, without waiting for reconfigure.
  const filters = {
    accept: (ip: string) => mine()?.admits(ip) ?? false,
    allowPacket: (ip: string) => mine()?.screen(ip) === undefined,
  };
  const ready = startUdpRelay({
    name,
    address: config.address,
    // A reload binds the socket before its runtime is in force: until then
    // (reconfigure, right after) datagrams find no backend, and are counted.
    pool: mine()?.pool?.pool ?? NO_BACKENDS,
    poolName: config.pool!,
    logger,
    events,
    clock,
    ...limits,
    ...filters,
  }).then((r) => {
    relay = r;
  }, (e) => {
    throw tagBindError(e, name);
  });
  // Nobody may be waiting yet; the set and main.ts read it when they need to.
  ready.catch(() => {});
  // Until bound: the configured address (checked, so it parses).
  const { host, port } = parseHostPort(config.address)!;
  const unbound: Deno.NetAddr = { transport: "udp", hostname: host, port };
  const server: Server = {
    get addr() {
      return relay?.addr ?? unbound;
    },
    get connections() {
      return relay?.sessions ?? 0;
    },
    get accepted() {
      return relay?.stats.sessionsCreated ?? 0;
    },
    connectionTimeouts: true,
    get requestsInFlight() {
      return relay?.sessions ?? 0;
    },
    get draining() {
      return draining;
    },
    get limits(): ConnectionLimits {
      return { maxConnections: limits.maxSessions, maxPerClient: limits.maxSessions };
    },
    rejected: { max_connections: 0, per_client: 0 },
    acceptErrors: 0,
    setLimits() {},
    setTimeouts() {},
    async shutdown(graceMs) {
      draining = true;
      await ready.catch(() => {});
      // A datagram session never says it is done: it gets as long as an idle
      // keep-alive connection does, for replies already on their way.
      await relay?.shutdown(Math.min(graceMs, DRAIN_IDLE_GRACE_MS));
    },
  };
  const listener: UdpListener = {
    name,
    protocol: "udp",
    server,
    get addr() {
      return server.addr;
    },
    get url() {
      return urlOf(server.addr, "udp");
    },
    ready,
    udp: () => relay?.snapshot(),
    reconfigure(next) {
      limits = sessionLimits(next);
      const now = mine();
      if (!relay || !now?.pool) return;
      relay.setLimits(limits);
      relay.setPool(now.pool.pool, next.pool);
      // Sessions of clients now denied end here; new datagrams read the runtime.
      relay.setFilters(filters);
    },
    drain: (graceMs) => server.shutdown(graceMs),
    [Symbol.asyncDispose]: () => server.shutdown(0),
  };
  return listener;
}
