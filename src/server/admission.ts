/**
 * Which accepted connections Aegis serves: at most `maxConnections` open at
 * once, and at most `maxPerClient` from one client. A connection past either
 * limit is refused (the server closes it at once, before any HTTP work) and
 * counted by reason; connections already admitted are never touched.
 *
 * Each admitted connection holds a disposable permit, so a slot is given
 * back exactly once however the connection ends. Pure bookkeeping: the
 * server owns the sockets.
 *
 * @module
 */

/** Why a connection was refused. */
export type RejectReason = "max_connections" | "per_client";

/** Every {@linkcode RejectReason}, in a stable order. */
export const REJECT_REASONS: readonly RejectReason[] = Object.freeze([
  "max_connections",
  "per_client",
]);

/**
 * Why a connection was turned away before admission, by a listener's
 * screen: its client's network is not allowed (`denied`), or new
 * connections come faster than the listener takes them (`rate_limited`).
 */
export type ScreenReason = "denied" | "rate_limited";

/** Every {@linkcode ScreenReason}, in a stable order. */
export const SCREEN_REASONS: readonly ScreenReason[] = Object.freeze(["denied", "rate_limited"]);

/** Why a listener closed a connection at once: a limit, its networks or its rate limit. */
export type Refusal = RejectReason | ScreenReason;

/** Every {@linkcode Refusal}, in a stable order. */
export const REFUSALS: readonly Refusal[] = Object.freeze([...REJECT_REASONS, ...SCREEN_REASONS]);

/** The limits in force. */
export interface ConnectionLimits {
  /** Most client connections open at once (`server.max_connections`). */
  readonly maxConnections: number;
  /** Most open at once from one client (`server.max_connections_per_client`). */
  readonly maxPerClient: number;
}

/** No limit at all. */
export const UNLIMITED_CONNECTIONS: ConnectionLimits = Object.freeze({
  maxConnections: Infinity,
  maxPerClient: Infinity,
});

/** An admitted connection's slot; disposing it gives the slot back (once). */
export interface ConnectionPermit extends Disposable {
  /** The client the connection was counted against. */
  readonly client: string;
}

/**
 * Counts open connections overall and per client, and refuses those past
 * the limits.
 *
 * @example
 * ```ts
 * const admission = new ConnectionAdmission({ maxConnections: 10_000, maxPerClient: 256 });
 * const permit = admission.admit("203.0.113.7");
 * if (typeof permit === "string") conn.close(); // "max_connections" or "per_client"
 * else served.finished.finally(() => permit[Symbol.dispose]());
 * ```
 */
export class ConnectionAdmission {
  #limits: ConnectionLimits;
  #open = 0;
  // [SECURITY] Per-client counts: one entry per client with an open
  // connection, deleted at zero, so the map never outgrows maxConnections
  // however many addresses a flood comes from.
  readonly #perClient = new Map<string, number>();
  readonly #rejected: Record<RejectReason, number> = { max_connections: 0, per_client: 0 };

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  /** The limits in force. */
  get limits(): ConnectionLimits {
    return this.#limits;
  }

  /** Connections admitted and not yet released. */
  get open(): number {
    return this.#open;
  }

  /** Clients with at least one admitted connection. */
  get clients(): number {
    return this.#perClient.size;
  }

  /** Connections refused since start, by reason (a live view; copy it to keep it). */
  get rejected(): Readonly<Record<RejectReason, number>> {
    return this.#rejected;
  }

  /** Open connections of `client`. */
  openFor(client: string): number {
    return this.#perClient.get(client) ?? 0;
  }

  /**
   * New limits, for connections accepted from now on (a reload). Connections
   * already open stay open even if they are now over a lower limit.
   */
  setLimits(limits: ConnectionLimits): void {
    this.#limits = limits;
  }

  /** Admits a connection from `client`, or says why not (and counts it). */
  admit(client: string): ConnectionPermit | RejectReason {
    // [SECURITY] Connection caps: a flood of idle connections must not take
    // every descriptor (and then every backend connection) from the clients
    // already being served.
    if (this.#open >= this.#limits.maxConnections) {
      this.#rejected.max_connections++;
      return "max_connections";
    }
    const mine = this.#perClient.get(client) ?? 0;
    if (mine >= this.#limits.maxPerClient) {
      this.#rejected.per_client++;
      return "per_client";
    }
    this.#open++;
    this.#perClient.set(client, mine + 1);
    let released = false;
    return {
      client,
      [Symbol.dispose]: () => {
        if (released) return;
        released = true;
        this.#release(client);
      },
    };
  }

  #release(client: string): void {
    this.#open--;
    const left = (this.#perClient.get(client) ?? 1) - 1;
    if (left > 0) this.#perClient.set(client, left);
    else this.#perClient.delete(client);
  }
}
