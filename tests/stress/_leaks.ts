/**
 * What a run may leave behind, measured: timers, sockets, heap.
 *
 * Deno's test sanitizers stay on, but they do not see everything: they track
 * resources and ops, yet (on Deno 2.9.6, verified) a `setTimeout` still
 * pending when a test ends goes unreported, and sockets inside `Deno.serve`
 * or a `fetch` client are not resources. So timers are tracked here by
 * wrapping the global timer functions for the length of the run, sockets are
 * counted in `/proc/<pid>/fd`, and the heap is read after a forced full GC.
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";

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
      const frame = frames.find((f) => !f.includes("_leaks.ts")) ?? "(unknown)";
      by.set(frame, (by.get(frame) ?? 0) + 1);
    }
    return [...by].map(([frame, n]) => (n > 1 ? `${n}× ${frame}` : frame));
  }

  [Symbol.dispose](): void {
    const g = globalThis as unknown as Record<string, unknown>;
    for (const [name, fn] of this.#saved) g[name] = fn;
  }
}

/**
 * Sockets this process holds open, counted in `/proc/<pid>/fd`; `undefined`
 * where that cannot be read (not Linux). Listed through `ls` because Deno
 * lets only a fully privileged process read /proc itself.
 */
export async function openSockets(): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("ls", {
      args: ["-l", `/proc/${Deno.pid}/fd`],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.includes("socket:"))
      .length;
  } catch {
    return undefined;
  }
}

/** A forced full garbage collection, and how it was obtained. */
interface Gc {
  readonly run: () => void;
  readonly how: "--expose-gc" | "v8.setFlagsFromString" | "none";
}

let gc: Gc | undefined;

function findGc(): Gc {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return { run: () => exposed(), how: "--expose-gc" };
  try {
    // Without --expose-gc on the command line (the plain test task), V8 can
    // still be asked for it: the flag applies to contexts made afterwards.
    v8.setFlagsFromString("--expose-gc");
    const fn = vm.runInNewContext("gc");
    if (typeof fn === "function") return { run: () => fn(), how: "v8.setFlagsFromString" };
  } catch {
    // Not available on this runtime.
  }
  return { run: () => {}, how: "none" };
}

/** Memory at one moment, after a full GC when one can be forced. */
export interface MemoryReading {
  readonly heapUsed: number;
  readonly rss: number;
  /** How the GC was forced; `none` means `heapUsed` includes garbage. */
  readonly gc: Gc["how"];
}

/**
 * Forces full GCs (a few, with a turn of the event loop between them, so
 * that memory freed by finalizers is collected too), then reads memory.
 */
export async function settledMemory(): Promise<MemoryReading> {
  gc ??= findGc();
  for (let i = 0; i < 3; i++) {
    gc.run();
    await new Promise((r) => setTimeout(r, 0));
  }
  const m = Deno.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, gc: gc.how };
}

/** Bytes as MiB with one decimal, for reports. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
