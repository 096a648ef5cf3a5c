/**
 * The accept loop of a listener: hands every accepted connection on, and
 * when `accept` fails (out of descriptors, mostly) keeps the listener and
 * backs off ({@linkcode AcceptBackoff}), logging at most once per period.
 *
 * @module
 */

import type { Logger } from "../log/mod.ts";
import { AcceptBackoff } from "./accept_backoff.ts";

/** A running accept loop. */
export interface AcceptLoop {
  /** Failed accepts since start. */
  readonly errors: number;
  /** Stops after the current accept; a backoff pause in progress ends at once. */
  stop(): void;
}

/**
 * Accepts from `listener` until it is closed or the loop is stopped.
 *
 * @param describe extra fields for the `accept failed` log line (open connections)
 */
export function startAcceptLoop<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  onConnection: (conn: C) => void,
  logger: Logger,
  describe: () => Record<string, number>,
): AcceptLoop {
  let running = true;
  let errors = 0;
  let pause: { timer: ReturnType<typeof setTimeout>; wake: () => void } | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((wake) => {
      pause = { timer: setTimeout(wake, ms), wake };
    }).finally(() => (pause = undefined));

  (async () => {
    const backoff = new AcceptBackoff();
    while (running) {
      let conn: C;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (!running || e instanceof Deno.errors.BadResource) break;
        // Out of file descriptors and the like: keep the listener, back off.
        errors++;
        const { delayMs, report } = backoff.failed(performance.now());
        if (report) {
          logger.warn("accept failed", {
            error: e instanceof Error ? e.message : String(e),
            failures: report.failures,
            retry_ms: delayMs,
            ...describe(),
          });
        }
        await sleep(delayMs);
        continue;
      }
      backoff.succeeded();
      onConnection(conn);
    }
  })();

  return {
    get errors() {
      return errors;
    },
    stop() {
      running = false;
      if (!pause) return;
      clearTimeout(pause.timer);
      pause.wake();
    },
  };
}
