/**
 * Timers a piece of code leaves pending. Deno's test sanitizers do not
 * report them (on Deno 2.9.6, verified: a `setTimeout` still pending when a
 * test ends goes unreported), so tests that must prove a stop or a failed
 * start leaves no timer wrap the global timer functions with
 * {@linkcode TimerTracker} for the length of the check.
 *
 * @module
 */

type TimerFn = (handler: () => void, ms?: number, ...args: unknown[]) => unknown;
type ClearFn = (id?: unknown) => void;

/**
 * Tracks every timer and interval started while it is in place, with where
 * it was started, until it fires (timers) or is cleared. Dispose to restore
 * the real functions.
 */
export class TimerTracker implements Disposable {
  readonly #pending = new Map<number, Error>();
  readonly #saved: Array<[string, unknown]> = [];

  constructor() {
    const g = globalThis as unknown as Record<string, unknown>;
    const realSetTimeout = g.setTimeout as TimerFn;
    const realSetInterval = g.setInterval as TimerFn;
    const realClearTimeout = g.clearTimeout as ClearFn;
    const realClearInterval = g.clearInterval as ClearFn;
    for (const name of ["setTimeout", "setInterval", "clearTimeout", "clearInterval"]) {
      this.#saved.push([name, g[name]]);
    }
    const pending = this.#pending;
    g.setTimeout = (handler: () => void, ms?: number, ...args: unknown[]) => {
      const site = new Error("timer started here");
      const id = realSetTimeout(
        () => {
          pending.delete(key);
          handler();
        },
        ms,
        ...args,
      );
      // Deno returns a Timeout object that converts to its numeric id, which
      // is also what clearTimeout may be handed.
      const key = Number(id);
      pending.set(key, site);
      return id;
    };
    g.setInterval = (handler: () => void, ms?: number, ...args: unknown[]) => {
      const id = realSetInterval(handler, ms, ...args);
      pending.set(Number(id), new Error("interval started here"));
      return id;
    };
    g.clearTimeout = (id?: unknown) => {
      pending.delete(Number(id));
      realClearTimeout(id);
    };
    g.clearInterval = (id?: unknown) => {
      pending.delete(Number(id));
      realClearInterval(id);
    };
  }

  /** Timers and intervals not yet fired or cleared. */
  get count(): number {
    return this.#pending.size;
  }

  /**
   * Where each pending timer was started: the first stack frame outside this
   * file, with a count when several share it.
   */
  sites(): string[] {
    const by = new Map<string, number>();
    for (const site of this.#pending.values()) {
      const frames = (site.stack ?? "").split("\n").slice(1).map((l) => l.trim());
      const frame = frames.find((f) => !f.includes("_helpers/timers.ts")) ?? "(unknown)";
      by.set(frame, (by.get(frame) ?? 0) + 1);
    }
    return [...by].map(([frame, n]) => (n > 1 ? `${n}× ${frame}` : frame));
  }

  [Symbol.dispose](): void {
    const g = globalThis as unknown as Record<string, unknown>;
    for (const [name, fn] of this.#saved) g[name] = fn;
  }
}
