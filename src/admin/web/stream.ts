/**
 * The web dashboard's live feed: a Server-Sent Events stream (HTML Living
 * Standard, "Server-sent events") of snapshot views.
 *
 * - On connect: `retry:` (how long the page waits before reconnecting), then
 *   `event: hello` with the refresh interval, the whole 15-minute history
 *   and a first frame, so a page that (re)connects draws everything at once.
 * - Then every `tui.refresh_interval`: `event: frame` with a fresh frame and
 *   the newest history point (the page skips one it already has).
 *
 * A frame is `{time, status}`: the snapshot's time (rates need two of them)
 * and `GET /status`'s view of it, so the page reads the same snake_case
 * keys the API documents; the running configuration is left out (it is in
 * `/status`, and it does not change from one frame to the next).
 *
 * The stream is pulled: the next frame is built only once the connection
 * has taken the previous one, so a client that reads slowly gets fewer
 * frames, never a growing queue. Each frame is also the heartbeat: the
 * refresh interval is at most a minute.
 *
 * A stream ends when `closed` aborts (the admin listener is about to close,
 * or the client went away) or when the connection cancels it; its timer is
 * cleared either way. At most {@linkcode MAX_DASHBOARD_STREAMS} are open at
 * once, so dashboards left open cannot take every admin connection.
 *
 * @module
 */

import type { HistoryPoint } from "../../snapshot/mod.ts";
import { historyPointView, type StatusView } from "../views.ts";

/**
 * Most streams open at once on one admin listener: a quarter of its 64
 * connections (`ADMIN_MAX_CONNECTIONS`), so health checks, scrapes, reloads
 * and the pages' own requests always find one.
 */
export const MAX_DASHBOARD_STREAMS = 16;

/** How long a page waits before reconnecting (ms), sent as the stream's `retry:`. */
export const STREAM_RETRY_MS = 2000;

/** One view of a snapshot, as the stream sends it. */
export interface DashboardFrame {
  /** The snapshot's time, in epoch milliseconds. */
  readonly time: number;
  /** `GET /status`'s view of it, without `config`. */
  readonly status: Omit<StatusView, "config">;
}

/** What a stream reads each time it sends. */
export interface StreamSource {
  /** A frame of a fresh snapshot. */
  frame(): DashboardFrame;
  /** The history, oldest first. */
  history(): readonly HistoryPoint[];
  /** Milliseconds between frames (`tui.refresh_interval`, read again for each frame). */
  refreshMs(): number;
}

/** One Server-Sent Events message: a named event with one line of JSON. */
function message(event: string, data: unknown): string {
  // JSON.stringify escapes line breaks inside strings, so the data is one line.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The open streams of one admin listener, counted against {@linkcode MAX_DASHBOARD_STREAMS}. */
export class DashboardStreams {
  readonly #max: number;
  #open = 0;

  constructor(max = MAX_DASHBOARD_STREAMS) {
    this.#max = max;
  }

  /** Streams open now. */
  get open(): number {
    return this.#open;
  }

  /**
   * Opens a stream of `source` until `closed` aborts or the reader cancels;
   * `undefined` when the cap is reached. Once `closed` aborted, the stream
   * ends at once (a page reconnects, and finds the next Aegis).
   */
  stream(source: StreamSource, closed: AbortSignal): ReadableStream<Uint8Array> | undefined {
    if (closed.aborted) return new ReadableStream({ start: (c) => c.close() });
    // [SECURITY] Admin connection exhaustion: dashboards left open, or a
    // client opening streams in a loop, take at most a quarter of the admin
    // listener's connections; the rest answer health checks and reloads.
    if (this.#open >= this.#max) return undefined;
    this.#open++;
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.#open--;
      clearTimeout(timer);
      closed.removeEventListener("abort", onClosed);
      wake?.();
    };
    const onClosed = () => {
      end();
      controller.close();
    };
    const send = (event: string, data: () => unknown, prefix = "") => {
      try {
        controller.enqueue(encoder.encode(prefix + message(event, data())));
      } catch (e) {
        // A view that cannot be built ends this stream (the page reconnects), not the process.
        end();
        controller.error(e);
      }
    };
    return new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        closed.addEventListener("abort", onClosed, { once: true });
        send("hello", () => ({
          refresh_ms: source.refreshMs(),
          ...source.frame(),
          history: source.history().map(historyPointView),
        }), `retry: ${STREAM_RETRY_MS}\n`);
      },
      pull: () =>
        new Promise<void>((resolve) => {
          if (ended) return resolve();
          wake = resolve;
          timer = setTimeout(() => {
            wake = undefined;
            send("frame", () => {
              const newest = source.history().at(-1);
              return { ...source.frame(), point: newest ? historyPointView(newest) : null };
            });
            resolve();
          }, source.refreshMs());
        }),
      cancel: end,
    });
  }
}
