/**
 * A second, deliberately naive reading of the rules in `src/h1`, for the
 * property tests: regular expressions over whole lines of ISO-8859-1 text
 * instead of byte state machines. It shares no code with the parser, so a
 * slip in one is unlikely to be repeated in the other.
 *
 * @module
 */

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const FIELD_CHARS = "[\\t \\x21-\\x7e\\x80-\\xff]*";
const STATUS_LINE = new RegExp(`^HTTP/1\\.([01]) ([1-5][0-9][0-9])(?: (${FIELD_CHARS}))?$`);
const FIELD_LINE = new RegExp(`^(${TOKEN}):(${FIELD_CHARS})$`);
const QUOTED =
  '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const EXT = `(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)*`;
const SIZE_LINE = new RegExp(`([0-9A-Fa-f]{1,16})${EXT}\\r\\n`, "y");
const TRAILER_LINE = new RegExp(`${TOKEN}:${FIELD_CHARS}\\r\\n`, "y");

/** The reference's verdict on a head. */
export type HeadVerdict =
  | { readonly kind: "invalid" }
  | { readonly kind: "incomplete" }
  | {
    readonly kind: "valid";
    readonly consumed: number;
    readonly status: number;
    readonly version: "1.0" | "1.1";
    readonly reason: string;
    readonly headers: Array<[string, string]>;
    readonly framing: string;
    readonly keepAlive: boolean;
  };

const trim = (s: string) => s.replace(/^[ \t]+/, "").replace(/[ \t]+$/, "");
const INVALID = { kind: "invalid" } as const;

/** Judges the response head at the start of `s`. */
export function referenceHead(s: string, method: string, maxHeaderBytes: number): HeadVerdict {
  const end = s.indexOf("\r\n\r\n");
  const region = end < 0 ? s : s.slice(0, end + 4);
  if (/(^|[^\r])\n/.test(region) || s.startsWith("\r\n")) return INVALID;
  if (end < 0) return s.length >= maxHeaderBytes ? INVALID : { kind: "incomplete" };
  if (end + 4 > maxHeaderBytes) return INVALID;

  const [statusLine, ...fieldLines] = s.slice(0, end).split("\r\n");
  const m = STATUS_LINE.exec(statusLine!);
  if (!m || m[2] === "101") return INVALID;
  const headers: Array<[string, string]> = [];
  for (const line of fieldLines) {
    const f = FIELD_LINE.exec(line);
    if (!f) return INVALID;
    headers.push([f[1]!, trim(f[2]!)]);
  }
  const values = (name: string) =>
    headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  const version = m[1] === "1" ? "1.1" : "1.0";
  const status = Number(m[2]);
  const lengths = values("content-length");
  const codings = values("transfer-encoding");

  if (lengths.length > 0 && codings.length > 0) return INVALID;
  if (codings.length > 0) {
    const items = codings.join(",").split(",").map(trim);
    if (version === "1.0" || items.length !== 1 || items[0]!.toLowerCase() !== "chunked") {
      return INVALID;
    }
  }
  let length = -1;
  if (lengths.length > 0) {
    const items = lengths.join(",").split(",").map(trim);
    if (!items.every((i) => /^[0-9]{1,15}$/.test(i))) return INVALID;
    if (new Set(items).size !== 1) return INVALID;
    length = Number(items[0]);
  }

  let framing = "close";
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) framing = "none";
  else if (codings.length > 0) framing = "chunked";
  else if (length >= 0) framing = `length:${length}`;
  const tokens = values("connection").join(",").toLowerCase().split(",").map(trim);
  const keepAlive = framing !== "close" && !tokens.includes("close") &&
    (version === "1.1" || tokens.includes("keep-alive"));
  return {
    kind: "valid",
    consumed: end + 4,
    status,
    version,
    reason: m[3] ?? "",
    headers,
    framing,
    keepAlive,
  };
}

/**
 * Judges a chunked body starting at `s[at]`: its data and the index just
 * past its end, or `undefined` when it is invalid or incomplete.
 */
export function referenceChunked(
  s: string,
  at: number,
  maxLineBytes = 4096,
  maxTrailerBytes = 8192,
): { body: string; end: number } | undefined {
  let body = "";
  for (;;) {
    SIZE_LINE.lastIndex = at;
    const m = SIZE_LINE.exec(s);
    if (!m || m[0].length - 2 > maxLineBytes) return undefined;
    const size = parseInt(m[1]!, 16);
    if (size > Number.MAX_SAFE_INTEGER) return undefined;
    at += m[0].length;
    if (size === 0) break;
    if (s.slice(at + size, at + size + 2) !== "\r\n") return undefined;
    body += s.slice(at, at + size);
    at += size + 2;
  }
  let trailerBytes = 0;
  while (!s.startsWith("\r\n", at)) {
    TRAILER_LINE.lastIndex = at;
    const m = TRAILER_LINE.exec(s);
    if (!m) return undefined;
    trailerBytes += m[0].length;
    if (trailerBytes > maxTrailerBytes) return undefined;
    at += m[0].length;
  }
  return { body, end: at + 2 };
}
