/**
 * Keep-alive connection pools, one per backend origin: at most
 * `maxConnections` open at once (requests beyond wait their turn), at most
 * `maxIdle` kept idle, idle ones closed after `idleTimeoutMs`.
 *
 * A pooled connection is a security boundary between clients: the next
 * exchange on it may be another client's. The transport returns a
 * connection only after an exchange that ended exactly at a message
 * boundary with nothing unread, and the pool drops an idle connection the
 * moment anything arrives on it (as Go's `net/http` transport does: an
 * "unsolicited response" on an idle connection closes it), so bytes a
 * backend sends between exchanges can never be read as the next answer.
 * The same holds for TLS connections to `https` backends: the rule is about
 * the bytes of HTTP messages, whatever carries them.
 *
 * @module
 */

import { localResourceError, ProxyError } from "../core/mod.ts";
import { H1Conn } from "./conn.ts";

/** Pool limits (per backend). */
export interface PoolLimits {
  /** Most connections open at once. */
  readonly maxConnections: number;
  /** Most idle connections kept. */
  readonly maxIdle: number;
  /** Idle connections older than this are closed, not reused. */
  readonly idleTimeoutMs: number;
  /** Longest wait for a connection to be established (its TLS handshake included). */
  readonly connectTimeoutMs: number;
}

/** How connections to an `https` backend are secured. */
export interface TlsTarget {
  /** The name sent by SNI and verified in the backend's certificate (a host name or an IP). */
  readonly serverName: string;
  /** CA certificates (PEM) trusted besides the runtime's roots. */
  readonly caCerts?: readonly string[];
}

/** Connections to one backend. */
export class HostPool {
  readonly #hostname: string;
  readonly #port: number;
  readonly #limits: PoolLimits;
  readonly #tls: TlsTarget | undefined;
  readonly #idle: H1Conn[] = [];
  readonly #waiters: Array<(conn: H1Conn | undefined) => void> = [];
  #open = 0;
  #closed = false;
  #unsolicited = 0;

  /** `tls`: the backend speaks `https`; plain TCP when absent. */
  constructor(hostname: string, port: number, limits: PoolLimits, tls?: TlsTarget) {
    this.#hostname = hostname;
    this.#port = port;
    this.#limits = limits;
    this.#tls = tls;
  }

  /** Connections open (busy or idle). */
  get open(): number {
    return this.#open;
  }

  /** Idle connections kept. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Idle connections dropped because bytes or an end of stream arrived on them. */
  get unsolicited(): number {
    return this.#unsolicited;
  }

  /**
   * A connection for one exchange: the most recently used idle one that has
   * not expired, else a new one, else (at the limit) the next one released.
   *
   * @throws {ProxyError} connect, when the backend cannot be reached in time
   */
  async acquire(signal: AbortSignal, fresh = false): Promise<H1Conn> {
    const idle = fresh ? undefined : this.takeIdle();
    if (idle) return idle;
    if (this.#open >= this.#limits.maxConnections) {
      const handed = await this.#wait(signal);
      if (handed && !fresh) return handed;
      if (handed) this.#discard(handed);
    }
    return await this.#connect(signal);
  }

  /**
   * The most recently used idle connection that has not expired, if any,
   * without waiting: the request path's common case needs no promise.
   */
  takeIdle(): H1Conn | undefined {
    if (this.#idle.length === 0) return undefined;
    const now = performance.now();
    while (this.#idle.length > 0) {
      const conn = this.#idle.pop()!;
      if (now - conn.idleSince < this.#limits.idleTimeoutMs && !conn.closed) {
        conn.unwatch();
        return conn;
      }
      this.#discard(conn);
    }
    return undefined;
  }

  /**
   * Returns a connection after an exchange, or closes it. `reusable` is the
   * transport's verdict that the exchange ended exactly at a message
   * boundary; a connection with unread bytes is closed whatever it says.
   */
  release(conn: H1Conn, reusable: boolean): void {
    // [SECURITY] Bytes left after a response belong to no request: reusing the
    // connection would hand them to the next client as its response.
    if (!reusable || conn.closed || this.#closed || conn.buffered.length > 0) {
      return this.#discard(conn);
    }
    conn.reused = true;
    conn.idleSince = performance.now();
    const waiter = this.#waiters.shift();
    if (waiter) return waiter(conn);
    if (this.#idle.length >= this.#limits.maxIdle) return this.#discard(conn);
    this.#idle.push(conn);
    // [SECURITY] Anything that arrives while idle (a late body, a second
    // response, an end of stream) closes the connection before it is reused.
    conn.watchIdle(() => this.#dropIdle(conn));
  }

  /** Closes a connection that will not be reused. */
  discard(conn: H1Conn): void {
    this.#discard(conn);
  }

  /** Closes idle connections past their idle timeout. */
  sweep(now: number = performance.now()): void {
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const conn = this.#idle[i]!;
      if (now - conn.idleSince >= this.#limits.idleTimeoutMs) {
        this.#idle.splice(i, 1);
        this.#discard(conn);
      }
    }
  }

  /** Closes everything; later acquires fail. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#idle.splice(0)) this.#discard(conn);
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  /** Something arrived on an idle connection: it can carry no other exchange. */
  #dropIdle(conn: H1Conn): void {
    const i = this.#idle.indexOf(conn);
    if (i < 0) return;
    this.#idle.splice(i, 1);
    this.#unsolicited++;
    this.#discard(conn);
  }

  #discard(conn: H1Conn): void {
    if (!conn.closed) conn.close();
    this.#open--;
    // A slot freed: the first waiter may open a connection of its own.
    const waiter = this.#waiters.shift();
    if (waiter) waiter(undefined);
  }

