/**
 * Runs {@linkcode decodeConfig} in a Web Worker with a time limit. The
 * caller's event loop stays free while a file is parsed: the proxy keeps
 * answering, the admin API keeps working, and SIGTERM is handled.
 *
 * @module
 */

import type { DecodedConfig } from "./decode.ts";
import type { DecodeReply, DecodeRequest } from "./decode_worker.ts";

/** How long parsing and validating a file may take by default: 10 seconds. */
export const DEFAULT_DECODE_TIMEOUT_MS = 10_000;

/** Options for {@linkcode decodeOffThread}. */
export interface DecodeOffThreadOptions {
  /** Time limit in milliseconds; {@linkcode DEFAULT_DECODE_TIMEOUT_MS} by default. */
  readonly timeoutMs?: number;
  /** Stops waiting and terminates the worker (Aegis shutting down). */
  readonly signal?: AbortSignal;
}

/** Decoding did not finish: over the time limit, aborted, or the worker failed. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/**
 * Decodes `text` in a fresh worker and resolves with its result.
 *
 * @throws {DecodeError} past the time limit, on abort, or if the worker fails
 *
 * @example
 * ```ts
 * const decoded = await decodeOffThread(await Deno.readTextFile("aegis.yml"));
 * ```
 */
export function decodeOffThread(
  text: string,
  options: DecodeOffThreadOptions = {},
): Promise<DecodedConfig> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DECODE_TIMEOUT_MS;
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(new DecodeError("stopped before it started"));
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./decode_worker.ts", import.meta.url).href, { type: "module" });
    } catch (e) {
      reject(new DecodeError(`the worker could not start: ${e instanceof Error ? e.message : e}`));
      return;
    }
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      worker.terminate();
    };
    // [SECURITY] Denial of service by a slow file: whatever makes parsing
    // slow, the worker is terminated at the time limit and the file refused;
    // only a result that arrives in time is ever used.
    const timer = setTimeout(() => {
      finish();
      reject(new DecodeError(`took longer than the ${formatLimit(timeoutMs)} limit`));
    }, timeoutMs);
    const onAbort = () => {
      finish();
      reject(new DecodeError("stopped: Aegis is shutting down"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.onmessage = (event: MessageEvent<DecodeReply>) => {
      finish();
      const reply = event.data;
      if (reply.ok) resolve(reply.decoded);
      else reject(new DecodeError(`the parser failed: ${reply.error}`));
    };
    worker.onerror = (event: ErrorEvent) => {
      // Handled here: unhandled, a worker's error would end the whole process.
      event.preventDefault();
      finish();
      reject(new DecodeError(`the worker failed: ${event.message}`));
    };
    worker.postMessage({ text } satisfies DecodeRequest);
  });
}

function formatLimit(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
