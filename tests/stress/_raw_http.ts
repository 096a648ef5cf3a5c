/**
 * Just enough HTTP/1.1 for the raw stress backend: reads request heads and
 * `Content-Length` bodies off a keep-alive connection. Anything else (a
 * chunked request body) is an error, because the stress run never sends one:
 * Aegis forwards the small bodies it sends with their length.
 *
 * @module
 */

const decoder = new TextDecoder();
const HEAD_LIMIT = 64 * 1024;

/** One request as read off the wire. */
export interface RawRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly target: string;
  /** Fields by lower-cased name (the last value wins). */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  /** The client asked to close the connection after this exchange. */
  readonly close: boolean;
}

function headEnd(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** Reads requests one after another from a connection. */
export class RequestReader {
  readonly #conn: Deno.Conn;
  #buf: Uint8Array = new Uint8Array(0);
  readonly #scratch = new Uint8Array(16 * 1024);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The next request, or `null` when the peer closed the connection between requests. */
  async next(): Promise<RawRequest | null> {
    let end: number;
    while ((end = headEnd(this.#buf)) < 0) {
      if (this.#buf.length > HEAD_LIMIT) throw new Error("request head too large");
      if (!(await this.#fill())) {
        if (this.#buf.length === 0) return null;
        throw new Error("connection closed in the middle of a request head");
      }
    }
    const lines = decoder.decode(this.#buf.subarray(0, end)).split("\r\n");
    this.#buf = this.#buf.subarray(end + 4);
    const [method = "", target = ""] = lines[0]!.split(" ");
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    if (headers.has("transfer-encoding")) {
      throw new Error("the raw stress backend does not take chunked request bodies");
    }
    const length = Number(headers.get("content-length") ?? 0);
    while (this.#buf.length < length) {
      if (!(await this.#fill())) throw new Error("connection closed in the middle of a body");
    }
    const body = decoder.decode(this.#buf.subarray(0, length));
    this.#buf = this.#buf.subarray(length);
    return {
      method,
      target,
      headers,
      body,
      close: headers.get("connection")?.toLowerCase() === "close",
    };
  }

  async #fill(): Promise<boolean> {
    const n = await this.#conn.read(this.#scratch);
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(this.#scratch.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }
}

/** Writes all of `bytes`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}
