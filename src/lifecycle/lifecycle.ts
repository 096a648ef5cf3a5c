/**
 * Ordered start, one disposal stack for stop. Each long-lived part is
 * started through {@linkcode Lifecycle.start} and lands on one
 * `AsyncDisposableStack`, so stopping disposes the parts in reverse order
 * of start, each exactly once, and a part that fails to start undoes every
 * part started before it: no hand-written cleanup per failure point.
 *
 * The order of start is therefore the order of stop, reversed: a part that
 * must outlive another (the admin API outliving the drain of the public
 * listener, the transport outliving the loops that use it) starts before it.
 *
 * @module
 */

/** Options for {@linkcode Lifecycle}. */
export interface LifecycleOptions {
  /**
   * Told when undoing a failed start itself fails. Nobody awaits that undo
   * (the start already threw), so this is the only place it can surface.
   */
  readonly onUndoError?: (error: unknown) => void;
}

/** Thrown by {@linkcode Lifecycle.start} once stopping began: nothing would dispose the part. */
export class LifecycleStoppedError extends Error {
  override readonly name = "LifecycleStoppedError";
  constructor() {
    super("stopping: no part can start any more");
  }
}

/**
 * The parts of one running whole, started in order and stopped in reverse.
 *
 * @example
 * ```ts
 * const life = new Lifecycle();
 * const watchdog = life.start(() => new Watchdog({ clock, tickMs: 100 }));
 * // Should this bind fail, the watchdog is disposed and the error rethrown.
 * const server = life.start(() => openListener({ ... }));
 * life.defer(() => root.abort());
 * await life.stop(); // root aborted, server closed, watchdog disposed
 * ```
 */
export class Lifecycle implements AsyncDisposable {
  readonly #stack = new AsyncDisposableStack();
  readonly #onUndoError: (error: unknown) => void;
  #stopping: Promise<void> | undefined;

  constructor(options: LifecycleOptions = {}) {
    this.#onUndoError = options.onUndoError ?? (() => {});
  }

  /** True once {@linkcode stop} was called (or a start failed). */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /**
   * Starts a part: calls `open` and keeps what it returns for disposal. If
   * `open` throws, every part started before is disposed, in reverse order
   * and without waiting (the caller is synchronous): parts that dispose
   * synchronously are gone before the event loop turns again. The error is
   * rethrown as it was.
   *
   * @throws whatever `open` throws; {@linkcode LifecycleStoppedError} once stopping
   */
  start<T extends Disposable | AsyncDisposable>(open: () => T): T {
    // Checked before `open`, which may already hold a socket by the time
    // the stack would refuse it.
    if (this.#stopping) throw new LifecycleStoppedError();
    let part: T;
    try {
      part = open();
    } catch (e) {
      this.stop().catch(this.#onUndoError);
      throw e;
    }
    this.#stack.use(part);
    return part;
  }

  /**
   * Registers a step for stop that is not a part's own disposal (abort a
   * signal, drain the listeners), run where a part started now would be
   * disposed.
   *
   * @throws {LifecycleStoppedError} once stopping
   */
  defer(onStop: () => void | PromiseLike<void>): void {
    if (this.#stopping) throw new LifecycleStoppedError();
    this.#stack.defer(onStop);
  }

  /**
   * Disposes every part and runs every deferred step, in reverse order of
   * registration, once: later calls return the same promise. A step that
   * fails does not stop the others; the promise then rejects with its error
   * (a `SuppressedError` chain when several failed).
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stack.disposeAsync();
    return this.#stopping;
  }

  /** Same as {@linkcode stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
