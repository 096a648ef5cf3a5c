/**
 * The TCP relay: what an L4 listener does with each accepted connection.
 * Phases in a fixed order, as on the HTTP path: read the PROXY header a
 * trusted proxy sends → pick and connect a backend (retrying others) →
 * write the PROXY header the backend expects → pipe both ways → end the
 * backend's try and report. The listener owns the socket's acceptance and
 * counting; the relay owns everything after.
 *
 * @module
 */

import { BufferPool } from "./buffer_pool.ts";
import { type Clock, systemClock } from "../clock/mod.ts";
import type { EventLog } from "../events/mod.ts";
import type { Logger } from "../log/mod.ts";
import { maskClientIp } from "../net/mod.ts";
import type { AttemptResult, BackendState, Pool } from "../pool/mod.ts";
import { type BackendConnect, connectBackend, denoConnect } from "./connect_backend.ts";
import { pipe, type PipeEnd } from "./pipe.ts";
import { encodeProxyHeader, type ProxyVersion } from "./proxy_encode.ts";
import { PROXY_HEADER_MAX_BYTES, type ProxyAddress } from "./proxy_protocol.ts";
import {
  DEFAULT_PROXY_HEADER_TIMEOUT_MS,
  type HeaderFailure,
  readProxyHeader,
} from "./read_proxy_header.ts";
import { addressOf, RelaySocket } from "./_socket.ts";

/** The buffer each direction of a relay reads into, reused for every chunk. */
export const RELAY_BUFFER_BYTES = 64 * 1024;

/** How a relayed connection ended. */
export type RelayEnd = PipeEnd | HeaderFailure | "no_backend";

/** What a relay reports when its connection is over. */
export interface RelayOutcome {
  /** How it ended. */
  readonly end: RelayEnd;
  /** The client: the socket peer, or the one a trusted proxy's PROXY header named. */
  readonly client: ProxyAddress;
  /** The backend connected to (its id, `host:port`), if any. */
  readonly backend?: string;
  /** Client bytes delivered to the backend. */
  readonly bytesToBackend: number;
  /** Backend bytes delivered to the client. */
  readonly bytesToClient: number;
  /** Backends tried after the first one failed to connect. */
  readonly retries: number;
  /** Why, in a few words, for ends that are not normal. */
  readonly detail?: string;
}

/**
 * Receives a relay's numbers, for listener and pool metrics. Called with
 * plain arguments on the hot path: `onBytes` runs for every chunk.
 */
export interface RelayStats {
  /** A connection was handed to the relay. */
  onOpen(): void;
  /** A chunk was delivered (one of the two counts is 0), through `backend`. */
  onBytes(toBackend: number, toClient: number, backend: BackendState): void;
  /** The connection is over, both sockets closed. */
  onClose(outcome: RelayOutcome): void;
}

/** Stats that go nowhere: the default, so the relay never asks whether it has any. */
export const NO_RELAY_STATS: RelayStats = Object.freeze({
  onOpen() {},
  onBytes() {},
  onClose() {},
});

/** Options for {@linkcode tcpRelay}. */
export interface TcpRelayOptions {
  /** The backends (`tcp://host:port` URLs, as `createBackend` builds from an address). */
  readonly pool: Pool;
  /** The pool's name, for logs and events. */
  readonly poolName: string;
  /** How long connecting to one backend may take. */
  readonly connectTimeoutMs: number;
  /** Further backends to try when one cannot be connected. */
  readonly retries: number;
  /** No byte either way for this long closes the connection; `Infinity`: never. */
  readonly idleTimeoutMs: number;
  /** The PROXY header to send each backend first; none by default. */
  readonly proxyProtocol?: ProxyVersion;
  /**
   * [SECURITY] Which socket peers may (and then must) send a PROXY header
   * (v1 or v2) naming the real client; nobody by default. Any other client
   * opening with one is refused.
   */
  readonly acceptProxyFrom?: (ip: string) => boolean;
  /** How long a trusted peer has to send its header (default {@linkcode DEFAULT_PROXY_HEADER_TIMEOUT_MS}). */
  readonly headerTimeoutMs?: number;
  /** Times connects, headers and idleness; the system clock by default. */
  readonly clock?: Clock;
  /** Failed connects, backend failures (warn); refusals (debug). */
  readonly logger: Logger;
  /** Records backend failures mid-stream; none by default. */
  readonly events?: Pick<EventLog, "record">;
  /** Receives byte counts and outcomes; {@linkcode NO_RELAY_STATS} by default. */
  readonly stats?: RelayStats;
  /** Opens backend connections; `Deno.connect` by default (tests inject one). */
  readonly connect?: BackendConnect;
  /** Each direction's buffer ({@linkcode RELAY_BUFFER_BYTES} by default). */
  readonly bufferBytes?: number;
}

/**
 * Relays one accepted connection until it is over, closing it (and the
 * backend's) exactly once. `client` is the socket peer, IPv4-mapped
 * addresses shown as IPv4; `signal` closes both at once (shutdown grace over).
 */
export type TcpRelay = (
  conn: Deno.TcpConn,
  client: ProxyAddress,
  signal: AbortSignal,
) => Promise<RelayOutcome>;

