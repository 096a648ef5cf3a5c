/**
 * Structured logging: one line per event, JSON (default) or `key=value` text.
 *
 * The logger is the last line of defence for secrets: fields whose names
 * look like credentials are redacted whatever the caller passed, and values
 * are encoded so a hostile path or header cannot forge a second log line.
 *
 * @module
 */

import type { SnakeCaseFields } from "../events/mod.ts";

/** Log levels, least to most severe. */
export const LEVELS = ["debug", "info", "warn", "error"] as const;

/** A log level. */
export type Level = typeof LEVELS[number];

/** Output format. */
export type LogFormat = "json" | "text";

/** Structured fields attached to a log line. */
export type Fields = Readonly<Record<string, unknown>>;

/** Where finished lines go. */
export type LogSink = (line: string) => void;

/**
 * Writes log lines. Field names are snake_case, like the configuration and
 * the access log; the compiler refuses a camelCase one
 * ({@linkcode SnakeCaseFields}), since the names are written as they are.
 */
export interface Logger {
  /** The lowest level written. */
  readonly level: Level;
  /** True when `level` would be written; lets callers skip building fields. */
  enabled(level: Level): boolean;
  /** Writes at debug level. */
  debug<F extends Fields>(msg: string, fields?: F & SnakeCaseFields<F>): void;
  /** Writes at info level. */
  info<F extends Fields>(msg: string, fields?: F & SnakeCaseFields<F>): void;
  /** Writes at warn level. */
  warn<F extends Fields>(msg: string, fields?: F & SnakeCaseFields<F>): void;
  /** Writes at error level. */
  error<F extends Fields>(msg: string, fields?: F & SnakeCaseFields<F>): void;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  readonly level?: Level;
  /** Output format. Default `json`. */
  readonly format?: LogFormat;
  /** Destination; standard output by default. */
  readonly sink?: LogSink;
  /** Wall clock for timestamps; `Date.now` by default. */
  readonly now?: () => number;
}

// [SECURITY] Credential leaks through logs: a field whose name looks like a
// credential is written as "[redacted]", whoever passes it.
const SECRET_FIELD = /authorization|cookie|token|password|secret|api[-_]?key/i;
const RANK: Readonly<Record<Level, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

const encoder = new TextEncoder();

/** Lines for standard output not written yet: at most one job's worth. */
let pending = "";
let flushQueued = false;
/** Written at once past this many characters, whatever the job still does. */
const PENDING_MAX = 64 * 1024;

/**
 * Writes the lines {@linkcode stdoutSink} holds, completing partial writes.
 * Called at the end of the job that logged them, before a warning or an
 * error, and when the process exits.
 */
export function flushStdout(): void {
  flushQueued = false;
  if (pending === "") return;
  const bytes = encoder.encode(pending);
  pending = "";
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

// Deno.exit() and a normal end dispatch `unload`: nothing logged is left behind.
globalThis.addEventListener("unload", flushStdout);

/**
 * Writes lines to standard output, batched: the lines a job logs (for
 * access logs under load, every request that completes in one turn of the
 * event loop) go out in one `write` when the job's microtasks are done,
 * instead of one system call each. Nothing waits for a timer, so a line is
 * never held past the work that produced it.
 */
export const stdoutSink: LogSink = (line) => {
  pending += line + "\n";
  if (pending.length >= PENDING_MAX) return flushStdout();
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flushStdout);
  }
};

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const log = createLogger({ level: "info", sink: (l) => lines.push(l) });
 * log.info("request", { status: 200 });
 * log.debug("not written");
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const sink = options.sink ?? stdoutSink;
  const now = options.now ?? Date.now;
  const format = options.format === "text" ? formatText : formatJson;
  return levelledLogger(options.level ?? "info", (lvl, msg, fields) => {
    sink(format(new Date(now()).toISOString(), lvl, msg, fields));
    // A warning or an error goes out at once (with any lines before it): the
    // process may be about to end in a way that runs no further microtask.
    if (sink === stdoutSink && RANK[lvl] >= RANK.warn) flushStdout();
  });
}

/**
 * A logger at `level` that hands every line at that level or above to
 * `emit`: the level gate all Aegis loggers share.
 */
export function levelledLogger(
  level: Level,
  emit: (level: Level, msg: string, fields?: Fields) => void,
): Logger {
  const min = RANK[level];
  const write = (lvl: Level) => (msg: string, fields?: Fields) => {
    if (RANK[lvl] >= min) emit(lvl, msg, fields);
  };
  return {
    level,
    enabled: (lvl) => RANK[lvl] >= min,
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  };
}

/** True for a field name that looks like a credential; its value is never written. */
export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

function safeValue(key: string, value: unknown): unknown {
  if (isSecretField(key)) return "[redacted]";
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return value;
}

const RESERVED = new Set(["time", "level", "msg"]);

/** JSON that never throws (BigInt, cycles) and never contains a line separator. */
function stringify(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) ?? "null";
  } catch {
    text = JSON.stringify(String(value));
  }
  // U+2028/U+2029/U+0085 are valid in JSON strings but break lines in some viewers.
  return text.replace(
    /[\u2028\u2029\u0085]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function formatJson(time: string, level: Level, msg: string, fields?: Fields): string {
  const out: Record<string, unknown> = { time, level, msg };
  if (fields) {
    for (const k in fields) {
      // A field may not overwrite the line's own time, level or message.
      out[RESERVED.has(k) ? `field.${k}` : k] = safeValue(k, fields[k]);
    }
  }
  return stringify(out);
}

function textValue(v: unknown): string {
  const s = typeof v === "string" ? v : v === undefined ? "" : stringify(v);
  return /^[\w.:\/@+\-\[\]%,]*$/.test(s) && s !== "" ? s : stringify(s);
}

function textKey(k: string): string {
  return /^[\w.\-]+$/.test(k) ? k : stringify(k);
}

function formatText(time: string, level: Level, msg: string, fields?: Fields): string {
  // Control characters would let a message forge a second line.
  // deno-lint-ignore no-control-regex
  const text = /[\x00-\x1f\x7f"\u2028\u2029\u0085]/.test(msg) ? stringify(msg) : msg;
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${text}`;
  if (fields) {
    for (const k in fields) line += ` ${textKey(k)}=${textValue(safeValue(k, fields[k]))}`;
  }
  return line;
}

/** A logger whose destination and level can be replaced while others hold it. */
export interface SwitchableLogger extends Logger {
  /** Sends every later line to `next` (a reload with new `logging` settings). */
  use(next: Logger): void;
}

/**
 * Wraps a logger so that components built once (the listener, the admin
 * server) follow a reloaded `logging` section without being rebuilt.
 */
export function switchableLogger(initial: Logger): SwitchableLogger {
  let target = initial;
  return {
    get level() {
      return target.level;
    },
    enabled: (lvl) => target.enabled(lvl),
    debug: (msg, fields) => target.debug(msg, fields),
    info: (msg, fields) => target.info(msg, fields),
    warn: (msg, fields) => target.warn(msg, fields),
    error: (msg, fields) => target.error(msg, fields),
    use(next) {
      target = next;
    },
  };
}
