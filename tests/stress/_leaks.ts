/**
 * What a run may leave behind, measured: timers, sockets, heap.
 *
 * Deno's test sanitizers stay on, but they do not see everything: they track
 * resources and ops, yet (on Deno 2.9.6, verified) a `setTimeout` still
 * pending when a test ends goes unreported, and sockets inside `Deno.serve`
 * or a `fetch` client are not resources. So timers are tracked by wrapping
 * the global timer functions for the length of the run
 * (`tests/_helpers/timers.ts`), sockets are
 * counted in `/proc/<pid>/fd`, and the heap is read after a forced full GC.
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";

export { TimerTracker } from "../_helpers/timers.ts";

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
