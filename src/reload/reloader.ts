/**
 * Reload, the effectful half: parse → validate → plan → build new → swap →
 * dispose old (STYLE.md habit 6). The file is read and checked off the
 * event loop, {@linkcode planReload} decides, and the caller's `apply`
 * does the building and swapping; this module logs, records the event and
 * answers `POST /reload` and SIGHUP alike.
 *
 * @module
 */

import type { ReloadResult } from "../admin/mod.ts";
import {
  type Config,
  ConfigFileError,
  type ConfigResult,
  formatDiagnostic,
  formatOmitted,
  formatWarning,
  loadConfigFile,
  type LoadOptions,
} from "../config/mod.ts";
import type { EventLog } from "../events/mod.ts";
import type { Logger } from "../log/mod.ts";
import { planReload, type ReloadChanges } from "./plan.ts";

/** Options for {@linkcode createReloader}. */
export interface ReloaderOptions {
  /** The configuration file; without one, every reload is refused. */
  readonly path?: string;
  /** Time limit for parsing and validating the file (the loader's default when absent). */
  readonly timeoutMs?: number;
  /**
   * Aborted when Aegis stops: a load in progress is abandoned, and a load
   * that finishes afterwards is not applied.
   */
  readonly signal: AbortSignal;
  /** Where reloads are logged. */
  readonly logger: Logger;
  /** Where each reload is recorded (`reload` events). */
  readonly events: EventLog;
  /** The configuration running now. */
  running(): Config;
  /**
   * Builds what the plan replaces from `changes.next`, swaps it in, disposes
   * the old. Returns the problems that kept it from doing so (a listener
   * that cannot bind), having changed nothing; empty when applied.
   */
  apply(changes: ReloadChanges): readonly string[] | Promise<readonly string[]>;
  /** Reads and validates the file; {@linkcode loadConfigFile} by default. */
  readonly load?: (path: string, options: LoadOptions) => Promise<ConfigResult>;
}

/** Why a reload is refused when Aegis runs without a configuration file. */
export const NO_FILE_TO_RELOAD =
  "Aegis was started without a configuration file (aegis proxy): restart it with other flags, " +
  "or run it from a file (aegis proxy --print-config writes one)";

/** A refusal, logged and recorded; `count` includes problems left out of `problems`. */
function refuse(options: ReloaderOptions, problems: string[], count: number): ReloadResult {
  const { logger, events } = options;
  logger.error("reload refused: the running configuration stays", { problems: count });
  for (const p of problems) logger.error("reload problem", { problem: p });
  events.record("reload", `reload refused (${count} problems)`, { ok: false });
  return { ok: false, problems };
}

/** One reload, start to end. */
async function reloadOnce(options: ReloaderOptions): Promise<ReloadResult> {
  const { path, logger, signal } = options;
  if (!path) {
    // Said out loud: a SIGHUP that changes nothing would otherwise look lost.
    logger.warn("reload refused: no configuration file", { problem: NO_FILE_TO_RELOAD });
    options.events.record("reload", "reload refused: no configuration file", { ok: false });
    return { ok: false, error: "nothing to reload", problems: [NO_FILE_TO_RELOAD] };
  }
  logger.info("reloading configuration", { file: path });
  let result: ConfigResult;
  try {
    // Parsed and validated in a worker: requests, the admin API and
    // signals are served meanwhile; shutdown abandons the load.
    result = await (options.load ?? loadConfigFile)(path, { timeoutMs: options.timeoutMs, signal });
  } catch (e) {
    const problem = e instanceof ConfigFileError ? e.message : String(e);
    logger.error("reload failed", { problem });
    return { ok: false, problems: [problem] };
  }
  if (signal.aborted) return { ok: false, problems: ["Aegis is shutting down"] };
  if (!result.ok) {
    const problems = result.diagnostics.map((d) => formatDiagnostic(path, d));
    const more = formatOmitted(path, result.omitted);
    const count = problems.length + result.omitted;
    if (more) problems.push(more);
    return refuse(options, problems, count);
  }
  for (const w of result.warnings) {
    logger.warn("configuration warning", { warning: formatWarning(path, w) });
  }
  const plan = planReload(options.running(), result.config);
  if (!plan.ok) return refuse(options, [...plan.problems], plan.problems.length);
  const stopped = await options.apply(plan);
  if (stopped.length > 0) return refuse(options, [...stopped], stopped.length);
  const { added, removed, kept } = plan;
  const { opened, closed, moved } = plan.listeners;
  logger.info("configuration reloaded", {
    added: added.length,
    removed: removed.length,
    kept: kept.length,
    ...(opened.length + closed.length + moved.length > 0 ? { opened, closed, moved } : {}),
  });
  const listenerNote = [
    ...(opened.length ? [`opened ${opened.join(", ")}`] : []),
    ...(closed.length ? [`closed ${closed.join(", ")}`] : []),
    ...(moved.length ? [`moved ${moved.join(", ")}`] : []),
  ];
  options.events.record(
    "reload",
    `configuration reloaded: ${added.length} added, ${removed.length} removed, ${kept.length} kept` +
      (listenerNote.length ? `; listeners ${listenerNote.join("; ")}` : ""),
    { ok: true, added: added.length, removed: removed.length },
  );
  return { ok: true, added, removed, kept, listeners: { opened, closed, moved } };
}

/**
 * Returns the reload function. Reloads run one at a time, in the order
 * asked: each plans against the configuration the previous one left.
 *
 * @example
 * ```ts
 * const reload = createReloader({ path, signal, logger, events, running, apply });
 * const result = await reload(); // { ok: true, added, removed, kept } or { ok: false, problems }
 * ```
 */
export function createReloader(options: ReloaderOptions): () => Promise<ReloadResult> {
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    // Chained on settling, not on success: a reload that threw must not
    // wedge every later one.
    const next = last.then(() => reloadOnce(options), () => reloadOnce(options));
    last = next;
    return next;
  };
}
