/**
 * A per-connection HTTP server on which an upgraded WebSocket outlives the
 * exchange that upgraded it.
 *
 * Why it exists: the runtime's internal per-connection server
 * (`_serve_connection.ts`) closes a WebSocket from `Deno.upgradeWebSocket`
 * as soon as the upgrading exchange ends
 * (`tests/server/serve_connection_upgrade_test.ts` pins it), so listeners
 * that relay WebSocket are served by the runtime's older per-connection
 * server, `Deno.serveHttp(conn)`, instead: still in the runtime (though no
 * longer in its type declarations), it keeps an upgraded socket open, serves
 * HTTP/1.1 and, on a TLS connection that chose `h2` by ALPN, HTTP/2. Aegis
 * still accepts the connection itself, so connection caps, allow/deny and
 * timeouts stay its own. This module wraps it in the same
 * {@linkcode ServeOnConnection} contract, and
 * `tests/server/serve_upgradable_test.ts` fails loudly if a runtime upgrade
 * removes it.
 *
 * What it costs: each request crosses from the runtime to JavaScript
 * through an async iterator and a `respondWith` call rather than the newer
 * engine's single callback, which shows in throughput (README, "WebSocket",
 * has the measurement); listeners without WebSocket keep the newer engine.
 *
 * @module
 */

import type { ServedConnection, ServeOnConnection } from "./_serve_connection.ts";

/** One request as `Deno.serveHttp` gives it. */
interface RequestEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): Promise<void>;
}

/** The connection object `Deno.serveHttp` returns. */
interface HttpConn extends AsyncIterable<RequestEvent> {
  close(): void;
}

/**
 * The runtime's `Deno.serveHttp` wrapped as a {@linkcode ServeOnConnection},
 * or `undefined` when this runtime lacks it.
 *
 * `info.completed` settles when the response was written in full (rejects
 * when the client left first); `request.signal` aborts when the client
 * leaves before its response is written. `shutdown()` closes an idle
 * connection at once; a busy one closes once its response announcing the
 * close is written, or when the caller aborts `signal`.
 */
export function upgradableServeOnConnection(): ServeOnConnection | undefined {
  const serveHttp = (Deno as unknown as { serveHttp?: unknown }).serveHttp;
  if (typeof serveHttp !== "function") return undefined;
  return (connection, signal, handler, onError, onListen): ServedConnection => {
    const http = (serveHttp as (conn: Deno.Conn) => HttpConn)(connection);
    const remoteAddr = connection.remoteAddr as Deno.NetAddr;
    let inFlight = 0;
    /** A response said `Connection: close`: the engine closes once it is written. */
    let closeAnnounced = false;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      try {
        http.close();
      } catch {
        // The runtime closed it already (the peer left, or an upgrade took it).
      }
    };
    signal.addEventListener("abort", close, { once: true });

    const serve = async ({ request, respondWith }: RequestEvent) => {
      inFlight++;
      const completed = Promise.withResolvers<void>();
      // Observed by the handler when it cares; never an unhandled rejection.
      completed.promise.catch(() => {});
      try {
        let response: Response;
        try {
          response = await handler(request, { remoteAddr, completed: completed.promise });
        } catch (e) {
          response = onError(e);
        }
        if (response.headers.get("connection")?.toLowerCase() === "close") closeAnnounced = true;
        await respondWith(response);
        completed.resolve();
      } catch (e) {
        // The client left before its response was written, or the body failed midway.
        completed.reject(e);
      } finally {
        inFlight--;
      }
    };

    onListen();
    const finished = (async () => {
      try {
        for await (const event of http) serve(event);
      } catch {
        // The connection broke (reset, or closed under a read): it is over either way.
      } finally {
        signal.removeEventListener("abort", close);
        closed = true;
      }
    })();
    return {
      finished,
      shutdown() {
        // Closing cuts a response still on its way out, which it may be
        // after `respondWith` settled: a connection whose response announced
        // the close (`Connection: close`) is closed by the engine once that
        // is written, and a busy one by the caller's flush deadline (`signal`).
        if (inFlight === 0 && !closeAnnounced) close();
        return finished;
      },
    };
  };
}
