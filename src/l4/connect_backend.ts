/**
 * Picks a backend of the pool for a new client connection and connects to
 * it, trying further backends when one refuses, times out or cannot be
 * reached. Each try is an attempt (`pool/`'s disposable permit), so a
 * backend that fails to accept counts against its breaker exactly once.
 *
 * @module
 */

import type { Clock } from "../clock/mod.ts";
import type { Logger } from "../log/mod.ts";
import { type Attempt, type BackendState, beginAttempt, type Pool } from "../pool/mod.ts";
import { describeError } from "./_socket.ts";

/** Where to connect, and the signal that gives up on it (timeout or shutdown). */
export interface ConnectTarget {
  /** Host name or IP address, IPv6 without brackets. */
  readonly hostname: string;
  /** TCP port. */
  readonly port: number;
  /** Aborts the connection attempt; the connection itself, once made, is not tied to it. */
  readonly signal: AbortSignal;
}

/**
 * Opens a TCP connection. It must reject soon after `target.signal` aborts
 * (Deno 2.9's `Deno.connect` does: `AbortError`), or a connect timeout
 * could never end a try.
 */
export type BackendConnect = (target: ConnectTarget) => Promise<Deno.TcpConn>;

/** `Deno.connect`, which honours the signal while connecting. */
export const denoConnect: BackendConnect = ({ hostname, port, signal }) =>
  Deno.connect({ hostname, port, signal });

/** Options for {@linkcode connectBackend}. */
export interface ConnectBackendOptions {
  /** Where backends are picked from. */
  readonly pool: Pool;
  /** The pool's name, for logs. */
  readonly poolName: string;
  /** Further backends to try after the first fails to connect. */
  readonly retries: number;
  /** How long one connection attempt may take. */
  readonly connectTimeoutMs: number;
  /** Times the attempts. */
  readonly clock: Clock;
  /** Failed connects (warn). */
  readonly logger: Logger;
  /** Opens connections. */
  readonly connect: BackendConnect;
}

/** The result of {@linkcode connectBackend}. */
export type Connected =
  | {
    /** The backend chosen, connected. */
    readonly conn: Deno.TcpConn;
    /** The try, still open: its holder ends it when the relay ends. */
    readonly attempt: Attempt;
    /** Backends tried after the first. */
    readonly retries: number;
  }
  | {
    readonly conn?: undefined;
    /** `no_backend`: none left to try; `aborted`: the shutdown signal fired. */
    readonly failure: "no_backend" | "aborted";
    /** Backends tried after the first. */
    readonly retries: number;
    /** The last connect error, if any backend was tried. */
    readonly detail?: string;
  };

/** `host` and port of a `tcp://host:port` backend URL, IPv6 brackets stripped. */
function targetOf(state: BackendState): { hostname: string; port: number } {
  const url = state.backend.url;
  const host = url.hostname;
  const hostname = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return { hostname, port: Number(url.port) };
}

/**
 * Connects to a backend for a client at `clientIp` (what affinity policies
 * hash on), trying up to `retries` further backends, none twice.
 *
 * @example
 * ```ts
 * const got = await connectBackend("203.0.113.7", options, shutdownSignal);
 * if (!got.conn) return close(got.failure);
 * using attempt = got.attempt;
 * ```
 */
export async function connectBackend(
  clientIp: string,
  options: ConnectBackendOptions,
  signal: AbortSignal,
): Promise<Connected> {
  const tried = new Set<string>();
  let tries = 0;
  let detail: string | undefined;
  const retries = () => Math.max(0, tries - 1);
  while (tries <= options.retries) {
    if (signal.aborted) return { failure: "aborted", retries: retries(), detail };
    const state = options.pool.pick({ clientIp }, tried);
    if (!state) break;
    tried.add(state.id);
    // The breaker refused (its half-open probes are all out): no connection
    // was tried, so no retry is spent on it.
    const attempt = beginAttempt(state);
    if (!attempt) continue;
    tries++;
    const started = options.clock.now();
    const result = await connectOnce(state, options, signal);
    if (typeof result !== "string") {
      // The time to connect is an L4 backend's latency: what P95, the
      // dashboard and the adaptive loop read.
      const now = options.clock.now();
      attempt.headers(now - started, now);
      return { conn: result, attempt, retries: retries() };
    }
    if (result === "aborted") {
      // Shutting down says nothing about the backend.
      attempt.end("neutral");
      return { failure: "aborted", retries: retries(), detail };
    }
    attempt.end("failure");
    detail = result;
    options.logger.warn("backend connect failed", {
      pool: options.poolName,
      backend: state.id,
      error: result,
      will_retry: tries <= options.retries,
    });
  }
  return { failure: "no_backend", retries: retries(), detail };
}

/** One connection attempt: the connection, `"aborted"`, or why it failed. */
async function connectOnce(
  state: BackendState,
  options: ConnectBackendOptions,
  signal: AbortSignal,
): Promise<Deno.TcpConn | string> {
  const giveUp = new AbortController();
  let timedOut = false;
  const timer = options.clock.setTimer(options.connectTimeoutMs, () => {
    timedOut = true;
    giveUp.abort();
  });
  const onAbort = () => giveUp.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await options.connect({ ...targetOf(state), signal: giveUp.signal });
  } catch (e) {
    if (timedOut) return `connect timed out after ${options.connectTimeoutMs} ms`;
    if (signal.aborted) return "aborted";
    return describeError(e);
  } finally {
    timer.cancel();
    signal.removeEventListener("abort", onAbort);
  }
}
