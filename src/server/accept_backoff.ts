/**
 * What the accept loop does after `accept()` fails. The usual cause is the
 * process being out of descriptors (EMFILE) while connections wait in the
 * kernel's backlog: every retry fails at once, so a fixed short pause spins
 * the CPU and writes a log line per failure, hundreds a second, at the very
 * moment the operator needs the machine and the logs.
 *
 * The policy is Go's `net/http` `Server.Serve`: after a failure wait 5 ms,
 * doubling on each further failure up to 1 s; one success resets it.
 * Failures are logged at most once per period, with how many there were.
 * Pure: it takes `now`, so tests move a clock instead of sleeping.
 *
 * @module
 */

import { ReportGate } from "./report_gate.ts";

/** Options for {@linkcode AcceptBackoff}; every field has a default. */
export interface AcceptBackoffOptions {
  /** The pause after the first failure in a row, in ms (default 5, as Go). */
  readonly initialMs?: number;
  /** The longest pause, in ms (default 1000, as Go). */
  readonly maxMs?: number;
  /** At most one log line per this many ms (default 10 000). */
  readonly reportEveryMs?: number;
}

/** The decision after one failed accept. */
export interface AcceptFailure {
  /** Wait this long before accepting again. */
  readonly delayMs: number;
  /** Set when a log line is due: failures since the previous line, this one included. */
  readonly report?: { readonly failures: number };
}

/**
 * Exponential backoff for a failing accept loop, with a log gate.
 *
 * @example
 * ```ts
 * const backoff = new AcceptBackoff();
 * const { delayMs, report } = backoff.failed(performance.now());
 * if (report) logger.warn("accept failed", { failures: report.failures });
 * await sleep(delayMs);
 * // ... and after the next successful accept:
 * backoff.succeeded();
 * ```
 */
export class AcceptBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #gate: ReportGate;
  #delayMs = 0;

  constructor(options: AcceptBackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 5;
    this.#maxMs = options.maxMs ?? 1000;
    this.#gate = new ReportGate(options.reportEveryMs ?? 10_000);
  }

  /** The pause the last failure asked for; 0 after a success. */
  get delayMs(): number {
    return this.#delayMs;
  }

  /** Records a failed accept at `now` (ms) and says how long to pause. */
  failed(now: number): AcceptFailure {
    // [SECURITY] Backoff: a flood that exhausts descriptors must not also
    // spin the CPU on failing accepts or flood the log.
    this.#delayMs = this.#delayMs === 0
      ? this.#initialMs
      : Math.min(this.#maxMs, this.#delayMs * 2);
    const failures = this.#gate.note(now);
    if (failures === undefined) return { delayMs: this.#delayMs };
    return { delayMs: this.#delayMs, report: { failures } };
  }

  /**
   * Records a successful accept: the next failure pauses `initialMs` again.
   * The log gate is not reset, so alternating failures and successes still
   * log at most once per period.
   */
  succeeded(): void {
    this.#delayMs = 0;
  }
}
