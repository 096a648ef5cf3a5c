/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): reading the
 * `traceparent` and `tracestate` a client sent, and writing the ones a
 * backend gets. Pure string work, so every rule of the spec is tested on
 * plain values; the spans themselves live in `otel.ts`.
 *
 * A header that breaks a rule is not an error: the spec says to restart
 * the trace (§4.3), so a malformed `traceparent` reads as no parent at all,
 * and its `tracestate` is not even parsed (§3.3.1).
 *
 * @module
 */

import type { HeaderFields } from "../core/mod.ts";

/** A valid incoming `traceparent`, as its parts. */
export interface TraceParent {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** The caller's span: 16 lower-case hex digits, not all zero. */
  readonly spanId: string;
  /** Whether the caller sampled (recorded) its span: the `sampled` flag (§3.2.2.5). */
  readonly sampled: boolean;
}

/** What a client sent, once checked. */
export interface IncomingTrace {
  /** The caller's span, when its `traceparent` was valid. */
  readonly parent: TraceParent;
  /** Its `tracestate`, cleaned and cut to size; absent when empty, invalid or too long to keep. */
  readonly tracestate?: string;
}

// [SECURITY] Header injection and log poisoning: only the exact grammar of §3.2.2
// passes, lower-case hex only; anything else restarts the trace.
/** Version, trace id, parent id, flags: the four fields every version starts with (§3.2.2). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
/** The length of a version `00` header, and of the fields any later version starts with. */
const TRACEPARENT_LENGTH = 55;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * Parses one `traceparent` value, or returns `undefined` when it breaks a
 * rule of §3.2.2 / §4.3: version `ff`; a version `00` value of any length but
 * 55 (extra fields included); a later version whose fifth character group
 * does not start with `-`; upper-case hex; an all-zero trace or parent id.
 *
 * @example
 * ```ts
 * parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * // { traceId: "4bf9…4736", spanId: "00f067aa0ba902b7", sampled: true }
 * parseTraceparent("00-4BF92F35…"); // undefined
 * ```
 */
export function parseTraceparent(value: string): TraceParent | undefined {
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as readonly string[] & {
    1: string;
    2: string;
    3: string;
    4: string;
  };
  if (version === "ff") return undefined;
  // Version 00 has exactly these fields; a later one may add more, each after a dash (§4.3).
  const more = value.length > TRACEPARENT_LENGTH;
  if (more && (version === "00" || value[TRACEPARENT_LENGTH] !== "-")) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** The `traceparent` Aegis sends: version 00 (§3.2), its own span as the parent. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`;
}

/** Most list-members a `tracestate` may have (§3.3.1.1); more and it is dropped whole. */
export const TRACESTATE_MAX_MEMBERS = 32;
/** Longest `tracestate` Aegis forwards (§3.3.1.5: at least 512 characters are propagated). */
export const TRACESTATE_MAX_LENGTH = 512;
/** Members longer than this are the first cut when a `tracestate` is too long (§3.3.1.5). */
const TRACESTATE_LONG_MEMBER = 128;

/** `key=value` of §3.3.1.3: a simple key or `tenant@system`, a value of printable ASCII without `,` and `=`. */
const MEMBER =
  /^(?:[a-z][a-z0-9_*\/-]{0,255}|[a-z0-9][a-z0-9_*\/-]{0,240}@[a-z][a-z0-9_*\/-]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Cleans a `tracestate` value (repeated headers already joined with `,`, as
 * §3.3.1 allows): empty members are dropped; a member that breaks the
 * grammar, a key seen twice, or more than 32 members drops the whole
 * header; a value over 512 characters loses its members longer than 128
 * characters first, then members from the end, until it fits. Returns
 * `undefined` when nothing is left.
 *
 * @example
 * ```ts
 * cleanTracestate("rojo=00f067aa0ba902b7, ,congo=t61rcWkgMzE"); // "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
 * cleanTracestate("Rojo=1"); // undefined
 * ```
 */
export function cleanTracestate(value: string): string | undefined {
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(",")) {
    const member = raw.trim();
    if (member === "") continue;
    // [SECURITY] Header injection: a member that breaks the grammar takes the whole header with it.
    if (!MEMBER.test(member)) return undefined;
    const key = member.slice(0, member.indexOf("="));
    if (keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
    // [SECURITY] Resource exhaustion: a list over the limit is not read further.
    if (members.length > TRACESTATE_MAX_MEMBERS) return undefined;
  }
  let kept = members;
  const length = (list: readonly string[]) =>
    list.reduce((n, m) => n + m.length, 0) + Math.max(0, list.length - 1);
  if (length(kept) > TRACESTATE_MAX_LENGTH) {
    kept = kept.filter((m) => m.length <= TRACESTATE_LONG_MEMBER);
    while (length(kept) > TRACESTATE_MAX_LENGTH) kept.pop();
  }
  return kept.length > 0 ? kept.join(",") : undefined;
}

/**
 * The caller's trace from the request's fields, or `undefined` when its
 * `traceparent` is missing or invalid (then `tracestate` is ignored, §3.3.1).
 * Two `traceparent` fields are invalid too: joined, they are no valid value.
 */
export function incomingTrace(fields: HeaderFields): IncomingTrace | undefined {
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  for (const [name, value] of fields) {
    if (name.length === 11 && name.toLowerCase() === "traceparent") {
      if (traceparent !== undefined) return undefined;
      traceparent = value;
    } else if (name.length === 10 && name.toLowerCase() === "tracestate") {
      tracestate = tracestate === undefined ? value : `${tracestate},${value}`;
    }
  }
  if (traceparent === undefined) return undefined;
  const parent = parseTraceparent(traceparent.trim());
  if (!parent) return undefined;
  const state = tracestate === undefined ? undefined : cleanTracestate(tracestate);
  return state === undefined ? { parent } : { parent, tracestate: state };
}
