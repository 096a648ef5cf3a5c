/**
 * One worker isolate as the control isolate holds it: the `Worker`, what
 * it last reported, and promises for the answers control waits on (ready,
 * a reload applied, stopped). An isolate that throws, or is terminated,
 * is *dead*: every wait on it settles (a reload answers with a problem,
 * stop resolves) and `onDeath` is told once, so the control can log it and
 * start another.
 *
 * @module
 */

import type { DrainStatus, ReloadResult } from "../admin/mod.ts";
import type { Snapshot } from "../snapshot/mod.ts";
import type { BoundListener, FromWorker, ToWorker } from "./protocol.ts";

/** Why a worker could not start: its bind error, tagged as `openListener` tags one. */
export class WorkerStartError extends Error {
  override readonly name = "WorkerStartError";
  /** The listener whose bind failed, read by `listenerOf`. */
  readonly listener?: string;
  /** The bind error's code (`EADDRINUSE`), read by `describeBindError`. */
  readonly code?: string;

  constructor(message: string, listener?: string, code?: string) {
    super(message);
    if (listener !== undefined) this.listener = listener;
    if (code !== undefined) this.code = code;
  }
}

/** The module every worker runs; `deno compile` must `--include` it. */
const WORKER_MODULE = new URL("./worker_main.ts", import.meta.url).href;

/** A running worker isolate. */
export class WorkerHandle {
  /** Its place among the workers, kept by its replacement. */
  readonly index: number;
  /** When it was started (epoch ms). */
  readonly startedAt = Date.now();
  /** Its latest snapshot; `undefined` until its first report. */
  latest: Snapshot | undefined;
  /** Its latest drain progress. */
  drain: DrainStatus = { draining: false, connections: 0, inFlight: 0 };
  /** Resolves with its bound listeners once serving; rejects if it could not start. */
  readonly ready: Promise<readonly BoundListener[]>;
  /** Resolves once it has stopped, cleanly or not. */
  readonly stopped: Promise<void>;

  readonly #worker: Worker;
  readonly #ready = Promise.withResolvers<readonly BoundListener[]>();
  readonly #stopped = Promise.withResolvers<void>();
  readonly #reloads = new Map<
    number,
    (answer: { result: ReloadResult; listeners: readonly BoundListener[] }) => void
  >();
  #nextId = 0;
  #dead = false;
  readonly #onDeath: (handle: WorkerHandle, why: string) => void;

  constructor(index: number, onDeath: (handle: WorkerHandle, why: string) => void) {
    this.index = index;
    this.#onDeath = onDeath;
    this.ready = this.#ready.promise;
    this.stopped = this.#stopped.promise;
    // A failed start is reported by its caller; nobody else need handle it.
    this.ready.catch(() => {});
    this.#worker = new Worker(WORKER_MODULE, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => this.#receive(event.data);
    this.#worker.onerror = (event) => {
      // Unhandled, a worker's error would end the whole process.
      event.preventDefault();
      this.#die(event.message ?? "uncaught error");
    };
    this.#worker.onmessageerror = () => this.#die("a message could not be read");
  }

  /** Whether it died (threw, or was terminated) rather than stopping when asked. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Sends it a message; nothing happens once it is dead. */
  send(message: ToWorker): void {
    if (!this.#dead) this.#worker.postMessage(message);
  }

  /** Asks it to apply a configuration; a dead worker answers with a problem. */
  reload(
    message: Omit<Extract<ToWorker, { type: "reload" }>, "id" | "type">,
  ): Promise<{ result: ReloadResult; listeners: readonly BoundListener[] }> {
    const id = this.#nextId++;
    const { promise, resolve } = Promise.withResolvers<
      { result: ReloadResult; listeners: readonly BoundListener[] }
    >();
    if (this.#dead) resolve(this.#deadAnswer());
    else {
      this.#reloads.set(id, resolve);
      this.send({ type: "reload", id, ...message });
    }
    return promise;
  }

  /** Ends it at once, as a crash would: its connections close, its requests in flight fail. */
  kill(why: string): void {
    this.#worker.terminate();
    this.#die(why);
  }

  /** Ends it without telling `onDeath`: the control is stopping, or gave up waiting. */
  terminate(): void {
    this.#dead = true;
    this.#worker.terminate();
    this.#settle();
  }

  #deadAnswer() {
    const problem = `worker ${this.index} died before it applied the configuration`;
    return { result: { ok: false as const, problems: [problem] }, listeners: [] };
  }

  #receive(message: FromWorker): void {
    switch (message.type) {
      case "ready":
        this.#ready.resolve(message.listeners);
        return;
      case "failed":
        this.#ready.reject(new WorkerStartError(message.error, message.listener, message.code));
        this.terminate();
        return;
      case "reloaded":
        this.#reloads.get(message.id)?.({ result: message.result, listeners: message.listeners });
        this.#reloads.delete(message.id);
        return;
      case "report":
        this.latest = message.snapshot;
        this.drain = message.drain;
        return;
      case "stopped":
        this.terminate();
        return;
    }
  }

  #die(why: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#ready.reject(new WorkerStartError(`worker ${this.index} died while starting: ${why}`));
    this.#settle();
    this.#onDeath(this, why);
  }

  /** Every wait on a worker that is gone settles. */
  #settle(): void {
    for (const resolve of this.#reloads.values()) resolve(this.#deadAnswer());
    this.#reloads.clear();
    this.#ready.reject(new WorkerStartError(`worker ${this.index} stopped before it was ready`));
    this.#stopped.resolve();
  }
}
