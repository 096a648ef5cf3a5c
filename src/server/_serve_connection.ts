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
) => { readonly finished: Promise<void> };

/** The runtime's per-connection server, or `undefined` when this runtime lacks it. */
export function serveOnConnection(): ServeOnConnection | undefined {
  const key = (Deno as unknown as { internal?: symbol }).internal;
  if (key === undefined) return undefined;
  const internals = (Deno as unknown as Record<symbol, Record<string, unknown> | undefined>)[key];
  const fn = internals?.serveHttpOnConnection;
  return typeof fn === "function" ? fn as ServeOnConnection : undefined;
}
