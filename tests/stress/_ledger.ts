/**
 * Aegis's log as a ledger: a {@linkcode Logger} that keeps, per request,
 * what Aegis said about it (its access line, failed tries, retries, broken
 * bodies) in compact arrays instead of holding every line, so a run of tens
 * of thousands of requests does not skew the memory it measures.
 *
 * The log is written by other code paths than the counters, so comparing
 * the two (and both with what the clients saw) catches a count that drifts.
 *
 * @module
 */

import type { Fields, Level, Logger } from "../../src/log/mod.ts";
import { indexOfRequestId } from "./_protocol.ts";

/** Access-line `backend` when Aegis answered without trying a backend. */
export const NO_BACKEND = -1;
/** Access-line `backend` naming a URL that is not one of the run's backends. */
export const UNKNOWN_BACKEND = -2;

/** Per-request facts from Aegis's log. */
export class LogLedger implements Logger {
  readonly level: Level = "info";
  /** Access lines per request (must end as exactly 1). */
  readonly lines: Uint8Array;
  /** The status each access line gave. */
  readonly status: Uint16Array;
  /** The backend each access line named (the last one tried), as an index. */
  readonly backend: Int8Array;
  /** `reason` of access lines that have one. */
  readonly reason: Map<number, string> = new Map();
  /** `outcome` of access lines whose body did not complete. */
  readonly outcome: Map<number, string> = new Map();
  /** Backends whose try failed before any response ("backend request failed"), per request. */
  readonly forwardFailures: Map<number, number[]> = new Map();
  /** Backends a request was retried away from ("retrying on another backend"). */
  readonly retries: Map<number, number[]> = new Map();
  /**
   * Requests whose backend answered but whose answer was turned into Aegis's
   * own 502/504: a small body that broke while being read, or an unusable status.
   */
  readonly relayFailures: Set<number> = new Set();
  /** Access lines for request ids that are not the run's (late requests must have none). */
  readonly foreign: string[] = [];
  /** Every other line, counted by `level msg`. */
  readonly messages: Map<string, number> = new Map();
  /** Error-level lines, in full (a healthy run has none). */
  readonly errors: string[] = [];
  readonly #backendIndex: ReadonlyMap<string, number>;

  /**
   * @param requests how many requests the run sends
   * @param backendUrls every backend URL the run uses, in index order
   */
  constructor(requests: number, backendUrls: readonly string[]) {
    this.lines = new Uint8Array(requests);
    this.status = new Uint16Array(requests);
    this.backend = new Int8Array(requests).fill(NO_BACKEND);
    this.#backendIndex = new Map(backendUrls.map((url, i) => [url, i]));
  }

  enabled(level: Level): boolean {
    return level !== "debug";
  }

  debug(): void {}

  info(msg: string, fields: Fields = {}): void {
    this.#line("info", msg, fields);
  }

  warn(msg: string, fields: Fields = {}): void {
    this.#line("warn", msg, fields);
  }

  error(msg: string, fields: Fields = {}): void {
    this.#line("error", msg, fields);
  }

  /** How many lines said `msg` at `level`. */
  count(level: Level, msg: string): number {
    return this.messages.get(`${level} ${msg}`) ?? 0;
  }

  #backendOf(id: unknown): number {
    if (id === "-" || id === undefined) return NO_BACKEND;
    return this.#backendIndex.get(String(id)) ?? UNKNOWN_BACKEND;
  }

  #push(map: Map<number, number[]>, index: number, backend: number): void {
    const list = map.get(index);
    if (list) list.push(backend);
    else map.set(index, [backend]);
  }

  #line(level: Level, msg: string, fields: Fields): void {
    const key = `${level} ${msg}`;
    this.messages.set(key, (this.messages.get(key) ?? 0) + 1);
    if (level === "error") this.errors.push(`${msg} ${JSON.stringify(fields)}`);
    const index = indexOfRequestId(fields.request_id);
    const ours = index >= 0 && index < this.lines.length;
    switch (msg) {
      case "request":
        if (!ours) {
          this.foreign.push(String(fields.request_id));
          return;
        }
        if (this.lines[index]! < 255) this.lines[index]!++;
        this.status[index] = Number(fields.status);
        this.backend[index] = this.#backendOf(fields.backend);
        if (fields.reason !== undefined) this.reason.set(index, String(fields.reason));
        if (fields.outcome !== undefined) this.outcome.set(index, String(fields.outcome));
        return;
      case "backend request failed":
        if (ours) this.#push(this.forwardFailures, index, this.#backendOf(fields.backend));
        return;
      case "retrying on another backend":
        if (ours) this.#push(this.retries, index, this.#backendOf(fields.failed));
        return;
      case "backend response body failed":
        // With `kind`: a small body read whole failed, answered 502/504 by Aegis.
        // With `outcome`: a streamed body broke; its access line says so too.
        if (ours && fields.kind !== undefined) this.relayFailures.add(index);
        return;
      case "backend response unusable":
        if (ours) this.relayFailures.add(index);
        return;
    }
  }
}
