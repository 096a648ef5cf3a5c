/**
 * Reads the PROXY header a trusted proxy sends first, with a bounded wait
 * and a bounded size, and hands back the client bytes that came with it.
 *
 * @module
 */

import type { Clock } from "../clock/mod.ts";
import { PROXY_HEADER_MAX_BYTES, type ProxyHeader } from "./proxy_protocol.ts";
import { parseProxyHeader } from "./proxy_parse.ts";
import { describeError, type RelaySocket } from "./_socket.ts";

/**
 * How long a trusted proxy has to send its header by default: the spec asks
 * for at least 3 s, to cover a TCP retransmit (§2).
 */
export const DEFAULT_PROXY_HEADER_TIMEOUT_MS = 5000;

/** Why no header was read. */
export type HeaderFailure =
  /** Bytes came that are not a valid header. */
  | "proxy_header_invalid"
  /** The header did not arrive in time. */
  | "proxy_header_timeout"
  /** The client closed (or reset) before a whole header came. */
  | "client_closed"
  /** The shutdown signal fired. */
  | "aborted";

/** What {@linkcode readProxyHeader} found. */
export type HeaderRead =
  | {
    readonly ok: true;
    readonly header: ProxyHeader;
    /** Client bytes read past the header (a view into the buffer): the backend gets them first. */
    readonly early: Uint8Array;
  }
  | { readonly ok: false; readonly failure: HeaderFailure; readonly detail: string };

/** Options for {@linkcode readProxyHeader}. */
export interface HeaderReadOptions {
  /** Times the wait. */
  readonly clock: Clock;
  /** How long the whole header may take. */
  readonly timeoutMs: number;
  /** Ends the wait at once (shutdown). */
  readonly signal: AbortSignal;
}

/**
 * Reads a PROXY header from `client` into `buf`. On failure the client
 * socket may be closed already (by the timer or the signal); the caller
 * closes it in any case.
 *
 * @param buf at least {@linkcode PROXY_HEADER_MAX_BYTES} long; what follows the header stays in it
 *
 * @example
 * ```ts
 * const read = await readProxyHeader(client, buffer, { clock, timeoutMs: 5000, signal });
 * if (!read.ok) return refuse(read.failure);
 * const realClient = read.header.endpoints?.source ?? socketPeer;
 * ```
 */
export async function readProxyHeader(
  client: RelaySocket,
  buf: Uint8Array,
  options: HeaderReadOptions,
): Promise<HeaderRead> {
  if (buf.length < PROXY_HEADER_MAX_BYTES) throw new RangeError("buffer too small for a header");
  let stopped: HeaderFailure | undefined;
  const stop = (why: HeaderFailure) => {
    stopped ??= why;
    client.close();
  };
  // [SECURITY] Bounded wait: a trusted address that connects and sends
  // nothing holds a descriptor for no longer than this.
  const timer = options.clock.setTimer(options.timeoutMs, () => stop("proxy_header_timeout"));
  const onAbort = () => stop("aborted");
  options.signal.addEventListener("abort", onAbort, { once: true });
  try {
    if (options.signal.aborted) stop("aborted");
    let filled = 0;
    while (!stopped) {
      let n: number | null;
      try {
        // [SECURITY] Bounded size: never more than the buffer, and the
        // parser refuses a header past its limit from its first bytes.
        n = await client.conn.read(buf.subarray(filled));
      } catch (e) {
        if (stopped) break;
        return { ok: false, failure: "client_closed", detail: describeError(e) };
      }
      if (n === null) {
        return {
          ok: false,
          failure: "client_closed",
          detail: "closed before a whole PROXY header",
        };
      }
      filled += n;
      const parsed = parseProxyHeader(buf.subarray(0, filled));
      if (parsed.status === "invalid") {
        return { ok: false, failure: "proxy_header_invalid", detail: parsed.reason };
      }
      if (parsed.status === "complete") {
        return { ok: true, header: parsed.header, early: buf.subarray(parsed.length, filled) };
      }
    }
    const failure = stopped ?? "aborted";
    const detail = failure === "aborted"
      ? "shutting down"
      : `no PROXY header within ${options.timeoutMs} ms`;
    return { ok: false, failure, detail };
  } finally {
    timer.cancel();
    options.signal.removeEventListener("abort", onAbort);
  }
}
