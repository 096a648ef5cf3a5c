/**
 * Peak resident memory of a process and its children (nginx's worker) during
 * one measured run.
 *
 * Deno needs `--allow-all` to touch `/proc` itself, so this goes through
 * `sh` and `cat`. Where the kernel allows it (Linux ≥ 4.0, same user or
 * root), the high-water mark is reset at the start (`echo 5 >
 * /proc/PID/clear_refs`) and `VmHWM` read at the end: an exact peak at no
 * cost during the run. Otherwise `VmRSS` is sampled every 200 ms, which can
 * miss short spikes.
 *
 * @module
 */

import { processTree, run } from "./_procs.ts";

/** A running measurement; {@linkcode RssProbe.stop} returns the peak in KiB. */
export interface RssProbe {
  /** How the peak is measured: `hwm` (exact) or `sampled`. */
  readonly mode: "hwm" | "sampled";
  /** Ends the measurement; resolves with the peak RSS in KiB (summed over the processes). */
  stop(): Promise<number>;
}

/** Reads `field` (`VmRSS`, `VmHWM`) of each pid from /proc and sums it, in KiB. */
async function readField(pids: number[], field: string): Promise<number> {
  const out = await run("cat", pids.map((p) => `/proc/${p}/status`));
  let total = 0;
  for (const m of (out?.stdout ?? "").matchAll(new RegExp(`^${field}:\\s+(\\d+) kB`, "gm"))) {
    total += Number(m[1]);
  }
  return total;
}

/**
 * Starts measuring the peak RSS of `pid` and its direct children.
 *
 * @example
 * ```ts
 * const probe = await startRssProbe(child.pid);
 * await runLoad();
 * const peakKiB = await probe.stop();
 * ```
 */
export async function startRssProbe(pid: number): Promise<RssProbe> {
  const pids = await processTree(pid);
  const reset = await run("sh", [
    "-c",
    'for p in "$@"; do echo 5 > "/proc/$p/clear_refs" || exit 1; done',
    "sh",
    ...pids.map(String),
  ]);
  if (reset?.code === 0) {
    return { mode: "hwm", stop: () => readField(pids, "VmHWM") };
  }
  let peak = await readField(pids, "VmRSS");
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 200));
      peak = Math.max(peak, await readField(pids, "VmRSS"));
    }
  })();
  return {
    mode: "sampled",
    async stop() {
      stopped = true;
      await loop;
      return Math.max(peak, await readField(pids, "VmRSS"));
    },
  };
}

/** The resident memory of `pid` and its direct children now, in KiB. */
export async function currentRssKiB(pid: number): Promise<number> {
  return await readField(await processTree(pid), "VmRSS");
}
