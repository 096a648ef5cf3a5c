/**
 * The listener on runtimes without the per-connection server: plain
 * `Deno.serve`, which accepts connections by itself, so there are no
 * connection timeouts, limits or drain grace; Aegis says so at start.
 *
 * @module
 */

import { UNLIMITED_CONNECTIONS } from "./admission.ts";
import type { Server, ServerOptions } from "./server.ts";
import { type ClientInfo } from "../core/mod.ts";

/** `Deno.serve` without connection timeouts, for runtimes lacking the per-connection server. */
export function startFallback(
  options: ServerOptions,
  clientFromAddr: (
    addr: Deno.NetAddr,
    listenerPort: number,
    proto: ClientInfo["proto"],
  ) => ClientInfo,
): Server {
  const { logger, handler } = options;
  logger.warn(
    "this runtime cannot serve connections individually: header-read and idle timeouts and connection limits are off",
  );
  const abort = new AbortController();
  let open = 0;
  let accepted = 0;
  const tls = options.certificates?.[0];
  const server = Deno.serve({
    // No SNI choice nor certificate renewal here: the first certificate, for good.
    ...(tls ? { cert: tls.cert, key: tls.key } : {}),
    hostname: options.hostname,
    port: options.port,
    signal: abort.signal,
    onListen() {},
  }, (request, info): Promise<Response> => {
    open++;
    accepted++;
    const ended = () => open--;
    info.completed.then(ended, ended);
    return handler(
      request,
      clientFromAddr(info.remoteAddr, server.addr.port, tls ? "https" : "http"),
    );
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
    // Deno.serve accepts by itself: nothing to count or refuse here.
    limits: options.limits ?? UNLIMITED_CONNECTIONS,
    rejected: { max_connections: 0, per_client: 0 },
    acceptErrors: 0,
    setLimits() {},
    setTimeouts() {},
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
