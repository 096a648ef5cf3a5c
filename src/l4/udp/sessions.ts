/**
 * The NAT session table of a UDP listener, as a pure structure driven by
 * `now`: which client address:port has a session, which session was active
 * least recently (evicted first when the table is full, expired first when
 * idle), and which sessions still wait for their backend's first reply.
 *
 * Sessions are intrusive: a session object extends {@linkcode SessionEntry}
 * and carries its own list links, so the per-datagram work (look the client
 * up, mark it active) allocates nothing — no key string is built (clients
 * are found by address, then port), and marking a session active moves it
 * to the tail of a doubly linked list in O(1). Two lists are kept:
 *
 * - the activity list, least recently active first: idle expiry and
 *   eviction both take from its head, so a sweep costs only what it removes;
 * - the reply list, in the order sessions started waiting: since every wait
 *   has the same length, its head is always the first reply deadline due.
 *
 * The table never starts a timer. Its owner asks {@linkcode SessionTable.nextDeadline}
 * when to sweep and {@linkcode SessionTable.nextExpired} /
 * {@linkcode SessionTable.nextOverdue} what is due, so tests move a number.
 *
 * @module
 */

/** The table's limits; a reload may change them ({@linkcode SessionTable.setLimits}). */
export interface SessionLimits {
  /** Sessions kept at once (≥ 1); the least recently active is evicted past it. */
  readonly maxSessions: number;
  /** A session without traffic either way for this long has expired (> 0 ms). */
  readonly sessionTimeoutMs: number;
  /** A backend that has not answered a session's first datagram within this is overdue; 0 never. */
  readonly replyTimeoutMs: number;
}

// Link fields keyed by module-private symbols: only this table can move a
// session between lists, whoever extends SessionEntry.
const PREV: unique symbol = Symbol("prev");
const NEXT: unique symbol = Symbol("next");
const WAIT_PREV: unique symbol = Symbol("waitPrev");
const WAIT_NEXT: unique symbol = Symbol("waitNext");
const IN_TABLE: unique symbol = Symbol("inTable");
const WAITING: unique symbol = Symbol("waiting");

/** One client's place in the table: extend it with what a session holds. */
export class SessionEntry {
  /** The client's address, as the socket reported it. */
  readonly address: string;
  /** The client's port. */
  readonly port: number;
  /** Clock time of the last datagram either way. */
  lastActive = 0;
  /** Clock time the session began waiting for its backend's first reply; `NaN` when not waiting. */
  waitingSince = NaN;
  /** Whether the backend has answered since the session last (re)picked it. */
  replied = false;
  [PREV]: SessionEntry | undefined = undefined;
  [NEXT]: SessionEntry | undefined = undefined;
  [WAIT_PREV]: SessionEntry | undefined = undefined;
  [WAIT_NEXT]: SessionEntry | undefined = undefined;
  [IN_TABLE] = false;
  [WAITING] = false;

  constructor(address: string, port: number) {
    this.address = address;
    this.port = port;
  }
}

/** A doubly linked list over one pair of link fields. */
class Chain<E extends SessionEntry> {
  head: E | undefined;
  tail: E | undefined;
  readonly #prev: typeof PREV | typeof WAIT_PREV;
  readonly #next: typeof NEXT | typeof WAIT_NEXT;

  constructor(prev: typeof PREV | typeof WAIT_PREV, next: typeof NEXT | typeof WAIT_NEXT) {
    this.#prev = prev;
    this.#next = next;
  }

