/**
 * Connect checks for TCP pools: a backend is healthy when it accepts a TCP
 * connection within the timeout. The connection is closed at once, before
 * a byte is sent, so a server-speaks-first backend (a database, SMTP) sees
 * a client that went away, nothing worse.
 *
 * @module
 */

import { failedProbe, type Probe } from "./checker.ts";

/** How the probe opens a connection; `Deno.connect` unless a test gives another. */
export type Connector = (
  options: Deno.ConnectOptions & { signal?: AbortSignal },
) => Promise<Deno.Conn>;

/**
 * A probe that connects to `tcp://host:port` (the base URL an L4 backend
 * has) and closes again; aborted after `timeoutMs`.
 *
 * @example
 * ```ts
 * const probe = connectProbe(3000);
 * await probe("tcp://10.0.0.7:5432", signal); // { ok: true, detail: "connected" }
 * ```
 */
export function connectProbe(timeoutMs: number, connect: Connector = Deno.connect): Probe {
  return async (baseUrl, signal) => {
    const url = new URL(baseUrl);
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const conn = await connect({
        hostname,
        port: Number(url.port),
        transport: "tcp",
        signal: AbortSignal.any([signal, timeout]),
      });
      conn.close();
      return { ok: true, detail: "connected" };
    } catch (e) {
      return failedProbe(e, timeout.aborted, `no connection within ${timeoutMs}ms`);
    }
  };
}
