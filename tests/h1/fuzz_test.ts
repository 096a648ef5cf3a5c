import assert from "node:assert/strict";
import { ChunkedDecoder } from "../../src/h1/chunked.ts";
import { H1ProtocolError } from "../../src/h1/errors.ts";
import { parseResponseHead, type ResponseHead } from "../../src/h1/parse.ts";
import {
  chunked,
  concat,
  generate,
  type Generated,
  randomBody,
  Rng,
  split,
  toBytes,
  toText,
} from "./_generate.ts";
import { type HeadVerdict, referenceChunked, referenceHead } from "./_reference.ts";

const none = { permissions: "none" } as const;

// Every case derives its own seed from these, and every assertion message
// names it: to replay one case, call validCase(seed) or mutatedCase(seed).
const MASTER_SEED = 0x5eed_a361;
const VALID_CASES = 6_000;
/** Damaged messages: MUTATED_BASES generated responses, VARIANTS damaged copies of each. */
const MUTATED_BASES = 4_000;
const VARIANTS = 4;
/** Chunked bodies damaged on their own, where head mutations rarely reach. */
const CHUNKED_CASES = 6_000;

function seedOf(i: number): number {
  return (Math.imul(i + 1, 0x9e3779b1) ^ MASTER_SEED) >>> 0;
}

function hex(seed: number): string {
  return `seed=0x${seed.toString(16)}`;
}

function framingOf(head: ResponseHead): string {
  const f = head.framing;
  return f.kind === "length" ? `length:${f.length}` : f.kind;
}

/** Runs `f`, turning an H1ProtocolError into `"invalid"` and failing on any other throw. */
function guarded<T>(label: string, f: () => T): T | "invalid" {
  try {
    return f();
  } catch (e) {
    if (e instanceof H1ProtocolError) return "invalid";
    throw new Error(`${label}: threw something other than H1ProtocolError: ${e}`, { cause: e });
  }
}

/** A generated response, fed in random pieces the way a transport would read it. */
function validCase(seed: number): void {
  const rng = new Rng(seed);
  const g = generate(rng);
  const label = hex(seed);
  const options = { maxHeaderBytes: 65_536, requestMethod: g.method };
  const pieces = split(rng, g.wire, 6);

  let buf: Uint8Array = new Uint8Array(0);
  let next = 0;
  let parsed;
  while (!parsed) {
    assert.ok(next < pieces.length, `${label}: the head never completed`);
    buf = concat([buf, pieces[next++]!]);
    parsed = parseResponseHead(buf, options);
  }
  const { head, consumed } = parsed;
  assert.equal(consumed, g.headLength, label);
  assert.equal(head.status, g.status, label);
  assert.equal(head.version, g.version, label);
  assert.equal(head.reason, g.reason, label);
  assert.deepEqual(head.headers, g.headers, label);
  assert.equal(framingOf(head), g.framing, label);
  assert.equal(head.keepAlive, g.keepAlive, label);
  assert.equal(head.interim, g.status < 200, label);

  const rest = [buf.subarray(consumed), ...pieces.slice(next)];
  let body: Uint8Array;
  let after: Uint8Array;
  if (head.framing.kind === "chunked") {
    const decoder = new ChunkedDecoder();
    const data: Uint8Array[] = [];
    const left: Uint8Array[] = [];
    for (const piece of rest) {
      if (decoder.done) {
        left.push(piece);
        continue;
      }
      const r = decoder.push(piece);
      data.push(...r.data);
      if (r.done) left.push(piece.subarray(r.consumed));
      else assert.equal(r.consumed, piece.length, `${label}: consumed all before done`);
    }
    assert.ok(decoder.done, `${label}: the chunked body never ended`);
    body = concat(data);
    after = concat(left);
  } else {
    const all = concat(rest);
    const length = head.framing.kind === "length"
      ? head.framing.length
      : head.framing.kind === "close"
      ? all.length
      : 0;
    body = all.subarray(0, length);
    after = all.subarray(length);
  }
  assert.deepEqual(body, g.body, `${label}: body`);
  assert.deepEqual(after, g.trailing, `${label}: bytes after the message`);
}

