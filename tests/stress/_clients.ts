/**
 * The clients of the stress run: what each request looks like, which local
 * address sends it, and what each one got back, checked byte by byte against
 * the request it belongs to.
 *
 * @module
 */

import { AEGIS_ERRORS, type BodyKind, type EchoMeta, requestIdOf, targetOf } from "./_protocol.ts";

/** One request of the run, fully determined by its index. */
export interface RequestSpec {
  readonly index: number;
  readonly id: string;
  readonly method: "GET" | "POST";
  readonly target: string;
  readonly kind: BodyKind;
  /** The POST body (empty for GET). */
  readonly body: string;
  /** Which rate-limited address sends it, or -1 for the exempt one. */
  readonly limited: number;
}

/** Rate-limited client addresses: 127.0.2.1 … 127.0.2.10. */
export const LIMITED_ADDRESSES = 10;
/** The network every other client sends from, exempt from rate limiting. */
export const EXEMPT_NETWORK = "127.0.1.0/24";

/**
 * The request with index `index`. A fixed hash of the index spreads
 * methods, body sizes and client addresses over the run: about 1 in 7 is a
 * POST, 1 in 11 gets a big (streamed) body and 1 in 5 a medium one, 1 in 4
 * comes from a rate-limited address — half of those from one busy address,
 * which therefore keeps its bucket and runs out of tokens, the rest from
 * nine others that take turns being evicted (there are more of them than
 * `rate_limit.max_clients`). `slow` requests ask the backend to wait
 * 20–300 ms before answering, so some are in flight when the drain begins.
 */
export function specFor(index: number, slow: boolean): RequestSpec {
  const h = Math.imul(index + 1, 2654435761) >>> 0;
  const method = h % 7 === 0 ? "POST" : "GET";
  const k = (h >>> 3) % 55;
  const kind: BodyKind = k % 11 === 0 ? "b" : k % 5 === 0 ? "m" : "s";
  const limited = (h >>> 7) % 4 !== 0 ? -1 : (h >>> 9) % 2 === 0 ? 0 : 1 + ((h >>> 10) % 9);
  const delay = slow ? 20 + ((h >>> 12) % 281) : 0;
  const id = requestIdOf(index);
  const body = method === "POST" ? `body-${index}-${"x".repeat((h >>> 14) % 2000)}` : "";
  return { index, id, method, target: targetOf(index, kind, delay), kind, body, limited };
}

/** Rules broken during the run, counted, with a few examples each. */
export class Violations {
  readonly #rules = new Map<string, { count: number; examples: string[] }>();

  /** Records one breach of `rule`. */
  add(rule: string, example: string): void {
    let entry = this.#rules.get(rule);
    if (!entry) this.#rules.set(rule, entry = { count: 0, examples: [] });
    entry.count++;
    if (entry.examples.length < 5) entry.examples.push(example);
  }

  /** Every breach, one line per rule. */
  list(): string[] {
    return [...this.#rules].map(([rule, e]) =>
      `${rule}: ${e.count}× (e.g. ${e.examples.join("; ")})`
    );
  }
}

/** How a request ended, as its client saw it. */
export const Ending = {
  /** Not settled (yet). */
  None: 0,
  /** A response with a complete body. */
  Complete: 1,
  /** A response whose body broke off. */
  Aborted: 2,
  /** No response at all: the connection failed. */
  NoResponse: 3,
} as const;

/** One of {@linkcode Ending}. */
export type Ending = typeof Ending[keyof typeof Ending];

/** What every request got, by index. */
export class Outcomes {
  /** Times each request settled: must end as exactly 1. */
  readonly settled: Uint8Array;
  readonly ending: Uint8Array;
  /** The status received (0 without a response). */
  readonly status: Uint16Array;
  /** Index of the backend named by `x-stress-backend`, or -1 when Aegis answered itself. */
  readonly backend: Int8Array;

  constructor(requests: number) {
    this.settled = new Uint8Array(requests);
    this.ending = new Uint8Array(requests);
    this.status = new Uint16Array(requests);
    this.backend = new Int8Array(requests).fill(-1);
  }

  /** Records the end of request `index`. */
  settle(index: number, ending: Ending, status: number, backend: number): void {
    if (this.settled[index]! < 255) this.settled[index]!++;
    this.ending[index] = ending;
    this.status[index] = status;
    this.backend[index] = backend;
  }
}

/** One `Deno.HttpClient` per local address, all closed together. */
export class ClientSet implements Disposable {
  readonly #clients = new Map<string, Deno.HttpClient>();

  /** The client sending from `address` (created on first use). */
  from(address: string): Deno.HttpClient {
    let client = this.#clients.get(address);
    if (!client) {
      this.#clients.set(address, client = Deno.createHttpClient({ localAddress: address }));
    }
    return client;
  }

