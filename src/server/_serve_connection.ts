/**
 * Access to the runtime's per-connection HTTP server.
 *
 * `Deno.serve` offers no header-read or keep-alive idle timeout
 * (denoland/deno#3515), so a client that trickles its headers, or parks an
 * idle connection, holds a socket forever. Serving each accepted connection
 * separately gives Aegis a handle to close it. The runtime has exactly that
 * function (`serveHttpOnConnection`, the same HTTP engine `Deno.serve` uses),
 * but only as an internal; this module is the one place that reaches for it,
 * and `tests/server/serve_connection_test.ts` fails loudly if a runtime
 * upgrade removes it. Without it Aegis falls back to `Deno.serve` and logs
 * that connection timeouts are off.
 *
 * @module
 */

/** Serves HTTP on one accepted connection until `signal` aborts or the peer leaves. */
export type ServeOnConnection = (
  connection: Deno.Conn,
  signal: AbortSignal,
  handler: (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Promise<Response>,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => ServedConnection;

/** A connection being served. */
export interface ServedConnection {
  /** Settles when the connection is closed. */
  readonly finished: Promise<void>;
  /**
   * Graceful close: lets a request in progress finish and flush, then closes;
   * closes at once a connection that is idle or still reading headers. Safe to
   * call at any time.
   */
  shutdown(): Promise<void>;
}

/** The runtime's per-connection server, or `undefined` when this runtime lacks it. */
export function serveOnConnection(): ServeOnConnection | undefined {
  const key = (Deno as unknown as { internal?: symbol }).internal;
  if (key === undefined) return undefined;
  const internals = (Deno as unknown as Record<symbol, Record<string, unknown> | undefined>)[key];
  const fn = internals?.serveHttpOnConnection;
  return typeof fn === "function" ? fn as ServeOnConnection : undefined;
}

let cancelling = false;
let guardInstalled = false;

/**
 * Closes a connection served by {@linkcode ServeOnConnection} at once, by
 * aborting the signal it was served with.
 *
 * The runtime's abort listener cancels the connection's server resource; if
 * the connection finished on its own a moment earlier, that resource is gone
 * and the listener throws `BadResource` from inside the event dispatch, which
 * the runtime treats as an uncaught error and exits on. Whether it is gone
 * cannot be known beforehand (the runtime takes the resource while closing,
 * across several tasks), so the error is absorbed here: a global error
 * handler swallows exactly that error, raised synchronously during this call,
 * and nothing else.
 */
export function cancelConnection(controller: AbortController): void {
  if (!guardInstalled) {
    guardInstalled = true;
    globalThis.addEventListener("error", (event) => {
      if (cancelling && event.error instanceof Deno.errors.BadResource) event.preventDefault();
    });
  }
  cancelling = true;
  try {
    controller.abort();
  } finally {
    cancelling = false;
  }
}
