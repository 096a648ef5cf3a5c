/**
 * The terminal driver of the dashboard: alternate screen, hidden cursor,
 * raw keyboard input, a redraw every `tui.refresh_interval` written as one
 * frame, and a terminal put back as it was on every way out (quit key,
 * Ctrl+C, SIGTERM, an error). The drawing itself is `render()`, a pure
 * function of the snapshot.
 *
 * Keys: `q` or Ctrl+C quits (through Aegis's graceful shutdown), `p`
 * pauses redraws, ↑ and ↓ (and Page Up/Down) scroll the event log.
 *
 * @module
 */

import type { HistoryPoint, Snapshot } from "../snapshot/mod.ts";
import { type DashboardView, render } from "./render.ts";

const ESC = "\x1b[";
const ENTER = `${ESC}?1049h${ESC}?25l${ESC}H${ESC}2J`;
const LEAVE = `${ESC}?25h${ESC}?1049l`;

/** A terminal: what the driver reads from and writes to. */
export interface Terminal {
  /** Writes raw bytes. */
  write(text: string): void;
  /** Columns and rows now. */
  size(): { readonly columns: number; readonly rows: number };
  /** Switches raw input on or off. */
  setRaw(on: boolean): void;
  /** Key presses, as raw byte chunks; ends when input closes. */
  keys(): AsyncIterable<Uint8Array>;
}

/** The process's own terminal (standard input and output). */
export function processTerminal(): Terminal {
  const encoder = new TextEncoder();
  return {
    write(text) {
      const bytes = encoder.encode(text);
      let off = 0;
      while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
    },
    size: () => Deno.consoleSize(),
    setRaw: (on) => Deno.stdin.setRaw(on),
    async *keys() {
      const buf = new Uint8Array(64);
      for (;;) {
        const n = await Deno.stdin.read(buf);
        if (n === null) return;
        yield buf.slice(0, n);
      }
    },
  };
}

/** Options for {@linkcode Dashboard}. */
export interface DashboardOptions {
  /** The latest snapshot. */
  readonly snapshot: () => Snapshot;
  /** The recent history for the sparklines; no history line without it. */
  readonly history?: () => readonly HistoryPoint[];
  /** Milliseconds between redraws (`tui.refresh_interval`). */
  readonly refreshMs: number;
  /** Called once when the user asks to quit. */
  readonly onQuit: () => void;
  /** Where to draw; the process terminal by default. */
  readonly terminal?: Terminal;
  /** Colour output (default true). */
  readonly color?: boolean;
}

/** Whether the dashboard should run: enabled in config, not headless, on a terminal both ways. */
export function dashboardWanted(enabled: boolean, headless: boolean): boolean {
  return enabled && !headless && Deno.stdout.isTerminal() && Deno.stdin.isTerminal();
}

/** The running dashboard. */
export class Dashboard implements Disposable {
  readonly #o: DashboardOptions;
  readonly #term: Terminal;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  #paused = false;
  #scroll = 0;
  #previous: Snapshot | undefined;
  #current: Snapshot | undefined;
  #history: readonly HistoryPoint[] | undefined;
  #quitRequested = false;
  readonly #restoreOnExit = () => this.stop();
  readonly #onResize = () => this.#draw(false);

  constructor(options: DashboardOptions) {
    this.#o = options;
    this.#term = options.terminal ?? processTerminal();
  }

  /** Takes over the terminal and starts redrawing. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#term.setRaw(true);
    this.#term.write(ENTER);
    // Whatever ends the process, the terminal comes back.
    globalThis.addEventListener("unload", this.#restoreOnExit);
    globalThis.addEventListener("error", this.#restoreOnExit);
    globalThis.addEventListener("unhandledrejection", this.#restoreOnExit);
    try {
      Deno.addSignalListener("SIGWINCH", this.#onResize);
    } catch {
      // No SIGWINCH on this platform: the next redraw picks up the size.
    }
    this.#draw(true);
    this.#timer = setInterval(() => this.#draw(true), this.#o.refreshMs);
    this.#readKeys();
  }

  /** Puts the terminal back: cursor, main screen, cooked input. Safe to call twice. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#timer);
    globalThis.removeEventListener("unload", this.#restoreOnExit);
    globalThis.removeEventListener("error", this.#restoreOnExit);
    globalThis.removeEventListener("unhandledrejection", this.#restoreOnExit);
    try {
      Deno.removeSignalListener("SIGWINCH", this.#onResize);
    } catch {
      // It was never added.
    }
    this.#term.write(LEAVE);
    try {
      this.#term.setRaw(false);
    } catch {
      // Input already closed.
    }
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  /** The UI state (for tests). */
  get view(): { readonly paused: boolean; readonly eventScroll: number } {
    return { paused: this.#paused, eventScroll: this.#scroll };
  }

  /** Handles one chunk of key input. */
  handleKeys(bytes: Uint8Array): void {
    const text = new TextDecoder().decode(bytes);
    if (text === "q" || text === "Q" || text.includes("\x03")) {
      if (!this.#quitRequested) {
        this.#quitRequested = true;
        this.#o.onQuit();
      }
      return;
    }
    if (text === "p" || text === "P") this.#paused = !this.#paused;
    else if (text === `${ESC}A`) this.#scroll = Math.max(0, this.#scroll - 1);
    else if (text === `${ESC}B`) this.#scroll += 1;
    else if (text === `${ESC}5~`) this.#scroll = Math.max(0, this.#scroll - 10);
    else if (text === `${ESC}6~`) this.#scroll += 10;
    else return;
    this.#draw(false);
  }

  async #readKeys(): Promise<void> {
    try {
      for await (const chunk of this.#term.keys()) {
        if (!this.#running) return;
        this.handleKeys(chunk);
      }
    } catch {
      // Input closed under us: the dashboard keeps drawing until stopped.
    }
  }

  /** Draws one frame: the whole screen in a single write, so it never flickers. */
  #draw(advance: boolean): void {
    if (!this.#running) return;
    if (advance && !this.#paused) {
      const next = this.#o.snapshot();
      if (next !== this.#current) {
        this.#previous = this.#current;
        this.#current = next;
      }
      // Read with the snapshot, so a paused frame keeps the history it had.
      this.#history = this.#o.history?.();
    }
    const snapshot = this.#current ?? this.#o.snapshot();
    const { columns, rows } = this.#term.size();
    const view: DashboardView = {
      paused: this.#paused,
      eventScroll: this.#scroll,
      previous: this.#previous,
      ...(this.#history ? { history: this.#history } : {}),
    };
    const lines = render(
      snapshot,
      { width: columns, height: rows, color: this.#o.color ?? true },
      view,
    );
    // Home, each line then erase-to-end-of-line, then erase below: one write.
    this.#term.write(`${ESC}H${lines.join(`${ESC}K\r\n`)}${ESC}K${ESC}J`);
  }
}