  /** The client for `spec`'s address. */
  for(spec: RequestSpec): Deno.HttpClient {
    return this.from(spec.limited < 0 ? "127.0.1.1" : `127.0.2.${spec.limited + 1}`);
  }

  [Symbol.dispose](): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}

function checkMeta(line: string, spec: RequestSpec, backend: string, v: Violations): EchoMeta {
  let meta: EchoMeta;
  try {
    meta = JSON.parse(line);
  } catch {
    v.add("a backend body does not start with its JSON line", `${spec.id}: ${line.slice(0, 80)}`);
    return { id: "", method: "", target: "", body: "", backend: "", lines: -1 };
  }
  if (meta.id !== spec.id) {
    v.add("a body was made for another request id", `${spec.id} got ${meta.id}`);
  }
  if (meta.method !== spec.method || meta.target !== spec.target) {
    v.add(
      "a body was made for another request",
      `${spec.method} ${spec.target} got ${meta.method} ${meta.target}`,
    );
  }
  if (meta.body !== spec.body) {
    v.add("a backend received another request's body", `${spec.id} (${spec.body.length} bytes)`);
  }
  if (meta.backend !== backend) {
    v.add("x-stress-backend and the body disagree", `${spec.id}: ${backend} vs ${meta.backend}`);
  }
  return meta;
}

/**
 * Reads a backend's body, checking every line as it arrives. Returns false
 * when the body broke off (what arrived before that was still checked).
 */
async function readEcho(
  body: ReadableStream<Uint8Array>,
  spec: RequestSpec,
  backend: string,
  v: Violations,
): Promise<boolean> {
  const decoder = new TextDecoder();
  let rest = "";
  let meta: EchoMeta | undefined;
  let lines = 0;
  let foreign = 0;
  const take = (text: string) => {
    const parts = (rest + text).split("\n");
    rest = parts.pop()!;
    for (const line of parts) {
      if (!meta) meta = checkMeta(line, spec, backend, v);
      else {
        lines++;
        if (line !== spec.id) foreign++;
      }
    }
  };
  let complete = true;
  try {
    for await (const chunk of body) take(decoder.decode(chunk, { stream: true }));
    take(decoder.decode());
  } catch {
    complete = false;
  }
  if (foreign > 0) {
    v.add("a body carried lines of another request", `${spec.id}: ${foreign} foreign lines`);
  }
  if (!complete) return false;
  if (!meta || rest !== "" || lines !== meta.lines) {
    v.add(
      "a body that ended cleanly was not whole",
      `${spec.id}: ${lines} of ${meta?.lines} lines, ${rest.length} stray bytes`,
    );
  }
  return true;
}

/** Reads an answer Aegis wrote itself and checks it is the one for its status. */
async function readLocal(res: Response, spec: RequestSpec, v: Violations): Promise<boolean> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return false;
  }
  const expected = AEGIS_ERRORS[res.status];
  if (expected === undefined) {
    v.add("Aegis answered with an unexpected status", `${spec.id}: ${res.status} ${text}`);
  } else if (text !== JSON.stringify({ error: expected })) {
    v.add("Aegis's own answer has the wrong body", `${spec.id}: ${res.status} ${text}`);
  }
  if (res.status === 429 || res.status === 503) {
    if (!res.headers.get("retry-after")) v.add("429/503 without Retry-After", spec.id);
  }
  return true;
}

/**
 * Sends `spec` to Aegis at `base`, checks what comes back and settles it in
 * `out`. Never throws.
 */
export async function sendChecked(
  base: string,
  spec: RequestSpec,
  client: Deno.HttpClient,
  backendNames: readonly string[],
  out: Outcomes,
  v: Violations,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(base + spec.target, {
      method: spec.method,
      headers: { "x-request-id": spec.id },
      body: spec.method === "POST" ? spec.body : undefined,
      client,
    });
  } catch {
    out.settle(spec.index, Ending.NoResponse, 0, -1);
    return;
  }
  const name = res.headers.get("x-stress-backend");
  const backend = name === null ? -1 : backendNames.indexOf(name);
  if (res.headers.get("x-request-id") !== spec.id) {
    v.add(
      "a response carried another X-Request-ID",
      `${spec.id} got ${res.headers.get("x-request-id")}`,
    );
  }
  const echoed = res.headers.get("x-echo-id");
  if (echoed !== null && echoed !== spec.id) {
    v.add("a response carried another request's echo header", `${spec.id} got ${echoed}`);
  }
  let complete: boolean;
  if (name !== null) {
    if (backend < 0) v.add("a response named an unknown backend", `${spec.id}: ${name}`);
    if (res.status !== 200 && res.status !== 500) {
      v.add("a backend answer arrived with a status it never sends", `${spec.id}: ${res.status}`);
    }
    complete = await readEcho(res.body!, spec, name, v);
  } else {
    complete = await readLocal(res, spec, v);
  }
  out.settle(spec.index, complete ? Ending.Complete : Ending.Aborted, res.status, backend);
}