const INTERESTING = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x3d, 0x22, 0x5c, 0x30, 0x39];
const MORE_INTERESTING = [...INTERESTING, 0x61, 0x46, 0x7f, 0x80, 0xff, 0x01, 0x0b, 0x2d, 0x2b];
const LENGTHS = ["0", "5", "12", "+1", "-1", "1,2", " 7 ", "", "0x10", "1".repeat(16), "1 2", "5,"];

/** Damages `s` (a whole response as text) once, mostly in the head. */
function mutate(rng: Rng, s: string, g: Generated): string {
  const head = rng.chance(0.8) ? g.headLength : s.length;
  const at = rng.int(Math.max(1, head));
  const lineStarts = [...s.slice(0, g.headLength - 2).matchAll(/\r\n/g)].map((m) => m.index + 2);
  const lineAt = rng.pick(lineStarts.length > 0 ? lineStarts : [0]);
  const insertLine = (line: string) => s.slice(0, lineAt) + line + "\r\n" + s.slice(lineAt);
  const byte = () => String.fromCharCode(rng.pick(MORE_INTERESTING));
  switch (rng.int(12)) {
    case 0:
      return s.slice(0, at) + byte() + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + byte() + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + 1);
    case 3:
      return insertLine(`${rng.pick(["Content-Length", "content-length"])}: ${rng.pick(LENGTHS)}`);
    case 4:
      return insertLine(
        `Transfer-Encoding: ${
          rng.pick(["chunked", "gzip, chunked", "identity", "chunked, chunked"])
        }`,
      );
    case 5: // fold a line
      return s.slice(0, at) + rng.pick(["\r\n ", "\r\n\t", "\n "]) + s.slice(at);
    case 6: { // CRLF → LF or CR
      const crlf = rng.pick(lineStarts.length > 0 ? lineStarts : [2]) - 2;
      return s.slice(0, crlf) + rng.pick(["\n", "\r", "\r\r\n", "\n\r"]) + s.slice(crlf + 2);
    }
    case 7: { // whitespace before a colon
      const colon = s.indexOf(":", at);
      return colon < 0 ? s : s.slice(0, colon) + rng.pick([" ", "\t"]) + s.slice(colon);
    }
    case 8:
      return s.replace(
        /^HTTP\/1\.[01]/,
        rng.pick(["HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/1.2"]),
      );
    case 9: { // another status code, in range or not
      const code = rng.pick(["101", "099", "600", "1000", "99", String(rng.range(0, 999))]);
      return s.replace(/^(HTTP\/1\.[01] )\d\d\d/, `$1${code}`);
    }
    case 10: { // repeat a line
      const end = s.indexOf("\r\n", lineAt);
      return end < 0 ? s : insertLine(s.slice(lineAt, end));
    }
    default:
      return s.slice(0, at) + String.fromCharCode(rng.pick(INTERESTING)).repeat(rng.range(1, 3)) +
        s.slice(at);
  }
}

/** The parser must agree with the reference on `text`, in both directions. */
function agree(label: string, text: string, method: string, max: number): HeadVerdict {
  const expected = referenceHead(text, method, max);
  const got = guarded(
    label,
    () => parseResponseHead(toBytes(text), { maxHeaderBytes: max, requestMethod: method }),
  );
  if (expected.kind === "invalid") {
    assert.equal(
      got,
      "invalid",
      `${label}: accepted what the reference refuses: ${JSON.stringify(text.slice(0, 300))}`,
    );
  } else if (expected.kind === "incomplete") {
    assert.equal(got, undefined, `${label}: ${JSON.stringify(text.slice(0, 300))}`);
  } else {
    assert.ok(
      got && got !== "invalid",
      `${label}: refused what the reference accepts: ${JSON.stringify(text.slice(0, 300))}`,
    );
    const h = got.head;
    assert.deepEqual(
      [got.consumed, h.status, h.version, h.reason, h.headers, framingOf(h), h.keepAlive],
      [
        expected.consumed,
        expected.status,
        expected.version,
        expected.reason,
        expected.headers,
        expected.framing,
        expected.keepAlive,
      ],
      label,
    );
  }
  return expected;
}

/**
 * Damaged copies of one generated response: each is refused exactly when
 * the reference refuses it, and a chunked body it accepts decodes to what
 * the reference reads.
 */