  #wait(signal: AbortSignal): Promise<H1Conn | undefined> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiters.indexOf(done);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal.reason);
      };
      const done = (conn: H1Conn | undefined) => {
        signal.removeEventListener("abort", onAbort);
        resolve(conn);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(done);
    });
  }

  async #connect(signal: AbortSignal): Promise<H1Conn> {
    if (this.#closed) throw new ProxyError("connect", "transport closed");
    this.#open++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let gaveUp = false;
    const dialing: Dialing = {};
    const attempt = this.#dial(dialing);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        gaveUp = true;
        reject(
          new ProxyError("connect", `connect timeout after ${this.#limits.connectTimeoutMs}ms`),
        );
      }, this.#limits.connectTimeoutMs);
    });
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => {
        gaveUp = true;
        reject(signal.reason);
      }, { once: true });
    });
    try {
      return new H1Conn(await Promise.race([attempt, timeout, aborted]));
    } catch (e) {
      this.#open--;
      // A connect that completes after we gave up must not leak its socket,
      // nor one stuck in a TLS handshake the backend never answers.
      if (gaveUp) {
        closeQuietly(dialing.conn);
        attempt.then(closeQuietly, () => {});
      }
      const waiter = this.#waiters.shift();
      if (waiter) waiter(undefined);
      if (e instanceof ProxyError || signal.aborted) throw e;
      if (e instanceof TlsHandshakeError) {
        throw new ProxyError(
          "connect",
          `TLS handshake with ${this.#hostname}:${this.#port} (server name ${
            this.#tls!.serverName
          }) failed: ${e.message}`,
          { cause: e.cause },
        );
      }
      // Out of descriptors (EMFILE) and the like is Aegis's failure, not the backend's.
      throw localResourceError(e) ?? new ProxyError(
        "connect",
        `cannot connect to ${this.#hostname}:${this.#port}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A TCP connection, and over `https` the TLS handshake on it: the
   * backend's certificate verified for the server name before anything is
   * sent, so a refused certificate is a connect failure.
   */
  async #dial(dialing: Dialing): Promise<Deno.Conn> {
    const tcp = await Deno.connect({
      hostname: this.#hostname,
      port: this.#port,
      transport: "tcp",
    });
    dialing.conn = tcp;
    tcp.setNoDelay(true);
    if (!this.#tls) return tcp;
    // [SECURITY] Backend impersonation: the certificate must chain to a
    // trusted root or to `upstream.ca_file`, and name the server name;
    // there is no way to skip either check. startTls rather than
    // connectTls: it is what lets the name verified differ from the address.
    const { serverName, caCerts } = this.#tls;
    const tls = await Deno.startTls(tcp, {
      hostname: serverName,
      ...(caCerts ? { caCerts: [...caCerts] } : {}),
    });
    dialing.conn = tls;
    try {
      await tls.handshake();
    } catch (e) {
      tls.close();
      throw new TlsHandshakeError(e);
    }
    return tls;
  }
}

/** The socket a connection attempt holds so far, for closing it when the attempt is given up. */
interface Dialing {
  conn?: Deno.Conn;
}

function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch {
    // Already closed, or handed on to TLS.
  }
}

/** A TLS handshake with a backend failed: its certificate was refused, or it spoke no TLS. */
class TlsHandshakeError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}
