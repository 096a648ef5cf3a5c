/**
 * What happens during the stress run, and when: each phase starts once a
 * given share of the main requests has been sent.
 *
 * @module
 */

import type { StressBackend } from "./_backends.ts";

/** What phases act on. */
export interface Stage {
  /** `a`, `b`, `d`: `Deno.serve` backends; `c`: the raw one that can drop connections. */
  readonly backends: {
    readonly a: StressBackend;
    readonly b: StressBackend;
    readonly c: StressBackend;
    readonly d: StressBackend;
  };
  /**
   * Rewrites the configuration file with `pool` (`[url, weight]`), reloads
   * through `POST /reload`, and checks that exactly `expect` changed.
   */
  reload(
    pool: ReadonlyArray<readonly [string, number]>,
    expect: { readonly added: readonly string[]; readonly removed: readonly string[] },
  ): Promise<void>;
}

/** One step of the scenario. */
export interface Phase {
  /** Share of the main requests sent before it starts, 0–1. */
  readonly at: number;
  readonly what: string;
  run(): void | Promise<void>;
}

/**
 * The scenario. The pool starts as a, b, c at weight 1. Failures overlap, so
 * that for a while only one backend answers well, and each reload happens
 * while the backend it removes is hanging with requests in flight.
 */
export function phases(stage: Stage): Phase[] {
  const { a, b, c, d } = stage.backends;
  return [
    { at: 0.1, what: "a answers 500 (its /health too)", run: () => void (a.mode = "fail") },
    { at: 0.2, what: "b hangs (its /health too)", run: () => void (b.mode = "hang") },
    {
      at: 0.3,
      what: "reload: a to weight 3, b removed while hanging, d added",
      run: () =>
        stage.reload([[a.url, 3], [c.url, 1], [d.url, 1]], {
          added: [`default ${d.url}`],
          removed: [`default ${b.url}`],
        }),
    },
    { at: 0.4, what: "a recovers", run: () => void (a.mode = "ok") },
    {
      at: 0.45,
      what: "c drops connections: before answering, or in the middle of a streamed body",
      run: () => void (c.mode = "drop"),
    },
    { at: 0.55, what: "b recovers (outside the pool)", run: () => void (b.mode = "ok") },
    { at: 0.6, what: "d hangs", run: () => void (d.mode = "hang") },
    { at: 0.65, what: "c recovers", run: () => void (c.mode = "ok") },
    {
      at: 0.7,
      what: "reload: b back at weight 2, d removed while hanging, a to weight 1",
      run: () =>
        stage.reload([[a.url, 1], [b.url, 2], [c.url, 1]], {
          added: [`default ${b.url}`],
          removed: [`default ${d.url}`],
        }),
    },
    {
      at: 0.9,
      what: "backends answer after 20–300 ms, so the drain finds requests in flight",
      run() {},
    },
  ];
}
