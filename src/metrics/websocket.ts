/**
 * WebSocket counters: sessions open now by listener and pool, and message
 * bytes relayed by pool and direction, kept for the life of the process
 * (a reload keeps counting). Read as plain data by the snapshot.
 *
 * @module
 */

/** Sessions open now on one listener to one pool. */
export interface WebSocketOpen {
  readonly listener: string;
  readonly pool: string;
  readonly open: number;
}

/** What one pool's sessions carried since start. */
export interface WebSocketPoolTotals {
  readonly pool: string;
  /** Sessions relayed since start (every one that reached its backend). */
  readonly sessions: number;
  /** Message payload bytes client → backend. */
  readonly bytesToBackend: number;
  /** Message payload bytes backend → client. */
  readonly bytesToClient: number;
}

/** The counters as a snapshot shows them. */
export interface WebSocketSnapshot {
  /** Every listener and pool that ever had a session, in order of first session. */
  readonly open: readonly WebSocketOpen[];
  /** Every pool that ever had a session, in order of first session. */
  readonly pools: readonly WebSocketPoolTotals[];
}

/** Live WebSocket counters of the whole process. */
export class WebSocketStats {
  readonly #open = new Map<string, { listener: string; pool: string; open: number }>();
  readonly #pools = new Map<string, { sessions: number; toBackend: number; toClient: number }>();

  #pool(pool: string) {
    let totals = this.#pools.get(pool);
    if (!totals) this.#pools.set(pool, totals = { sessions: 0, toBackend: 0, toClient: 0 });
    return totals;
  }

  /**
   * A session of `listener` to `pool` opened; the returned function counts
   * it closed (once, however often it is called).
   *
   * @example
   * ```ts
   * const closed = stats.opened("web", "chat");
   * session.ended.finally(closed);
   * ```
   */
  opened(listener: string, pool: string): () => void {
    const key = `${listener}\n${pool}`;
    let entry = this.#open.get(key);
    if (!entry) this.#open.set(key, entry = { listener, pool, open: 0 });
    entry.open++;
    this.#pool(pool).sessions++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.open--;
    };
  }

  /** Counts message bytes of a session of `pool`. */
  bytes(pool: string, toBackend: number, toClient: number): void {
    const totals = this.#pool(pool);
    totals.toBackend += toBackend;
    totals.toClient += toClient;
  }

  /** Sessions open now, every listener's added up. */
  get openSessions(): number {
    let n = 0;
    for (const entry of this.#open.values()) n += entry.open;
    return n;
  }

  /** A plain copy of the counters. */
  snapshot(): WebSocketSnapshot {
    return {
      open: [...this.#open.values()].map((e) => ({ ...e })),
      pools: [...this.#pools].map(([pool, t]) => ({
        pool,
        sessions: t.sessions,
        bytesToBackend: t.toBackend,
        bytesToClient: t.toClient,
      })),
    };
  }
}
