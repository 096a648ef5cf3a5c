/**
 * The runtime in force: what one configuration derives (pools, listeners'
 * routes, limiters and handlers, loops), held in one place so that a reload
 * swaps it whole and the lifecycle stops whichever one runs at stop.
 * Requests reach it through {@linkcode CurrentRuntime.handlerFor}, one
 * indirection per listener, so a swap changes what answers without
 * touching any socket; requests in flight finish on the runtime they
 * started on.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import { errorResponse, ProxyError, type ProxyHandler } from "../core/mod.ts";
import type { Runtime } from "../runtime/mod.ts";
import type { Snapshot } from "../snapshot/mod.ts";

/** Builds a runtime from a configuration; with `previous`, carries its live state over. */
export type BuildRuntime = (config: Config, previous?: Runtime) => Runtime;

/** Thrown by {@linkcode CurrentRuntime.replace} once stopped: a new runtime's loops would leak. */
export class RuntimeStoppedError extends Error {
  override readonly name = "RuntimeStoppedError";
  constructor() {
    super("the runtime was stopped: nothing can replace it");
  }
}

/**
 * The runtime in force, and the swap a reload makes.
 *
 * @example
 * ```ts
 * const current = new CurrentRuntime(config, (c, prev) => buildRuntime(c, shared, prev));
 * startServer({ handler: current.handlerFor("web"), ... });
 * current.start(() => snapshots.tick()); // loops run
 * current.replace(nextConfig);           // build new → start → swap → stop old
 * await current[Symbol.asyncDispose]();  // loops stopped
 * ```
 */
export class CurrentRuntime implements AsyncDisposable {
  readonly #build: BuildRuntime;
  #runtime: Runtime;
  #snapshot: (() => Snapshot) | undefined;
  #stopped = false;
  /** Replaced runtimes still closing (shared store connections): awaited at stop. */
  readonly #retiring = new Set<Promise<void>>();

  /** Builds the first runtime from `config`; its loops wait for {@linkcode start}. */
  constructor(config: Config, build: BuildRuntime) {
    this.#build = build;
    this.#runtime = build(config);
  }

  /** The runtime in force. */
  get runtime(): Runtime {
    return this.#runtime;
  }

  /** The configuration in force. */
  get config(): Config {
    return this.#runtime.config;
  }

  /**
   * The handler of the listener `name`: answers with whichever runtime is in
   * force when a request arrives. A listener a reload removed keeps
   * answering, while its socket drains, with the last runtime that had it.
   */
  handlerFor(name: string): ProxyHandler {
    let last = this.#runtime.listeners.get(name);
    return (request, client) => {
      const listener = this.#runtime.listeners.get(name) ?? last;
      // Unreachable: a socket is opened only for a listener the runtime has.
      if (!listener) {
        return Promise.resolve(errorResponse(new ProxyError("internal", `no listener ${name}`)));
      }
      last = listener;
      return listener.handler(request, client);
    };
  }

  /**
   * Starts the loops (health checks, adaptive rate, bucket purging);
   * `snapshot` builds the fresh snapshot the adaptive loop reads, for this
   * runtime and every one that replaces it.
   */
  start(snapshot: () => Snapshot): this {
    if (this.#stopped) throw new RuntimeStoppedError();
    this.#snapshot = snapshot;
    this.#runtime.start(snapshot);
    return this;
  }

  /**
   * Builds a runtime from `next` and the one in force (backends that stay
   * keep their state), starts its loops if the current one's run, swaps it
   * in and stops the old one's loops.
   *
   * @throws {RuntimeStoppedError} once disposed
   */
  replace(next: Config): void {
    if (this.#stopped) throw new RuntimeStoppedError();
    const old = this.#runtime;
    const fresh = this.#build(next, old);
    if (this.#snapshot) fresh.start(this.#snapshot);
    this.#runtime = fresh;
    old.stop(fresh);
    const retiring = old.stopped.finally(() => this.#retiring.delete(retiring));
    this.#retiring.add(retiring);
  }

  /**
   * Stops the loops of the runtime in force and waits for them, and for
   * replaced runtimes still closing; no replace after this.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopped = true;
    this.#runtime.stop();
    await Promise.all([this.#runtime.stopped, ...this.#retiring]);
  }
}
