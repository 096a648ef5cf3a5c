/**
 * Bounded client load for integration tests: a few concurrent loops of GET
 * requests, recording who answered what.
 *
 * @module
 */

/** One finished request. */
export interface LoadResult {
  /** HTTP status, or 0 when the request failed at the client. */
  readonly status: number;
  /** The `x-backend` header of the answer, `-` when absent. */
  readonly backend: string;
  /** Milliseconds from send to end of body. */
  readonly ms: number;
  /** When it was sent (`performance.now()`). */
  readonly sentAt: number;
}

/** A running load. */
export interface Load {
  /** Every result so far, in completion order. */
  readonly results: LoadResult[];
  /** Stops sending and resolves when every loop has finished. */
  stop(): Promise<void>;
}

/** Starts `concurrency` loops sending `GET url` until stopped. */
export function startLoad(url: string, concurrency = 4): Load {
  const results: LoadResult[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        results.push({
          status: res.status,
          backend: res.headers.get("x-backend") ?? "-",
          ms: performance.now() - started,
          sentAt: started,
        });
      } catch {
        results.push({ status: 0, backend: "-", ms: performance.now() - started, sentAt: started });
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Counts results by backend name. */
export function shares(results: readonly LoadResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[r.backend] = (out[r.backend] ?? 0) + 1;
  return out;
}

/** Waits until `check()` is (or resolves) true, polling every 10 ms, or fails after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