/** How each end of the piping reflects on the backend's breaker. */
const VERDICTS: Readonly<Record<PipeEnd, AttemptResult>> = {
  client_closed: "success",
  backend_closed: "success",
  // Idle or shut down: nobody's fault, and whose turn it was is not known.
  idle_timeout: "neutral",
  aborted: "neutral",
  backend_error: "failure",
  proxy_header_refused: "neutral",
};

/**
 * Builds the relay for one L4 listener and its pool.
 *
 * @example
 * ```ts
 * const relay = tcpRelay({
 *   pool, poolName: "db", connectTimeoutMs: 5000, retries: 1, idleTimeoutMs: 300_000,
 *   proxyProtocol: "v2", logger,
 * });
 * const outcome = await relay(conn, { ip: "203.0.113.7", port: 51000 }, shutdown.signal);
 * outcome.end; // "client_closed", "no_backend", ...
 * ```
 */
export function tcpRelay(options: TcpRelayOptions): TcpRelay {
  const clock = options.clock ?? systemClock;
  const stats = options.stats ?? NO_RELAY_STATS;
  const trusted = options.acceptProxyFrom ?? (() => false);
  const headerTimeoutMs = options.headerTimeoutMs ?? DEFAULT_PROXY_HEADER_TIMEOUT_MS;
  const bufferBytes = Math.max(options.bufferBytes ?? RELAY_BUFFER_BYTES, PROXY_HEADER_MAX_BYTES);
  const { logger, poolName } = options;
  // Enough for 128 relays' worth of both directions at once (16 MiB at the default size).
  const buffers = new BufferPool(bufferBytes, 256);
  const connectOptions = {
    pool: options.pool,
    poolName,
    retries: options.retries,
    connectTimeoutMs: options.connectTimeoutMs,
    clock,
    logger,
    connect: options.connect ?? denoConnect,
  };

  const relay = async (
    client: RelaySocket,
    peer: ProxyAddress,
    signal: AbortSignal,
  ): Promise<RelayOutcome> => {
    const toBackend = buffers.take();
    let source = peer;
    // HAProxy's rule (spec §3): the header a backend gets names what the
    // trusted proxy's header named, else this connection's own ends.
    let destination: ProxyAddress = addressOf(client.conn.localAddr);
    let early: Uint8Array | undefined;
    const fromTrusted = trusted(peer.ip);
    if (fromTrusted) {
      const read = await readProxyHeader(client, toBackend, {
        clock,
        timeoutMs: headerTimeoutMs,
        signal,
      });
      if (!read.ok) {
        logger.debug("connection closed: no valid PROXY header", {
          pool: poolName,
          client: maskClientIp(peer.ip),
          reason: read.failure,
          detail: read.detail,
        });
        return ended(read.failure, peer, 0, read.detail);
      }
      if (read.header.endpoints) ({ source, destination } = read.header.endpoints);
      early = read.early;
    }

    const got = await connectBackend(source.ip, connectOptions, signal);
    if (!got.conn) {
      if (got.failure === "no_backend") {
        logger.warn("connection closed: no backend", {
          pool: poolName,
          client: maskClientIp(source.ip),
          retries: got.retries,
          error: got.detail ?? "no backend available",
        });
      }
      // Nothing read into it unless a PROXY header was (a read then settled too).
      buffers.give(toBackend);
      return ended(got.failure, source, got.retries, got.detail);
    }
    using attempt = got.attempt;
    const state = attempt.state;
    const backend = new RelaySocket(got.conn);
    const toClient = buffers.take();
    client.noDelay();
    backend.noDelay();
    const result = await pipe(client, backend, {
      clock,
      idleTimeoutMs: options.idleTimeoutMs,
      signal,
      header: options.proxyProtocol &&
        encodeProxyHeader(options.proxyProtocol, source, destination),
      early,
      refuseProxyHeader: !fromTrusted,
      toBackendBuffer: toBackend,
      toClientBuffer: toClient,
      onBytes: (up, down) => stats.onBytes(up, down, state),
    });
    // Both directions have settled: no read is left that could write into them.
    buffers.give(toBackend);
    buffers.give(toClient);
    attempt.end(VERDICTS[result.end]);
    if (result.end === "backend_error") reportFailure(state, result.detail ?? "failed");
    if (result.end === "proxy_header_refused") {
      logger.debug("connection refused: PROXY header from an untrusted client", {
        pool: poolName,
        client: maskClientIp(peer.ip),
      });
    }
    return {
      end: result.end,
      client: source,
      backend: state.id,
      bytesToBackend: result.toBackend,
      bytesToClient: result.toClient,
      retries: got.retries,
      detail: result.detail,
    };
  };

  const reportFailure = (state: BackendState, detail: string) => {
    const fields = { pool: poolName, backend: state.id, error: detail };
    logger.warn("backend failed mid-stream", fields);
    options.events?.record(
      "backend",
      `${state.id} (pool ${poolName}) failed mid-stream: ${detail}`,
      fields,
    );
  };

  return async (conn, peer, signal) => {
    stats.onOpen();
    const client = new RelaySocket(conn);
    let outcome: RelayOutcome;
    try {
      outcome = await relay(client, peer, signal);
    } finally {
      client.close();
    }
    stats.onClose(outcome);
    return outcome;
  };
}

function ended(
  end: RelayEnd,
  client: ProxyAddress,
  retries: number,
  detail?: string,
): RelayOutcome {
  return { end, client, bytesToBackend: 0, bytesToClient: 0, retries, detail };
}