function mutatedCase(seed: number): void {
  const rng = new Rng(seed);
  const g = generate(rng);
  const original = toText(g.wire);
  for (let variant = 0; variant < VARIANTS; variant++) {
    let text = original;
    for (let n = rng.range(1, 3); n > 0; n--) text = mutate(rng, text, g);
    const label = `${hex(seed)} variant ${variant}`;
    const max = rng.chance(0.2) ? g.headLength + rng.range(-4, 4) : 65_536;
    // The head's verdict depends on nothing past its end, so the body need
    // not be converted and scanned each time; any cut is a fair input too.
    const cut = text.slice(0, g.headLength + rng.range(0, 256));
    const verdict = agree(label, cut, g.method, max);
    agree(`${label} (prefix)`, cut.slice(0, rng.range(0, cut.length)), g.method, max);
    if (verdict.kind === "valid" && verdict.framing === "chunked") {
      checkChunked(rng, label, text, verdict.consumed);
    }
  }
}

/** The decoder must agree with the reference on the chunked body at `text[start]`. */
function checkChunked(rng: Rng, label: string, text: string, start: number): void {
  const expected = referenceChunked(text, start);
  const decoder = new ChunkedDecoder();
  const data: Uint8Array[] = [];
  let end = -1;
  let at = start;
  const outcome = guarded(label, () => {
    for (const piece of split(rng, toBytes(text.slice(at)), 3)) {
      const r = decoder.push(piece);
      data.push(...r.data);
      if (r.done) {
        end = at + r.consumed;
        return;
      }
      assert.equal(r.consumed, piece.length, `${label}: no progress`);
      at += piece.length;
    }
  });
  if (expected === undefined) {
    assert.ok(
      outcome === "invalid" || !decoder.done,
      `${label}: decoded a body the reference refuses`,
    );
    if (outcome !== "invalid") assert.throws(() => decoder.end(), H1ProtocolError, label);
  } else {
    assert.notEqual(outcome, "invalid", `${label}: refused a body the reference accepts`);
    assert.equal(end, expected.end, label);
    assert.equal(toText(concat(data)), expected.body, label);
  }
}

/** Damages a chunked body once, mostly where its framing is. */
function mutateBody(rng: Rng, s: string): string {
  const framing = [...s.matchAll(/\r\n|[;=" \t]/g)].map((m) => m.index);
  const at = framing.length > 0 && rng.chance(0.7)
    ? rng.pick(framing) + rng.range(-1, 1)
    : rng.int(s.length);
  const byte = () => String.fromCharCode(rng.pick(MORE_INTERESTING));
  switch (rng.int(6)) {
    case 0:
      return s.slice(0, at) + byte() + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + byte() + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + rng.range(1, 3));
    case 3: // a size that disagrees with its data
      return s.replace(/^[0-9a-fA-F]+/, (h) => (parseInt(h, 16) + rng.range(-2, 2)).toString(16));
    case 4:
      return s.slice(0, at) + rng.pick(["\r\n", "\n", "\r", "0\r\n", "X: y\r\n", " ;", '"']) +
        s.slice(at);
    default:
      return s.slice(0, at) + rng.pick([";", "=", " ", "\t", '"', "\\"]) + s.slice(at);
  }
}

/** A random chunked body, damaged 0–2 times, must decode exactly as the reference reads it. */
function chunkedCase(seed: number): void {
  const rng = new Rng(seed);
  let text = toText(concat(chunked(rng, randomBody(rng)))) + rng.pick(["", "HTTP/1.1 200 OK\r\n"]);
  for (let n = rng.range(0, 2); n > 0; n--) text = mutateBody(rng, text);
  checkChunked(rng, hex(seed), text, 0);
}

Deno.test("valid responses parse and decode exactly, however they are split", none, () => {
  for (let i = 0; i < VALID_CASES; i++) validCase(seedOf(i));
});

Deno.test("damaged responses are refused exactly when the reference refuses them", none, () => {
  for (let i = 0; i < MUTATED_BASES; i++) mutatedCase(seedOf(VALID_CASES + i));
});

Deno.test(
  "damaged chunked bodies are refused exactly when the reference refuses them",
  none,
  () => {
    for (let i = 0; i < CHUNKED_CASES; i++) chunkedCase(seedOf(VALID_CASES + MUTATED_BASES + i));
  },
);
