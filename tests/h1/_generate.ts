/**
 * Random valid HTTP/1.1 responses for the property tests, from a seeded
 * xorshift PRNG so any failing case replays from its seed alone. Text is
 * handled as one character per byte (ISO-8859-1) throughout.
 *
 * @module
 */

/** xorshift32 (Marsaglia 2003): tiny, fast and good enough for test inputs. */
export class Rng {
  #s: number;

  /** @param seed any 32-bit value; 0 is replaced, as xorshift would stay at 0 */
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }

  /** The next 32-bit unsigned value. */
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.#s = x >>> 0);
  }

  /** An integer in `[0, n)`. */
  int(n: number): number {
    return this.next() % n;
  }

  /** An integer in `[lo, hi]`. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** The characters of `tchar` (RFC 9110 §5.6.2). */
export const TCHARS = "!#$%&'*+-.^_`|~0123456789" +
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const VISIBLE = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b))
  .filter((_, b) => (b > 0x20 && b < 0x7f) || b >= 0x80).join("");
const QDTEXT = VISIBLE.replace(/["\\]/g, "") + " \t";

/** One character per byte. */
export function toBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** One byte per character. */
export function toText(b: Uint8Array): string {
  // Widening each byte to a UTF-16 code unit is exactly ISO-8859-1, and the
  // native decoder does it fast; no byte can form a surrogate.
  return utf16.decode(new Uint16Array(b));
}

const utf16 = new TextDecoder("utf-16le");

/** The pieces joined. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function chars(rng: Rng, alphabet: string, min: number, max: number): string {
  let s = "";
  for (let n = rng.range(min, max); n > 0; n--) s += alphabet[rng.int(alphabet.length)];
  return s;
}

function randomCase(rng: Rng, s: string): string {
  return [...s].map((c) => rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase()).join("");
}

function ows(rng: Rng): string {
  return rng.pick(["", "", " ", "\t", "  ", " \t "]);
}

/** A field value without surrounding OWS: visible bytes with SP/HTAB only inside. */
function fieldValue(rng: Rng): string {
  if (rng.chance(0.1)) return "";
  let v = chars(rng, VISIBLE, 1, 1);
  for (let n = rng.range(0, 24); n > 0; n--) {
    v += rng.chance(0.15) ? rng.pick([" ", "\t"]) : chars(rng, VISIBLE, 1, 1);
  }
  return v + chars(rng, VISIBLE, 1, 1);
}

function token(rng: Rng, max = 16): string {
  return chars(rng, TCHARS, 1, max);
}

function extensions(rng: Rng): string {
  let s = "";
  for (let n = rng.range(0, 2); n > 0; n--) {
    s += ows(rng) + ";" + ows(rng) + token(rng, 8);
    if (rng.chance(0.6)) {
      let value = token(rng, 8);
      if (rng.chance(0.5)) {
        value = '"';
        for (let k = rng.range(0, 8); k > 0; k--) {
          value += rng.chance(0.2)
            ? "\\" + chars(rng, VISIBLE + " \t", 1, 1)
            : chars(rng, QDTEXT, 1, 1);
        }
        value += '"';
      }
      s += ows(rng) + "=" + ows(rng) + value;
    }
  }
  return s;
}

/** What a generated response should parse and decode to. */
export interface Generated {
  /** The response, then the bytes that follow it on the connection. */
  readonly wire: Uint8Array;
  readonly method: string;
  readonly headLength: number;
  readonly status: number;
  readonly version: "1.0" | "1.1";
  readonly reason: string;
  readonly headers: Array<[string, string]>;
  readonly framing: string;
  readonly keepAlive: boolean;
  readonly body: Uint8Array;
  readonly trailing: Uint8Array;
}

const SPECIAL = new Set(["content-length", "transfer-encoding", "connection"]);

/** A random valid response, with what parsing and decoding it must give. */
export function generate(rng: Rng): Generated {
  const version = rng.chance(0.85) ? "1.1" : "1.0";
  const method = rng.pick(["GET", "GET", "GET", "POST", "POST", "HEAD"]);
  const status = rng.chance(0.7)
    ? rng.pick([100, 103, 200, 200, 200, 201, 204, 206, 301, 304, 404, 500, 503])
    : rng.range(102, 599);
  const reason = rng.chance(0.2) ? "" : fieldValue(rng);
  let head = `HTTP/${version} ${status}` + (reason === "" ? rng.pick(["", " "]) : " " + reason);
  const headers: Array<[string, string]> = [];
  const add = (name: string, value: string) => {
    headers.push([name, value]);
    head += `\r\n${name}:${ows(rng)}${value}${ows(rng)}`;
  };
  const bodiless = method === "HEAD" || status < 200 || status === 204 || status === 304;
  const kind = rng.pick(version === "1.1" ? ["length", "chunked", "close"] : ["length", "close"]);
  const body = bodiless ? new Uint8Array(0) : randomBody(rng);
  let lengthAt = rng.range(0, 6);
  let connection = "";
  for (let n = rng.range(0, 10); n >= 0; n--) {
    if (n === lengthAt && kind === "length") {
      const name = randomCase(rng, "Content-Length");
      const digits = "0".repeat(rng.range(0, 2)) + body.length;
      add(name, rng.chance(0.15) ? `${digits},${ows(rng)}${digits}` : digits);
      if (rng.chance(0.1)) add(name, digits);
      lengthAt = -1;
    } else if (n === lengthAt && kind === "chunked") {
      add(randomCase(rng, "Transfer-Encoding"), randomCase(rng, "chunked"));
      lengthAt = -1;
    } else if (rng.chance(0.15)) {
      const value = rng.pick(["close", "keep-alive", "Keep-Alive, Upgrade", "x-foo", "CLOSE"]);
      connection += "," + value;
      add(randomCase(rng, "Connection"), value);
    } else {
      let name = token(rng);
      while (SPECIAL.has(name.toLowerCase())) name = token(rng);
      add(name, fieldValue(rng));
    }
  }
  if (lengthAt >= 0 && kind === "length") add("Content-Length", String(body.length));
  if (lengthAt >= 0 && kind === "chunked") add("Transfer-Encoding", "chunked");
  head += "\r\n\r\n";

  const framing = bodiless ? "none" : kind === "length" ? `length:${body.length}` : kind;
  const tokens = connection.toLowerCase().split(",").map((t) => t.trim());
  const keepAlive = framing !== "close" && !tokens.includes("close") &&
    (version === "1.1" || tokens.includes("keep-alive"));
  const encoded = bodiless || kind !== "chunked" ? [body] : chunked(rng, body);
  const trailing = framing === "close" ? new Uint8Array(0) : toBytes(
    rng.pick(["", "HTTP/1.1 200 OK\r\n\r\n", "garbage\n", "\r\n"]),
  );
  const headBytes = toBytes(head);
  return {
    wire: concat([headBytes, ...encoded, trailing]),
    method,
    headLength: headBytes.length,
    status,
    version,
    reason,
    headers,
    framing,
    keepAlive,
    body,
    trailing,
  };
}

/** Random bytes: mostly short, sometimes a few KiB. */
export function randomBody(rng: Rng): Uint8Array {
  const n = rng.chance(0.05) ? rng.range(0, 5000) : rng.range(0, 200);
  const words = new Uint32Array(Math.ceil(n / 4));
  for (let i = 0; i < words.length; i++) words[i] = rng.next();
  return new Uint8Array(words.buffer, 0, n);
}

/** `body` as chunks of random sizes with random extensions, leading zeros and trailers. */
export function chunked(rng: Rng, body: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  const sizeLine = (n: number) => {
    const hex = "0".repeat(rng.range(0, 3)) + randomCase(rng, n.toString(16));
    return toBytes(hex + extensions(rng) + "\r\n");
  };
  for (let at = 0; at < body.length;) {
    const n = Math.min(body.length - at, rng.chance(0.5) ? rng.range(1, 16) : rng.range(1, 3000));
    parts.push(sizeLine(n), body.subarray(at, at + n), toBytes("\r\n"));
    at += n;
  }
  let trailers = "";
  for (let n = rng.chance(0.3) ? rng.range(1, 3) : 0; n > 0; n--) {
    trailers += `${token(rng)}:${ows(rng)}${fieldValue(rng)}${ows(rng)}\r\n`;
  }
  parts.push(sizeLine(0), toBytes(trailers + "\r\n"));
  return parts;
}

/** `bytes` cut at up to `maxCuts` random places. */
export function split(rng: Rng, bytes: Uint8Array, maxCuts: number): Uint8Array[] {
  const cuts = Array.from({ length: rng.range(0, maxCuts) }, () => rng.range(0, bytes.length))
    .sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(from, c));
    from = c;
  }
  return pieces;
}
