/**
 * The configured listeners, by name: opened in order at start, changed live
 * by a reload, drained together at stop and by `POST /drain`.
 *
 * A reload changes them in two steps, so that a failure changes nothing:
 * {@linkcode ListenerSet.stage} binds every listener the plan opens or
 * moves (all or none: one that cannot bind closes the others again), then,
 * once the new runtime is in force, {@linkcode ListenerSet.commit} puts
 * them in service and drains the sockets they replace or the plan closes.
 * A moved listener's new socket is therefore bound before its old one
 * closes, and requests in flight on the old one finish.
 *
 * @module
 */

import type { Config, ListenerConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { ConnectionLimits } from "../server/mod.ts";
import type { Listener } from "./listener.ts";

/** Binds one listener with its limits; throws (tagged with its name) when it cannot. */
export type OpenListener = (config: ListenerConfig, limits: ConnectionLimits) => Listener;

/** What a reload does to the listeners (see `reload/plan.ts`). */
export interface ListenerMoves {
  readonly opened: readonly string[];
  readonly closed: readonly string[];
  readonly moved: readonly string[];
}

/** Sockets a reload bound, not yet in service. */
export interface StagedListeners {
  /** The new sockets, by listener name. */
  readonly bound: ReadonlyMap<string, Listener>;
}

/** Options for {@linkcode ListenerSet}. */
export interface ListenerSetOptions {
  /** Binds a listener. */
  readonly open: OpenListener;
  /** Where closing listeners are logged. */
  readonly logger: Logger;
}

/** Every configured listener's socket, and those still draining after a reload. */
export class ListenerSet implements AsyncDisposable {
  readonly #open: OpenListener;
  readonly #logger: Logger;
  #live: Map<string, Listener> = new Map();
  readonly #closing = new Set<Listener>();
  #draining = false;

  /**
   * Opens every listener of `config`, in order. One that cannot bind
   * closes those opened before it, and its error is rethrown.
   *
   * @throws the bind error, tagged with the listener's name
   */
  constructor(
    config: Config,
    limits: ReadonlyMap<string, ConnectionLimits>,
    options: ListenerSetOptions,
  ) {
    this.#open = options.open;
    this.#logger = options.logger;
    this.#live = this.#bindAll(config.listeners, limits);
  }

  /** Binds `configs` in order, all or none. */
  #bindAll(
    configs: readonly ListenerConfig[],
    limits: ReadonlyMap<string, ConnectionLimits>,
  ): Map<string, Listener> {
    const bound = new Map<string, Listener>();
    try {
      for (const config of configs) {
        bound.set(config.name, this.#open(config, limits.get(config.name)!));
      }
    } catch (e) {
      // The sockets close at once (the rest of their shutdown has nothing to wait for).
      for (const listener of bound.values()) listener[Symbol.asyncDispose]().catch(() => {});
      throw e;
    }
    return bound;
  }

  /** Settles when every listener in service is bound (udp ones bind asynchronously). */
  get ready(): Promise<void> {
    return Promise.all(this.live.map((l) => l.ready)).then(() => {});
  }

  /** The listener `name` in service, if any. */
  get(name: string): Listener | undefined {
    return this.#live.get(name);
  }

  /** The listeners in service, in configuration order. */
  get live(): readonly Listener[] {
    return [...this.#live.values()];
  }

  /** Every socket: those in service, then those draining after a reload. */
  get sockets(): readonly Listener[] {
    return this.#all();
  }

  /**
   * Every socket of the listener `name`: the one in service, and one still
   * draining after a reload moved it.
   */
  socketsOf(name: string): Listener[] {
    return this.#all().filter((l) => l.name === name);
  }

  /** True once a drain or stop began: no listener opens any more. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Client connections open, on every socket (draining ones included). */
  get connections(): number {
    return this.#all().reduce((n, l) => n + l.server.connections, 0);
  }

  /** Requests in progress, on every socket. */
  get requestsInFlight(): number {
    return this.#all().reduce((n, l) => n + l.server.requestsInFlight, 0);
  }

  /** Every socket: in service, then draining after a reload. */
  #all(): Listener[] {
    return [...this.#live.values(), ...this.#closing];
  }

  /**
   * Binds every listener `moves` opens or moves, with `next`'s settings.
   * Nothing is in service yet; on failure nothing was changed.
   *
   * @throws the first bind error, tagged with the listener's name
   */
  stage(
    moves: ListenerMoves,
    next: Config,
    limits: ReadonlyMap<string, ConnectionLimits>,
  ): StagedListeners {
    const wanted = new Set([...moves.opened, ...moves.moved]);
    return { bound: this.#bindAll(next.listeners.filter((l) => wanted.has(l.name)), limits) };
  }

  /** Closes what {@linkcode stage} bound, for a reload that did not go ahead. */
  unstage(staged: StagedListeners): void {
    for (const listener of staged.bound.values()) listener[Symbol.asyncDispose]().catch(() => {});
  }

  /**
   * Puts the staged sockets in service and drains those they replace and
   * those `moves` closes, each with `graceMs` for its requests in flight.
   * The listeners in service follow `next`'s order.
   */
  commit(moves: ListenerMoves, staged: StagedListeners, next: Config, graceMs: number): void {
    const leaving = [...moves.closed, ...moves.moved].map((name) => this.#live.get(name)!);
    this.#live = new Map(
      next.listeners.map((l) => [l.name, staged.bound.get(l.name) ?? this.#live.get(l.name)!]),
    );
    for (const old of leaving) {
      this.#closing.add(old);
      this.#logger.info("listener closing: requests in progress finish", {
        listener: old.name,
        address: old.url,
        connections: old.server.connections,
      });
      old.drain(graceMs).then(() => {
        this.#closing.delete(old);
        this.#logger.info("listener closed", { listener: old.name, address: old.url });
      });
    }
  }

  /**
   * Stops every socket accepting and lets requests in progress finish for
   * up to `graceMs` (`Infinity`: as long as they take); resolves when every
   * connection is closed.
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    await Promise.all(this.#all().map((l) => l.drain(graceMs)));
  }

  /** Closes every socket (after a drain, there is nothing left to wait for). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#draining = true;
    await Promise.all(this.#all().map((l) => l[Symbol.asyncDispose]()));
  }
}
