/**
 * A minimal HTTP/1.1 request reader for raw test backends: requests one
 * after another on one connection, with their bodies (Content-Length or
 * chunked), bytes past one request kept for the next. Just strict enough
 * for tests; the server under test is never this one.
 *
 * @module
 */

const dec = new TextDecoder();

/** A request head as a raw backend received it. */
export interface WireHead {
  readonly method: string;
  readonly target: string;
  /** Field names lower-cased; the last value wins. */
  readonly headers: ReadonlyMap<string, string>;
}

/** One request as a raw backend received it. */
export interface WireRequest extends WireHead {
  readonly body: Uint8Array;
}

/** Reads requests from one connection. */
export class RequestReader {
  readonly #conn: Deno.Conn;
  #buf = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The next request, or `undefined` when the peer closed (or reset) between requests. */
  async next(): Promise<WireRequest | undefined> {
    const head = await this.nextHead();
    return head && { ...head, body: await this.body(head) };
  }

  /** The body of the request whose head was just read. */
  body(head: WireHead): Promise<Uint8Array> {
    return head.headers.get("transfer-encoding")?.toLowerCase() === "chunked"
      ? this.#chunked()
      : this.#exactly(Number(head.headers.get("content-length") ?? 0));
  }

  /** The next request's head, its body left unread; `undefined` at the end. */
  async nextHead(): Promise<WireHead | undefined> {
    let end: number;
    while ((end = indexOfBlankLine(this.#buf)) < 0) {
      if (!(await this.#more())) return undefined;
    }
    const lines = dec.decode(this.#buf.subarray(0, end)).split("\r\n");
    this.#buf = this.#buf.subarray(end + 4);
    const [method = "", target = ""] = lines[0]!.split(" ");
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return { method, target, headers };
  }

  async #exactly(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      if (!(await this.#more())) throw new Error("connection closed inside a body");
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async #line(): Promise<string> {
    let nl: number;
    while ((nl = this.#buf.indexOf(0x0a)) < 0) {
      if (!(await this.#more())) throw new Error("connection closed inside a chunked body");
    }
    const line = dec.decode(this.#buf.subarray(0, nl)).replace(/\r$/, "");
    this.#buf = this.#buf.subarray(nl + 1);
    return line;
  }

  async #chunked(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      const size = parseInt(await this.#line(), 16);
      if (size === 0) {
        while ((await this.#line()) !== "") {
          // Trailer fields: ignored.
        }
        break;
      }
      parts.push(await this.#exactly(size));
      await this.#exactly(2);
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  async #more(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.#conn.read(chunk);
    } catch {
      return false;
    }
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }
}

function indexOfBlankLine(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** `promise`, or a rejection naming `what` if it has not settled after `limitMs`. */
export async function within<T>(promise: Promise<T>, what: string, limitMs = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never happened: ${what}`)), limitMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
