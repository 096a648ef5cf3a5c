/**
 * Relays bytes both ways between a client and a backend until both
 * directions have ended. One reusable buffer per direction and a plain
 * read/write-all loop (no web streams, no allocation per chunk), because a
 * TCP relay is measured by its throughput.
 *
 * Half-close is honoured: when one side ends its sending (FIN), the other
 * side's write half is closed and bytes keep flowing the other way until it
 * ends too. An idle timeout (no byte either way), the shutdown signal, an
 * error on either socket, or an untrusted client opening with a PROXY
 * header end the relay at once, closing both sockets.
 *
 * @module
 */

import type { Clock, Timer } from "../clock/mod.ts";
import { PROXY_SNIFF_BYTES, sniffProxyHeader } from "./proxy_protocol.ts";
import { describeError, type RelaySocket, writeAll } from "./_socket.ts";

/** How a relay's piping ended. */
export type PipeEnd =
  /** The client finished sending first (or went away); the backend did its job. */
  | "client_closed"
  /** The backend finished sending first, both then ended normally. */
  | "backend_closed"
  /** No byte either way for the idle timeout. */
  | "idle_timeout"
  /** The shutdown signal fired. */
  | "aborted"
  /** The backend reset the connection or failed to take bytes. */
  | "backend_error"
  /** An untrusted client opened with a PROXY header. */
  | "proxy_header_refused";

/** What {@linkcode pipe} reports. */
export interface PipeResult {
  /** How it ended. */
  readonly end: PipeEnd;
  /** Client bytes delivered to the backend (a PROXY header sent by the relay not included). */
  readonly toBackend: number;
  /** Backend bytes delivered to the client. */
  readonly toClient: number;
  /** The error behind a `backend_error`. */
  readonly detail?: string;
}

/** Options for {@linkcode pipe}. */
export interface PipeOptions {
  /** Times the idle timeout. */
  readonly clock: Clock;
  /** No byte either way for this long closes both; not finite or ≤ 0: never. */
  readonly idleTimeoutMs: number;
  /** Closes both at once (shutdown grace over). */
  readonly signal: AbortSignal;
  /** Sent to the backend before anything else (the PROXY header the relay writes). */
  readonly header?: Uint8Array;
  /** Client bytes already read (past a PROXY header the client sent): sent right after. */
  readonly early?: Uint8Array;
  /** [SECURITY] Refuse a client whose first bytes are a PROXY header (it is not trusted to send one). */
  readonly refuseProxyHeader: boolean;
  /** The client→backend buffer (it may hold `early`). */
  readonly toBackendBuffer: Uint8Array;
  /** The backend→client buffer. */
  readonly toClientBuffer: Uint8Array;
  /** Called for every chunk delivered, with plain numbers (one of them 0). */
  readonly onBytes: (toBackend: number, toClient: number) => void;
}

/**
 * Pipes `client` and `backend` until both directions end, then closes both.
 *
 * @example
 * ```ts
 * const result = await pipe(client, backend, {
 *   clock, idleTimeoutMs: 300_000, signal, refuseProxyHeader: true,
 *   toBackendBuffer: new Uint8Array(65536), toClientBuffer: new Uint8Array(65536),
 *   onBytes: (up, down) => { sent += up; received += down; },
 * });
 * result.end; // "client_closed", "backend_closed", "idle_timeout", ...
 * ```
 */
export function pipe(
  client: RelaySocket,
  backend: RelaySocket,
  options: PipeOptions,
): Promise<PipeResult> {
  return new Pipe(client, backend, options).run();
}

class Pipe {
  readonly #client: RelaySocket;
  readonly #backend: RelaySocket;
  readonly #o: PipeOptions;
  /** Set by whatever ends the relay early; the first reason stands. */
  #stopped: PipeEnd | undefined;
  #detail: string | undefined;
  /** Which side finished sending first, for a relay that ends normally. */
  #firstEnd: PipeEnd | undefined;
  #backendEnded = false;
  #toBackend = 0;
  #toClient = 0;
  #lastActivity: number;
  #timer: Timer | undefined;

  constructor(client: RelaySocket, backend: RelaySocket, options: PipeOptions) {
    this.#client = client;
    this.#backend = backend;
    this.#o = options;
    this.#lastActivity = options.clock.now();
  }

