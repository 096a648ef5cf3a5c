/**
 * Tracing for the whole process, as the `tracing` section says: the tracer
 * in force, replaced when a reload changes the section (the old exporter
 * sends what it holds, within {@linkcode FLUSH_TIMEOUT_MS}), and flushed
 * the same way at shutdown. The SDK is imported the first time tracing is
 * enabled, so a configuration without tracing never loads it.
 *
 * @module
 */

import type { Clock } from "../clock/mod.ts";
import type { TracingConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { TracingCounters } from "./export_queue.ts";
import type { OtelTracer } from "./otel.ts";
import { DISABLED_TRACER, type RequestTracer } from "./request_span.ts";

/** Longest wait for a retiring exporter to send its spans, at reload and at shutdown. */
export const FLUSH_TIMEOUT_MS = 3000;

/** What {@linkcode Tracing} needs. */
export interface TracingOptions {
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The tracer in force, and the exporter behind it. */
export class Tracing implements AsyncDisposable {
  readonly #clock: Clock;
  readonly #logger: Logger;
  #tracer: RequestTracer = DISABLED_TRACER;
  #exporter: OtelTracer | undefined;
  #config: string | undefined;
  #applied: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Spans exported and dropped since start, every exporter's added up. */
  readonly counters: TracingCounters = new TracingCounters();

  constructor(options: TracingOptions) {
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /** The tracer for a request starting now. */
  get tracer(): RequestTracer {
    return this.#tracer;
  }

  /**
   * Puts `config` in force, unless it already is; settles once the new
   * tracer serves and the old exporter has flushed. Calls apply in order.
   *
   * @example
   * ```ts
   * await tracing.configure(config.tracing);
   * const span = tracing.tracer.start(request);
   * ```
   */
  configure(config: TracingConfig): Promise<void> {
    this.#applied = this.#applied.then(() => this.#apply(config));
    return this.#applied;
  }

  async #apply(config: TracingConfig): Promise<void> {
    const key = JSON.stringify(config);
    if (this.#stopped || key === this.#config) return;
    let next: OtelTracer | undefined;
    if (config.enabled) {
      try {
        const { otelTracer } = await import("./otel.ts");
        next = otelTracer(config, {
          clock: this.#clock,
          logger: this.#logger,
          counters: this.counters,
        });
      } catch (e) {
        this.#logger.error("tracing could not start", {
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
    const before = this.#exporter;
    this.#exporter = next;
    this.#tracer = next?.tracer ?? DISABLED_TRACER;
    this.#config = key;
    if (next) {
      this.#logger.info("tracing enabled", {
        endpoint: config.endpoint,
        sampling_ratio: config.sampling_ratio,
        service_name: config.service_name,
      });
    } else if (before) this.#logger.info("tracing disabled");
    await before?.close(FLUSH_TIMEOUT_MS);
  }

  /** Stops tracing: the exporter sends what it holds, within {@linkcode FLUSH_TIMEOUT_MS}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#applied;
    this.#stopped = true;
    const exporter = this.#exporter;
    this.#exporter = undefined;
    this.#tracer = DISABLED_TRACER;
    await exporter?.close(FLUSH_TIMEOUT_MS);
  }
}
