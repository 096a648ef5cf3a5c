/**
 * The entry of a worker isolate (`server.workers` above 1): one whole
 * request path, the same `startAegis` a single isolate runs, with its
 * http and tcp listeners bound with `SO_REUSEPORT` beside its siblings'
 * and without the admin and metrics listeners, which the control isolate
 * serves. What it does not own it takes from the control isolate
 * (`ControlledParts`): the shared buckets, whose rate control's adaptive
 * loop moves. It answers the control isolate's messages (`protocol.ts`):
 * start, apply a reload, drain, shut down; and reports a snapshot of its
 * own traffic every {@linkcode REPORT_EVERY_MS}, which the control merges.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type Aegis, startAegis } from "../app.ts";
import type { Config } from "../config/mod.ts";
import { EventLog } from "../events/mod.ts";
import { listenerOf, loggerFor } from "../lifecycle/mod.ts";
import { eventLogger, type Logger } from "../log/mod.ts";
import {
  type BackendHealth,
  type BoundListener,
  type FromWorker,
  REPORT_EVERY_MS,
  type SharedMemory,
  type ToWorker,
} from "./protocol.ts";
import { controlledParts } from "./_memory.ts";

const post = (message: FromWorker) => self.postMessage(message);

let aegis: Aegis | undefined;
let memory: SharedMemory = { buckets: {}, breakers: {} };
/** The configuration the next reload applies: what the control isolate sent. */
let pending: Config | undefined;
let reporting: ReturnType<typeof setInterval> | undefined;

/** Lines the control isolate writes once for the process; a worker's would repeat them N times. */
const SAID_BY_CONTROL: ReadonlySet<string> = new Set([
  "Aegis listening",
  "shutting down",
  "Aegis shutdown complete",
  "reloading configuration",
  "configuration reloaded",
]);

/** Where the worker logs now: rebuilt when a reload changes `logging`, as a single isolate's is. */
let sink: Logger | undefined;
/** Whether the sink is the event log (the terminal dashboard owns stdout). */
let toEvents = false;

/** The worker's logger: the sink in force, less what the control says for the process. */
const logger: Logger = {
  get level() {
    return sink!.level;
  },
  enabled: (level) => sink!.enabled(level),
  debug: (msg, fields) => sink!.debug(msg, fields),
  info: (msg, fields) => {
    if (!SAID_BY_CONTROL.has(msg)) sink!.info(msg, fields);
  },
  warn: (msg, fields) => sink!.warn(msg, fields),
  error: (msg, fields) => sink!.error(msg, fields),
};

/** Limiters and breakers over the memory the control isolate made; no loops of its own. */
const controlled = controlledParts(() => memory, false);

/** Takes the backends' health from the control isolate's checks. */
function adoptHealth(backends: readonly BackendHealth[]): void {
  const pools = aegis?.pools;
  if (!pools) return;
  for (const b of backends) {
    pools.get(b.pool)?.states.find((s) => s.id === b.id)?.health.adopt(b.health, b.warmupStep);
  }
}

function bound(running: Aegis): BoundListener[] {
  return [...running.listeners].map(([name, l]) => ({
    name,
    hostname: l.addr.hostname,
    port: l.addr.port,
    url: l.url,
  }));
}

function report(): void {
  if (!aegis) return;
  post({ type: "report", snapshot: aegis.refreshSnapshot(), drain: aegis.drainStatus() });
}

async function start(message: Extract<ToWorker, { type: "start" }>): Promise<void> {
  memory = message.memory;
  const events = new EventLog();
  toEvents = message.logToEvents;
  sink = toEvents ? eventLogger(events) : loggerFor(message.config);
  try {
    aegis = startAegis(message.config, {
      admin: false,
      reusePort: true,
      controlled,
      events,
      descriptorLimit: message.descriptorLimit,
      // Reloads are read and planned by the control isolate, which sends the result.
      configPath: "(control isolate)",
      loadConfig: () => Promise.resolve({ ok: true, config: pending!, warnings: [] }),
      logger,
      ...(message.drainIdleGraceMs !== undefined
        ? { drainIdleGraceMs: message.drainIdleGraceMs }
        : {}),
    });
    adoptHealth(message.health);
    await aegis.ready;
  } catch (e) {
    const code = (e as { code?: unknown })?.code;
    post({
      type: "failed",
      error: e instanceof Error ? e.message : String(e),
      ...(listenerOf(e) !== undefined ? { listener: listenerOf(e) } : {}),
      ...(typeof code === "string" ? { code } : {}),
    });
    await aegis?.shutdown();
    self.close();
    return;
  }
  post({ type: "ready", listeners: bound(aegis) });
  reporting = setInterval(report, REPORT_EVERY_MS);
}

async function reload(message: Extract<ToWorker, { type: "reload" }>): Promise<void> {
  memory = message.memory;
  pending = message.config;
  if (!toEvents) sink = loggerFor(message.config);
  const result = await aegis!.reload();
  adoptHealth(message.health);
  post({ type: "reloaded", id: message.id, result, listeners: bound(aegis!) });
}

async function shutdown(): Promise<void> {
  clearInterval(reporting);
  await aegis?.shutdown();
  // The last counts, so that the control's totals include the final requests.
  report();
  post({ type: "stopped" });
  self.close();
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "start") void start(message);
  else if (message.type === "reload") void reload(message);
  else if (message.type === "health") adoptHealth(message.backends);
  else if (message.type === "drain") aegis?.drain();
  else void shutdown();
};
