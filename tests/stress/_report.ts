/**
 * What a stress run reports: everything the invariants need, as plain data
 * read once the run is over (live objects are copied, not kept).
 *
 * @module
 */

import type { BackendState } from "../../src/pool/mod.ts";
import type { Snapshot } from "../../src/snapshot/mod.ts";
import type { BackendCounts, Receipts } from "./_backends.ts";
import type { Outcomes } from "./_clients.ts";
import type { StressTransport } from "./_config.ts";
import type { MemoryReading } from "./_leaks.ts";
import type { LogLedger } from "./_ledger.ts";
import type { Sample } from "./_prometheus.ts";

/** How big a run is. */
export interface StressOptions {
  readonly transport: StressTransport;
  /** Requests sent in all. */
  readonly requests: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Receives a line at each phase; silent by default. */
  readonly progress?: (line: string) => void;
}

/** One backend state object Aegis used (a backend removed and re-added has two). */
export interface StateRecord {
  readonly id: string;
  readonly requests: number;
  readonly errors: number;
  readonly inFlight: number;
  readonly breaker: string;
  readonly halfOpenInFlight: number;
}

/** Aegis once every request has ended and the drain has closed every connection. */
export interface QuietState {
  readonly states: readonly StateRecord[];
  readonly snapshot: Snapshot;
  readonly metrics: readonly Sample[];
  readonly connections: number;
  readonly inFlight: number;
  /** Requests Aegis counted, read from its live counters. */
  readonly requests: number;
}

/** Everything a run observed. */
export interface StressReport {
  readonly options: StressOptions;
  /** Backend names and URLs, by index (as outcomes and the ledger refer to them). */
  readonly names: readonly string[];
  readonly urls: readonly string[];
  readonly outcomes: Outcomes;
  readonly ledger: LogLedger;
  readonly receipts: Receipts;
  readonly counts: Readonly<Record<string, BackendCounts>>;
  /** Rules the clients and the scenario saw broken while running. */
  readonly violations: readonly string[];
  /** Requests sent after the drain began, and how many of them got an answer. */
  readonly late: { readonly sent: number; readonly answered: number };
  /** Requests in progress when the drain began. */
  readonly inFlightAtDrain: number;
  readonly quiet: QuietState;
  /** Whether every backend of the final pool was healthy, warmed up and available in time. */
  readonly recovered: string | true;
  /** Whether the limiter purged every bucket once clients went quiet. */
  readonly purged: string | true;
  /** The most buckets and the most heap seen while sampling every 50 ms. */
  readonly peaks: { readonly trackedClients: number; readonly heapUsed: number };
  readonly maxClients: number;
  readonly evictions: number;
  /** Distinct rate-limited client addresses that sent requests. */
  readonly limitedAddresses: number;
  /** Pending timers after shutdown, by where they were started. */
  readonly timersLeft: readonly string[];
  /** Open sockets before the run and after shutdown (undefined off Linux). */
  readonly sockets: { readonly before?: number; readonly after?: number };
  readonly memory: { readonly start: MemoryReading; readonly end: MemoryReading };
  readonly elapsedMs: number;
}

/** A backend state object's counters as plain data. */
export function record(s: BackendState): StateRecord {
  const b = s.breaker.snapshot();
  return {
    id: s.id,
    requests: s.stats.requests,
    errors: s.stats.errors,
    inFlight: s.stats.inFlight,
    breaker: b.state,
    halfOpenInFlight: b.halfOpenInFlight,
  };
}
