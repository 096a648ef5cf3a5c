/**
 * A listener as the lifecycle owns it: a bound server with a name, drained
 * on purpose (stop, `POST /drain`, a reload that removes or moves it) and
 * disposed when the lifecycle stops. Every configured listener is one of
 * these (`listener_set.ts` keeps them), and so is the admin listener; the
 * tcp and udp ones are opened by `l4_listeners.ts`.
 *
 * @module
 */

import type { ListenerConfig } from "../config/mod.ts";
import type { EventLog } from "../events/mod.ts";
import {
  loadListenerCertificates,
  refreshCertificates,
  type TlsConfig,
  warnExpiring,
  watchCertificateFiles,
} from "./certificates.ts";
import {
  type ConnectionLimits,
  type Server,
  type ServerOptions,
  startServer,
} from "../server/mod.ts";

/** Options for {@linkcode openListener}. */
export interface ListenerOptions extends ServerOptions {
  /** Names the listener; a bind error carries it as its `listener` property. */
  readonly name: string;
  /**
   * Grace for requests in progress when the listener is disposed. A
   * listener drained before (the public one at stop) has none left by
   * then; one that was not (the admin one) gets this long.
   */
  readonly closeGraceMs: number;
  /**
   * Terminates TLS with these certificates, re-read on a reload and when
   * their files change; plain HTTP when absent.
   */
  readonly tls?: TlsConfig;
  /** Where certificate changes and expiry warnings are recorded. */
  readonly events?: EventLog;
}

/** A bound, serving listener: http, tcp or udp. */
export interface Listener extends AsyncDisposable {
  /** The name it was opened with. */
  readonly name: string;
  /** What it speaks. */
  readonly protocol: ListenerConfig["protocol"];
  /** The server behind it: counters, limits, draining state. */
  readonly server: Server;
  /** The bound address (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** `http://host:port` (`tcp://`, `udp://` for L4 listeners) of the bound address. */
  readonly url: string;
  /**
   * Settles once the socket is bound: at once for TCP sockets, which bind
   * synchronously; a udp socket binds asynchronously, and a failure
   * (address in use) rejects this, tagged with the listener's name.
   */
  readonly ready: Promise<void>;
  /**
   * Applies a reload's settings for this listener: limits and timeouts
   * for connections accepted from now on, and whatever its protocol
   * takes live (a udp listener's session limits, filters and pool).
   */
  reconfigure(config: ListenerConfig, limits: ConnectionLimits): void;
  /**
   * Stops accepting and lets requests in progress finish for up to
   * `graceMs` (`Infinity`: as long as they take); resolves when every
   * connection is closed. A later call can only shorten the grace.
   */
  drain(graceMs: number): Promise<void>;
  /** Closes it, with the grace given at open for requests still in progress. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * `http://host:port` for a bound address, with brackets around IPv6.
 *
 * @example
 * ```ts
 * urlOf({ transport: "tcp", hostname: "::1", port: 8080 }); // "http://[::1]:8080"
 * ```
 */
export function urlOf(addr: Deno.NetAddr, scheme = "http"): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${scheme}://${host}:${addr.port}`;
}

/**
 * The name the admin listener's bind errors are tagged with: not a valid
 * listener name, so it never stands for a configured one.
 */
export const ADMIN_LISTENER = "(admin)";

/**
 * What a failed bind says: the address, and why in a few words.
 *
 * @example
 * ```ts
 * describeBindError(new Deno.errors.AddrInUse("..."), "0.0.0.0:8080");
 * // "cannot listen on 0.0.0.0:8080: address already in use"
 * ```
 */
export function describeBindError(error: unknown, address: string): string {
  // The runtime says why in a code too; a udp listener wraps its error, so the code is on its cause.
  const code = (error as { code?: unknown })?.code ??
    ((error as { cause?: { code?: unknown } })?.cause)?.code;
  const why = error instanceof Deno.errors.AddrInUse || code === "EADDRINUSE"
    ? "address already in use"
    : error instanceof Deno.errors.PermissionDenied || code === "EACCES"
    ? "permission denied"
    : error instanceof Deno.errors.AddrNotAvailable || code === "EADDRNOTAVAIL"
    ? "address not available on this machine"
    : error instanceof Error
    ? error.message
    : String(error);
  return `cannot listen on ${address}: ${why}`;
}

/**
 * The listener name a bind error was tagged with by {@linkcode openListener},
 * if any.
 */
export function listenerOf(error: unknown): string | undefined {
  const name = (error as { listener?: unknown } | null)?.listener;
  return typeof name === "string" ? name : undefined;
}

/**
 * Binds and starts serving.
 *
 * @throws {Deno.errors.AddrInUse} and other bind errors, tagged with
 * `listener: options.name`, before anything is served
 */
export function openListener(options: ListenerOptions): Listener {
  let tls = options.tls;
  const reports = { listener: options.name, logger: options.logger, events: options.events };
  let server: Server;
  try {
    const certificates = tls ? loadListenerCertificates(tls) : undefined;
    server = startServer({ ...options, certificates });
    if (certificates) warnExpiring(certificates, reports);
  } catch (e) {
    // The caller says which address failed from the tag (main.ts).
    throw tagBindError(e, options.name);
  }
  const watch = () =>
    tls && watchCertificateFiles(() => tls!, () => {
      refreshCertificates(server, tls!, "files changed", reports);
    });
  let watching = watch();
  const stop = (graceMs: number) => {
    watching?.[Symbol.dispose]();
    return server.shutdown(graceMs);
  };
  return {
    name: options.name,
    protocol: "http",
    server,
    addr: server.addr,
    url: urlOf(server.addr, tls ? "https" : "http"),
    ready: Promise.resolve(),
    reconfigure(config, limits) {
      server.setLimits(limits);
      server.setTimeouts({
        firstRequestTimeoutMs: config.read_timeout,
        idleTimeoutMs: config.idle_timeout,
      });
      // A switch between plain and TLS is refused by the reload plan.
      if (!config.tls || !tls || server.draining) return;
      const filesMoved = JSON.stringify(config.tls) !== JSON.stringify(tls);
      tls = config.tls;
      refreshCertificates(server, tls, "reload", reports);
      if (filesMoved) {
        watching?.[Symbol.dispose]();
        watching = watch();
      }
    },
    drain: stop,
    [Symbol.asyncDispose]: () => stop(options.closeGraceMs),
  };
}

/**
 * Tags a bind error with the listener's name, as {@linkcode openListener}
 * does, so that the caller can say which address failed.
 */
export function tagBindError(e: unknown, name: string): unknown {
  if (e instanceof Error) Object.assign(e, { listener: name });
  return e;
}
