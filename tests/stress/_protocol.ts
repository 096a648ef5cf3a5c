/**
 * The echo protocol of the stress run, shared by its clients and backends.
 *
 * Every request carries its index in the target (`/r/<index>?k=<kind>&d=<ms>`)
 * and a client-chosen `X-Request-ID`. A backend answers with what it
 * *received*: a first line of JSON (request id, method, target, body, its own
 * name, and how many lines follow), then the request id repeated on every
 * line up to the body size asked for. A client can then tell, line by line,
 * that the bytes it reads were made for its own request and no other, and
 * that a body which ended cleanly really was complete.
 *
 * @module
 */

/** Response body sizes: small (the JSON line only), medium (read whole by Aegis), big (streamed). */
export type BodyKind = "s" | "m" | "b";

/**
 * Approximate body bytes per kind. Medium stays under Aegis's 64 KiB
 * whole-body threshold and big goes over it, so both response paths run.
 */
export const BODY_BYTES: Readonly<Record<BodyKind, number>> = { s: 0, m: 16 * 1024, b: 96 * 1024 };

/** What a backend says it received, on the first line of its body. */
export interface EchoMeta {
  /** The `X-Request-ID` the backend received. */
  readonly id: string;
  readonly method: string;
  /** Path and query as received. */
  readonly target: string;
  /** The request body as received (empty for GET). */
  readonly body: string;
  /** The backend's name. */
  readonly backend: string;
  /** How many lines of the request id follow. */
  readonly lines: number;
}

/** A parsed stress target. */
export interface StressTarget {
  readonly index: number;
  readonly kind: BodyKind;
  readonly delayMs: number;
}

/** The request target for request `index`. */
export function targetOf(index: number, kind: BodyKind, delayMs: number): string {
  return `/r/${index}?k=${kind}&d=${delayMs}`;
}

const TARGET = /^\/r\/(\d+)\?k=([smb])&d=(\d+)$/;

/** Parses a target made by {@linkcode targetOf}; `undefined` for anything else. */
export function parseTarget(target: string): StressTarget | undefined {
  const m = TARGET.exec(target);
  if (!m) return undefined;
  return { index: Number(m[1]), kind: m[2] as BodyKind, delayMs: Number(m[3]) };
}

/** The request id of request `index`: a plain token, so Aegis keeps it. */
export function requestIdOf(index: number): string {
  return `s-${index}`;
}

/** The index in a request id made by {@linkcode requestIdOf}, or -1. */
export function indexOfRequestId(id: unknown): number {
  if (typeof id !== "string" || !id.startsWith("s-")) return -1;
  const n = Number(id.slice(2));
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/** Lines of the request id that follow the JSON line for a body of `kind`. */
export function fillerLines(id: string, kind: BodyKind): number {
  return Math.ceil(BODY_BYTES[kind] / (id.length + 1));
}

const encoder = new TextEncoder();
/** Lines per chunk of a streamed body: about 16 KiB. */
const CHUNK_BYTES = 16 * 1024;

/**
 * The body for `meta`, as chunks: the JSON line first, then the filler
 * lines about 16 KiB at a time.
 */
export function* echoChunks(meta: EchoMeta): Generator<Uint8Array<ArrayBuffer>> {
  yield encoder.encode(JSON.stringify(meta) + "\n");
  const line = meta.id + "\n";
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / line.length));
  for (let left = meta.lines; left > 0; left -= perChunk) {
    yield encoder.encode(line.repeat(Math.min(left, perChunk)));
  }
}

/** The whole body for `meta` in one piece. */
export function echoBytes(meta: EchoMeta): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(meta) + "\n" + (meta.id + "\n").repeat(meta.lines));
}

/** The `error` text Aegis writes for each status it answers itself (README, Security layers). */
export const AEGIS_ERRORS: Readonly<Record<number, string>> = {
  429: "too many requests",
  502: "bad gateway",
  503: "no healthy backend",
  504: "gateway timeout",
};