  async run(): Promise<PipeResult> {
    const onAbort = () => this.#stop("aborted");
    this.#o.signal.addEventListener("abort", onAbort, { once: true });
    if (this.#o.signal.aborted) this.#stop("aborted");
    this.#arm(this.#o.idleTimeoutMs);
    // A bug thrown in one direction must not leave the other waiting on a
    // healthy socket: both close, both settle, then the error goes on.
    const settle = (direction: Promise<void>) =>
      direction.catch((e: unknown) => {
        this.#client.close();
        this.#backend.close();
        throw e;
      });
    const results = await Promise.allSettled([
      settle(this.#upstream()),
      settle(this.#downstream()),
    ]);
    this.#timer?.cancel();
    this.#o.signal.removeEventListener("abort", onAbort);
    this.#client.close();
    this.#backend.close();
    for (const r of results) if (r.status === "rejected") throw r.reason;
    return {
      end: this.#stopped ?? this.#firstEnd ?? "client_closed",
      toBackend: this.#toBackend,
      toClient: this.#toClient,
      detail: this.#detail,
    };
  }

  /** Ends the relay now: both sockets close, so the pending reads and writes fail. */
  #stop(end: PipeEnd, detail?: string): void {
    if (this.#stopped) return;
    this.#stopped = end;
    this.#detail = detail;
    this.#client.close();
    this.#backend.close();
  }

  // The idle timeout is checked lazily: one timer, re-armed from the last
  // activity when it fires, instead of a timer reset on every chunk.
  #arm(ms: number): void {
    const idle = this.#o.idleTimeoutMs;
    if (!(idle > 0) || !Number.isFinite(idle) || this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(ms, () => {
      const quiet = this.#o.clock.now() - this.#lastActivity;
      if (quiet >= idle) this.#stop("idle_timeout");
      else this.#arm(idle - quiet);
    });
  }

  async #upstream(): Promise<void> {
    const { conn: from } = this.#client;
    const { conn: to } = this.#backend;
    const buf = this.#o.toBackendBuffer;
    const { header, early } = this.#o;
    try {
      if (header) await writeAll(to, header, header.length);
      if (early?.length) await this.#deliverUp(early, early.length);
    } catch (e) {
      return this.#backendWriteFailed(e);
    }
    // Bytes held back while the first ones could still be a PROXY header.
    let held: Uint8Array | undefined = this.#o.refuseProxyHeader
      ? new Uint8Array(PROXY_SNIFF_BYTES)
      : undefined;
    let heldBytes = 0;
    for (;;) {
      let n: number | null;
      try {
        n = await from.read(buf);
      } catch {
        // A client that resets has gone away: its relay is over, and the
        // backend did nothing wrong.
        return this.#stop("client_closed");
      }
      if (n === null) break;
      this.#lastActivity = this.#o.clock.now();
      try {
        if (held) {
          const take = Math.min(n, held.length - heldBytes);
          held.set(buf.subarray(0, take), heldBytes);
          const sniff = sniffProxyHeader(held.subarray(0, heldBytes + take));
          // [SECURITY] PROXY header spoofing: a client not trusted to send
          // one must not pass its own claimed address to a backend that
          // reads PROXY headers. Refused on its first bytes, as they flow.
          if (sniff === "proxy") return this.#stop("proxy_header_refused");
          if (sniff === "maybe") {
            heldBytes += take;
            continue;
          }
          if (heldBytes > 0) await this.#deliverUp(held, heldBytes);
          held = undefined;
        }
        await this.#deliverUp(buf, n);
      } catch (e) {
        return this.#backendWriteFailed(e);
      }
    }
    if (this.#stopped) return;
    try {
      // A client that ended with the beginning of a signature sent real bytes.
      if (held && heldBytes > 0) await this.#deliverUp(held, heldBytes);
    } catch (e) {
      return this.#backendWriteFailed(e);
    }
    this.#firstEnd ??= "client_closed";
    await this.#backend.closeWrite();
  }

  async #deliverUp(bytes: Uint8Array, n: number): Promise<void> {
    await writeAll(this.#backend.conn, bytes, n);
    this.#toBackend += n;
    this.#o.onBytes(n, 0);
  }

  #backendWriteFailed(e: unknown): void {
    if (this.#stopped) return;
    // After its own FIN a backend may reset rather than read on: its part
    // was done, so that is the normal end of a relay, not a failure.
    if (this.#backendEnded) return this.#stop(this.#firstEnd ?? "backend_closed");
    this.#stop("backend_error", describeError(e));
  }

  async #downstream(): Promise<void> {
    const { conn: from } = this.#backend;
    const { conn: to } = this.#client;
    const buf = this.#o.toClientBuffer;
    for (;;) {
      let n: number | null;
      try {
        n = await from.read(buf);
      } catch (e) {
        if (!this.#stopped) this.#stop("backend_error", describeError(e));
        return;
      }
      if (n === null) break;
      this.#lastActivity = this.#o.clock.now();
      try {
        await writeAll(to, buf, n);
      } catch {
        return this.#stop("client_closed");
      }
      this.#toClient += n;
      this.#o.onBytes(0, n);
    }
    this.#backendEnded = true;
    if (this.#stopped) return;
    this.#firstEnd ??= "backend_closed";
    await this.#client.closeWrite();
  }
}
