/**
 * A logger for when the dashboard owns the terminal: lines printed to
 * standard output would scribble over it, so warnings and errors become
 * events in the dashboard's event log instead, and the rest (access lines,
 * routine info) is left out; what matters of it is recorded as events
 * already (health changes, breaker transitions, reloads).
 *
 * @module
 */

import type { EventLog } from "../events/mod.ts";
import { isSecretField, type Level, levelledLogger, type Logger } from "./logger.ts";

/**
 * Messages whose authors record an event of their own right beside the log
 * line (health, breaker, rate, reload, drain); turning the line into an
 * event too would show everything twice.
 */
const ALREADY_EVENTS = new Set([
  "backend unhealthy",
  "backend healthy again",
  "backend warming up",
  "circuit breaker opened",
  "circuit breaker changed",
  "backend failed mid-stream",
  "rate limit adjusted",
  "configuration reloaded",
  "reload refused: the running configuration stays",
]);

/** A logger that records lines at `level` or above as `log` events. */
export function eventLogger(events: EventLog, level: Level = "warn"): Logger {
  return levelledLogger(level, (lvl, msg, fields) => {
    if (ALREADY_EVENTS.has(msg)) return;
    const detail: Record<string, string | number | boolean | null> = { level: lvl };
    for (const k in fields) {
      const v = fields[k];
      detail[k] = isSecretField(k)
        ? "[redacted]"
        : typeof v === "number" || typeof v === "boolean" || v === null
        ? v
        : String(v);
    }
    const summary = ["backend", "error", "reason", "problem"]
      .filter((k) => detail[k] !== undefined)
      .map((k) => String(detail[k]))
      .join(" · ");
    events.record("log", summary ? `${msg}: ${summary}` : msg, detail);
  });
}
