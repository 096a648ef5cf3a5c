/**
 * The messages between the control isolate and its worker isolates: plain
 * data only, since every one crosses `postMessage` (structured clone). A
 * resolved `Config` is plain data (no functions, no class instances), and
 * a `SharedArrayBuffer` crosses as shared memory, not as a copy.
 *
 * @module
 */

import type { DrainStatus, ReloadResult } from "../admin/mod.ts";
import type { Config } from "../config/mod.ts";
import type { Health } from "../health/mod.ts";
import type { SharedBucketsMemory } from "../limit/mod.ts";
import type { Snapshot } from "../snapshot/mod.ts";

/**
 * How often a worker reports its snapshot, and the control merges and
 * sends health changes: what `/metrics` lags behind the workers by, at most.
 */
export const REPORT_EVERY_MS = 250;

/** The memory every isolate shares, as the control isolate made it for a configuration. */
export interface SharedMemory {
  /** Each listener's bucket table, by listener name. */
  readonly buckets: Readonly<Record<string, SharedBucketsMemory>>;
  /** Each backend's breaker cells, by `<pool> <backend id>`. */
  readonly breakers: Readonly<Record<string, SharedArrayBuffer>>;
}

/** One backend's health as the control isolate's checks decided it. */
export interface BackendHealth {
  readonly pool: string;
  readonly id: string;
  readonly health: Health;
  readonly warmupStep: number;
}

/** Control → worker. */
export type ToWorker =
  | {
    /** Start serving `config` (its port-0 listeners already pinned to a bound port, but for the first worker). */
    readonly type: "start";
    readonly index: number;
    readonly config: Config;
    readonly memory: SharedMemory;
    readonly health: readonly BackendHealth[];
    /** Log into the worker's event log (the terminal dashboard is on) rather than to stdout. */
    readonly logToEvents: boolean;
    /** As `AegisOptions.drainIdleGraceMs`. */
    readonly drainIdleGraceMs?: number;
    /**
     * This worker's share of the process's descriptor limit: what
     * `server.max_connections: auto` is worked out from, so that N workers
     * together stay within the limit.
     */
    readonly descriptorLimit: number;
  }
  | {
    /** Apply a configuration the control isolate validated and planned. */
    readonly type: "reload";
    readonly id: number;
    readonly config: Config;
    readonly memory: SharedMemory;
    readonly health: readonly BackendHealth[];
  }
  | { readonly type: "health"; readonly backends: readonly BackendHealth[] }
  | { readonly type: "drain" }
  | { readonly type: "shutdown" };

/** A bound listener as a worker reports it. */
export interface BoundListener {
  readonly name: string;
  readonly hostname: string;
  readonly port: number;
  readonly url: string;
}

/** Worker → control. */
export type FromWorker =
  | { readonly type: "ready"; readonly listeners: readonly BoundListener[] }
  | {
    readonly type: "failed";
    readonly error: string;
    /** The listener whose bind failed, when that was it. */
    readonly listener?: string;
    /** The bind error's code (`EADDRINUSE`), for the message main.ts prints. */
    readonly code?: string;
  }
  | {
    readonly type: "reloaded";
    readonly id: number;
    readonly result: ReloadResult;
    readonly listeners: readonly BoundListener[];
  }
  | { readonly type: "report"; readonly snapshot: Snapshot; readonly drain: DrainStatus }
  | { readonly type: "stopped" };
