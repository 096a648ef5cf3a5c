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
  /** Longest wait for a TCP connection to be established. */
  readonly connectTimeoutMs: number;
}

/** Connections to one backend. */
export class HostPool {
  readonly #hostname: string;
  readonly #port: number;
  readonly #limits: PoolLimits;
  readonly #idle: H1Conn[] = [];
  readonly #waiters: Array<(conn: H1Conn | undefined) => void> = [];
  #open = 0;
  #closed = false;
  #unsolicited = 0;

  constructor(hostname: string, port: number, limits: PoolLimits) {
    this.#hostname = hostname;
    this.#port = port;
    this.#limits = limits;
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
    if (!fresh) {
      const now = performance.now();
      while (this.#idle.length > 0) {
        const conn = this.#idle.pop()!;
        if (now - conn.idleSince < this.#limits.idleTimeoutMs && !conn.closed) {
          conn.unwatch();
          return conn;
        }
        this.#discard(conn);
      }
    }
    if (this.#open >= this.#limits.maxConnections) {
      const handed = await this.#wait(signal);
      if (handed && !fresh) return handed;
      if (handed) this.#discard(handed);
    }
    return await this.#connect(signal);
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
    const attempt = Deno.connect({ hostname: this.#hostname, port: this.#port, transport: "tcp" });
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
      const tcp = await Promise.race([attempt, timeout, aborted]);
      tcp.setNoDelay(true);
      return new H1Conn(tcp);
    } catch (e) {
      this.#open--;
      // A connect that completes after we gave up must not leak its socket.
      if (gaveUp) attempt.then((c) => c.close(), () => {});
      const waiter = this.#waiters.shift();
      if (waiter) waiter(undefined);
      if (e instanceof ProxyError || signal.aborted) throw e;
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
}
