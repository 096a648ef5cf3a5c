/**
 * How many client connections Aegis may hold when `server.max_connections`
 * is `auto`: what the process's descriptor limit leaves after a reserve for
 * everything else that needs a descriptor. Past the limit, `accept` fails
 * and so does every connect to a backend (issue 11), so the clients'
 * share must stop short of it.
 *
 * The runtime raises the soft `RLIMIT_NOFILE` to the hard limit when it
 * starts, so the soft limit read here, after start, is the one in force.
 * Reading it is Linux-only (`/proc/self/limits`), and the runtime allows
 * that read only to a process granted every permission (`--allow-all`;
 * `--allow-read` is not enough, Deno guards all of `/proc/self`). Aegis runs
 * with narrower permissions, so it normally assumes
 * {@linkcode FALLBACK_DESCRIPTOR_LIMIT}; set `server.max_connections`
 * explicitly to use more.
 *
 * @module
 */

/**
 * Assumed when the descriptor limit cannot be read: the smallest hard limit
 * still common on Linux servers (older systemd and login sessions), which
 * the runtime raises the soft limit to. Today's defaults are far higher
 * (systemd 524 288, Docker 1 048 576), so this errs on the safe side.
 */
export const FALLBACK_DESCRIPTOR_LIMIT = 4096;

/** Assumed for a limit the system calls `unlimited`: Linux's default `fs.nr_open`. */
export const UNLIMITED_DESCRIPTORS = 1_048_576;

/**
 * Descriptors kept for the process itself: standard streams, both
 * listeners, the runtime's own (event loop, timers, worker threads: about
 * 20 at rest on Linux), the configuration file and headroom.
 */
export const PROCESS_RESERVE = 64;

/** Connections the admin listener accepts at once, so its share is bounded too. */
export const ADMIN_MAX_CONNECTIONS = 64;

/**
 * Connections the metrics listener (`admin.metrics_address`) accepts at
 * once: a scraper holds one, and a few Prometheus replicas are plenty.
 */
export const METRICS_MAX_CONNECTIONS = 16;

/** The soft `Max open files` limit in `/proc/self/limits` text, if present. */
export function parseOpenFilesLimit(text: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  if (m[1] === "unlimited") return UNLIMITED_DESCRIPTORS;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The process's descriptor limit and where it came from. */
export interface DescriptorLimit {
  readonly limit: number;
  /** `proc`: read from `/proc/self/limits`; `fallback`: assumed. */
  readonly source: "proc" | "fallback";
}

/**
 * Reads the soft descriptor limit of this process. Never throws: without
 * `/proc` (macOS, Windows) or without the permission (anything short of
 * `--allow-all`) it falls back.
 */
export function readDescriptorLimit(
  read: () => string = () => Deno.readTextFileSync("/proc/self/limits"),
): DescriptorLimit {
  try {
    const limit = parseOpenFilesLimit(read());
    if (limit !== undefined) return { limit, source: "proc" };
  } catch {
    // Not Linux, or not allowed to read: assume the common default.
  }
  return { limit: FALLBACK_DESCRIPTOR_LIMIT, source: "fallback" };
}

/** What the reserve is computed from. */
export interface ReserveInputs {
  /** The process's descriptor limit. */
  readonly descriptorLimit: number;
  /** Configured backends. */
  readonly backends: number;
  /** `upstream.max_connections`: the most connections open to one backend. */
  readonly upstreamMaxConnections: number;
  /**
   * The most backend connections open at once, all pools together, when
   * pools differ in `upstream.max_connections`; `backends ×
   * upstreamMaxConnections` by default.
   */
  readonly upstreamConnections?: number;
  /** Whether the metrics listener runs: its connections are kept too. False by default. */
  readonly metricsListener?: boolean;
}

/** The `auto` value of `server.max_connections`, and how it was reached. */
export interface DerivedMaxConnections {
  /** Client connections Aegis may hold. */
  readonly maxConnections: number;
  /** Descriptors kept for backend connections. */
  readonly upstreamReserve: number;
  /** Descriptors kept for the process, the admin and metrics listeners and health checks. */
  readonly fixedReserve: number;
}

/**
 * `server.max_connections: auto`. From the descriptor limit, keep
 * {@linkcode PROCESS_RESERVE}, {@linkcode ADMIN_MAX_CONNECTIONS},
 * {@linkcode METRICS_MAX_CONNECTIONS} when the metrics listener runs, and
 * one per backend for its health probe; of the rest, keep `backends ×
 * upstream.max_connections` for backend connections, but never more than
 * half: on HTTP/1.1 a client connection has at most one request in flight,
 * which needs at most one backend connection, so an even split starves
 * neither side. The clients get what remains, at least 1.
 *
 * @example
 * ```ts
 * // 20 000 descriptors, 3 backends, 512 connections each:
 * deriveMaxConnections({ descriptorLimit: 20_000, backends: 3, upstreamMaxConnections: 512 });
 * // → { maxConnections: 18_333, upstreamReserve: 1536, fixedReserve: 131 }
 * ```
 */
export function deriveMaxConnections(inputs: ReserveInputs): DerivedMaxConnections {
  // [SECURITY] Descriptor reserve: however many clients connect, descriptors
  // stay for backend connections, health probes and the admin API, so a
  // flood cannot turn into failed backends and open breakers (issue 11).
  const metrics = inputs.metricsListener ? METRICS_MAX_CONNECTIONS : 0;
  const fixedReserve = PROCESS_RESERVE + ADMIN_MAX_CONNECTIONS + metrics + inputs.backends;
  const available = Math.max(0, inputs.descriptorLimit - fixedReserve);
  const upstreamReserve = Math.min(
    inputs.upstreamConnections ?? inputs.backends * inputs.upstreamMaxConnections,
    Math.floor(available / 2),
  );
  return {
    maxConnections: Math.max(1, available - upstreamReserve),
    upstreamReserve,
    fixedReserve,
  };
}