  push(e: E): void {
    e[this.#prev] = this.tail;
    e[this.#next] = undefined;
    if (this.tail) this.tail[this.#next] = e;
    else this.head = e;
    this.tail = e;
  }

  unlink(e: E): void {
    const prev = e[this.#prev] as E | undefined;
    const next = e[this.#next] as E | undefined;
    if (prev) prev[this.#next] = next;
    else this.head = next;
    if (next) next[this.#prev] = prev;
    else this.tail = prev;
    e[this.#prev] = undefined;
    e[this.#next] = undefined;
  }
}

/**
 * The sessions of one listener, keyed by client address and port.
 *
 * @example
 * ```ts
 * const table = new SessionTable({ maxSessions: 2, sessionTimeoutMs: 30_000, replyTimeoutMs: 0 });
 * const a = table.add(new SessionEntry("192.0.2.1", 5000), 0);
 * table.touch(a, 10_000);
 * table.nextExpired(40_000) === a; // idle for 30 s
 * ```
 */
export class SessionTable<E extends SessionEntry> {
  #limits: SessionLimits;
  readonly #byAddress = new Map<string, Map<number, E>>();
  readonly #active = new Chain<E>(PREV, NEXT);
  readonly #waiting = new Chain<E>(WAIT_PREV, WAIT_NEXT);
  #size = 0;

  constructor(limits: SessionLimits) {
    this.#limits = checked(limits);
  }

  /** Sessions in the table. */
  get size(): number {
    return this.#size;
  }

  /** The limits in force. */
  get limits(): SessionLimits {
    return this.#limits;
  }

  /** Whether a new session needs an old one evicted first. */
  get full(): boolean {
    return this.#size >= this.#limits.maxSessions;
  }

  /** Applies new limits; a lower `maxSessions` leaves the surplus to {@linkcode SessionTable.oldest}. */
  setLimits(limits: SessionLimits): void {
    this.#limits = checked(limits);
  }

  /** The session of a client, if it has one. Allocates nothing. */
  find(address: string, port: number): E | undefined {
    return this.#byAddress.get(address)?.get(port);
  }

  /**
   * Adds a session, active at `now`.
   *
   * @throws {RangeError} when the table is full or the client has a session already
   */
  add(entry: E, now: number): E {
    if (this.full) throw new RangeError("the session table is full: evict the oldest first");
    let ports = this.#byAddress.get(entry.address);
    if (ports?.has(entry.port) || entry[IN_TABLE]) {
      throw new RangeError(`${entry.address}:${entry.port} has a session already`);
    }
    if (!ports) this.#byAddress.set(entry.address, ports = new Map());
    ports.set(entry.port, entry);
    entry[IN_TABLE] = true;
    entry.lastActive = now;
    this.#active.push(entry);
    this.#size++;
    return entry;
  }

  /** Marks a session active at `now`: it becomes the last to expire or be evicted. */
  touch(entry: E, now: number): void {
    entry.lastActive = now;
    if (entry[IN_TABLE] && this.#active.tail !== entry) {
      this.#active.unlink(entry);
      this.#active.push(entry);
    }
  }

  /**
   * Notes that a datagram went to the backend at `now`: a session whose
   * backend has not answered yet starts waiting, unless it waits already.
   * Returns whether it started now (its deadline may be the next one due).
   */
  awaitReply(entry: E, now: number): boolean {
    if (entry.replied || entry[WAITING] || !entry[IN_TABLE]) return false;
    entry[WAITING] = true;
    entry.waitingSince = now;
    this.#waiting.push(entry);
    return true;
  }

  /** The backend answered: the session waits no more, and will not again until {@linkcode SessionTable.resetReply}. */
  answered(entry: E): void {
    this.#stopWaiting(entry);
    entry.replied = true;
  }

  /** The session changed backend: the next datagram waits for the new one's first reply. */
  resetReply(entry: E): void {
    this.#stopWaiting(entry);
    entry.replied = false;
  }

  /** Takes a session out of the table; returns false when it was not in it. */
  remove(entry: E): boolean {
    if (!entry[IN_TABLE]) return false;
    this.#stopWaiting(entry);
    this.#active.unlink(entry);
    entry[IN_TABLE] = false;
    const ports = this.#byAddress.get(entry.address);
    ports?.delete(entry.port);
    if (ports?.size === 0) this.#byAddress.delete(entry.address);
    this.#size--;
    return true;
  }

  /** The least recently active session: the one to evict. */
  oldest(): E | undefined {
    return this.#active.head;
  }

  /** The least recently active session if it has been idle for the session timeout at `now`. */
  nextExpired(now: number): E | undefined {
    const head = this.#active.head;
    return head && now - head.lastActive >= this.#limits.sessionTimeoutMs ? head : undefined;
  }

  /**
   * The session that has waited longest for a first reply, if it has
   * waited the reply timeout at `now` (never while that is 0). The caller
   * ends the wait ({@linkcode SessionTable.resetReply} or {@linkcode SessionTable.remove}).
   */
  nextOverdue(now: number): E | undefined {
    const head = this.#waiting.head;
    const wait = this.#limits.replyTimeoutMs;
    return head && wait > 0 && now - head.waitingSince >= wait ? head : undefined;
  }

  /** Clock time at which the next session expires or becomes overdue; `undefined` when none will. */
  nextDeadline(): number | undefined {
    const head = this.#active.head;
    let at = head ? head.lastActive + this.#limits.sessionTimeoutMs : Infinity;
    const waiting = this.#waiting.head;
    if (waiting && this.#limits.replyTimeoutMs > 0) {
      at = Math.min(at, waiting.waitingSince + this.#limits.replyTimeoutMs);
    }
    return Number.isFinite(at) ? at : undefined;
  }

  /** Every session, least recently active first (a copy: the caller may remove while it reads). */
  entries(): E[] {
    const out: E[] = [];
    for (let e = this.#active.head; e; e = e[NEXT] as E | undefined) out.push(e);
    return out;
  }

  #stopWaiting(entry: E): void {
    if (!entry[WAITING]) return;
    entry[WAITING] = false;
    entry.waitingSince = NaN;
    this.#waiting.unlink(entry);
  }
}

function checked(limits: SessionLimits): SessionLimits {
  const { maxSessions, sessionTimeoutMs, replyTimeoutMs } = limits;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new RangeError(`maxSessions must be an integer ≥ 1, got ${maxSessions}`);
  }
  if (!(sessionTimeoutMs > 0) || !Number.isFinite(sessionTimeoutMs)) {
    throw new RangeError(`sessionTimeoutMs must be > 0, got ${sessionTimeoutMs}`);
  }
  if (!(replyTimeoutMs >= 0) || !Number.isFinite(replyTimeoutMs)) {
    throw new RangeError(`replyTimeoutMs must be ≥ 0, got ${replyTimeoutMs}`);
  }
  return { maxSessions, sessionTimeoutMs, replyTimeoutMs };
}
