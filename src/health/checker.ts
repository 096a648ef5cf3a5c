/**
 * Active health checks: one loop per backend that probes
 * `GET health_check.path` every `interval`, bounded by `timeout`, and feeds
 * the result to the backend's {@linkcode HealthTracker}. Probes go straight
 * to the backend through the upstream transport, never through the proxy
 * pipeline, so the rate limiter never sees them.
 *
 * @module
 */

import type { Clock, Timer } from "../clock/mod.ts";
import { isLocalResourceError, type Transport } from "../core/mod.ts";

/** Probes a backend once; resolves true for a healthy answer. Never rejects. */
export type Probe = (baseUrl: string, signal: AbortSignal) => Promise<ProbeResult>;

/** What one probe saw. */
export interface ProbeResult {
  /** 2xx or 3xx within the timeout. */
  readonly ok: boolean;
  /** Status code, or the error in words. */
  readonly detail: string;
  /**
   * True when the probe could not be made because Aegis itself ran out of a
   * local resource (descriptors, buffers): it says nothing about the
   * backend, and must not count as a failed check.
   */
  readonly inconclusive?: boolean;
}

/** The `User-Agent` of every health probe, so backends can tell probes from traffic. */
export const HEALTH_USER_AGENT = "aegis-health-check";

/**
 * A probe over HTTP: `GET <base><path>` with `User-Agent: aegis-health-check`,
 * aborted after `timeoutMs`. 2xx and 3xx are healthy; anything else,
 * including a timeout or a refused connection, is not. A probe Aegis could
 * not send for want of local resources is `inconclusive`.
 */
export function httpProbe(transport: Transport, path: string, timeoutMs: number): Probe {
  return async (baseUrl, signal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const request = new Request(baseUrl + path, {
      headers: { "user-agent": HEALTH_USER_AGENT, "accept-encoding": "identity" },
      // [SECURITY] SSRF and hangs: a probe never follows a redirect to
      // another host, and never waits past its timeout.
      redirect: "manual",
      signal: AbortSignal.any([signal, timeout]),
    });
    try {
      const res = await transport(request);
      await res.body?.cancel().catch(() => {});
      return { ok: res.status >= 200 && res.status < 400, detail: `status ${res.status}` };
    } catch (e) {
      return failedProbe(e, timeout.aborted, `no answer within ${timeoutMs}ms`);
    }
  };
}

/**
 * What a probe that threw saw: `timedOut` says it ran out of time; an
 * error of Aegis's own resources (descriptors) is inconclusive.
 */
export function failedProbe(e: unknown, timedOut: boolean, late: string): ProbeResult {
  const message = e instanceof Error ? e.message : String(e);
  if (!timedOut && isLocalResourceError(e)) {
    return { ok: false, detail: message, inconclusive: true };
  }
  return { ok: false, detail: timedOut ? late : message };
}

/** Options for {@linkcode startHealthLoop}. */
export interface HealthLoopOptions {
  /** Backend base URL, probed as `base + path`. */
  readonly baseUrl: string;
  /** Delay between the end of one probe and the start of the next. */
  readonly intervalMs: number;
  /** Schedules probes. */
  readonly clock: Clock;
  /** Sends one probe. */
  readonly probe: Probe;
  /** Receives every result. */
  readonly onResult: (result: ProbeResult) => void;
  /** Stops the loop (and aborts a probe in flight). */
  readonly signal: AbortSignal;
}

/**
 * Runs probes until `signal` aborts: the first at once, then one every
 * `intervalMs` after the previous one finished (so probes never overlap).
 * Resolves when the loop has stopped.
 */
export function startHealthLoop(options: HealthLoopOptions): Promise<void> {
  const { signal, clock } = options;
  return new Promise<void>((resolve) => {
    let timer: Timer | undefined;
    const stop = () => {
      timer?.cancel();
      resolve();
    };
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", stop, { once: true });
    const run = async () => {
      timer = undefined;
      const result = await options.probe(options.baseUrl, signal);
      if (signal.aborted) return;
      options.onResult(result);
      timer = clock.setTimer(options.intervalMs, run);
    };
    run();
  });
}
