import assert from "node:assert/strict";
import { ChunkedDecoder } from "../../src/h1/chunked.ts";
import { encodeChunk, LAST_CHUNK, serializeRequestHead } from "../../src/h1/serialize.ts";

const none = { permissions: "none" } as const;

/** The bytes as text, one character per byte. */
function latin1(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

function refuses(method: string, target: string, headers: Array<[string, string]> = []): void {
  assert.throws(
    () => serializeRequestHead(method, target, headers),
    TypeError,
    JSON.stringify([method, target, headers]),
  );
}

Deno.test("serializeRequestHead() writes the request line, fields in order and CRLF", none, () => {
  const head = serializeRequestHead("POST", "/api/v1/items?x=1&y=%20", [
    ["Host", "10.0.0.7:8080"],
    ["content-length", "5"],
    ["X-Dup", "a"],
    ["X-Dup", "b"],
    ["X-Empty", ""],
    ["X-Tab", "a\tb c"],
  ]);
  assert.equal(
    latin1(head),
    "POST /api/v1/items?x=1&y=%20 HTTP/1.1\r\nHost: 10.0.0.7:8080\r\ncontent-length: 5\r\n" +
      "X-Dup: a\r\nX-Dup: b\r\nX-Empty: \r\nX-Tab: a\tb c\r\n\r\n",
  );
  assert.equal(latin1(serializeRequestHead("GET", "*", [])), "GET * HTTP/1.1\r\n\r\n");
  assert.equal(
    latin1(serializeRequestHead("OPTIONS", "http://a.example/x", new Map([["a", "b"]]))),
    "OPTIONS http://a.example/x HTTP/1.1\r\na: b\r\n\r\n",
  );
});

Deno.test("serializeRequestHead() writes obs-text as one byte per character", none, () => {
  const head = serializeRequestHead("GET", "/", [["X-Name", "caf\xe9 \x80\xff"]]);
  const at = latin1(head).indexOf("caf");
  assert.deepEqual([...head.subarray(at, at + 8)], [
    0x63,
    0x61,
    0x66,
    0xe9,
    0x20,
    0x80,
    0xff,
    0x0d,
  ]);
});

Deno.test(
  "serializeRequestHead() refuses anything that could split the request",
  none,
  async (t) => {
    await t.step("methods must be tokens", () => {
      for (const m of ["", "GET ", "G ET", "GET\r\n", "GET\n", "GE\0T", "GÉT", "GET/", "(GET)"]) {
        refuses(m, "/");
      }
    });
    await t.step("targets must be visible ASCII", () => {
      for (
        const target of [
          "",
          "/a b",
          "/a\r\nX: y",
          "/a\n",
          "/a\r",
          "/\0",
          "/\t",
          "/é",
          "/\x7f",
          "/✓",
        ]
      ) refuses("GET", target);
    });
    await t.step("header names must be tokens", () => {
      for (
        const name of ["", "A B", "A:", "A\r\nB", "A\n", "A\0", " A", "A\t", "Á", "a(b)", "a/b"]
      ) {
        refuses("GET", "/", [[name, "v"]]);
      }
    });
    await t.step(
      "header values must not hold CR, LF, NUL, other controls or wide characters",
      () => {
        for (
          const value of [
            "a\r\nX-Evil: 1",
            "a\r\n\r\nGET /evil HTTP/1.1",
            "a\n",
            "a\r",
            "a\0",
            "\x01",
            "\x1f",
            "\x7f",
            "\u0100",
            "✓",
            "\ud83d\ude00",
          ]
        ) refuses("GET", "/", [["X-A", value]]);
      },
    );
    await t.step("a bad header after good ones still refuses the whole head", () => {
      refuses("GET", "/", [["Host", "a"], ["X", "b\r\nc"]]);
    });
  },
);

Deno.test("encodeChunk() frames data as hex size, data and CRLF", none, () => {
  const data = new Uint8Array(300).fill(0x61);
  const parts = encodeChunk(data);
  assert.equal(parts.length, 3);
  assert.equal(latin1(parts[0]!), "12c\r\n");
  assert.equal(parts[1], data, "the data itself, not a copy");
  assert.equal(latin1(parts[2]!), "\r\n");
  assert.equal(latin1(encodeChunk(new Uint8Array(1))[0]!), "1\r\n");
  assert.deepEqual(encodeChunk(new Uint8Array(0)), [], "an empty chunk would end the body");
  assert.equal(latin1(LAST_CHUNK), "0\r\n\r\n");
});

Deno.test("encodeChunk() output decodes back through ChunkedDecoder", none, () => {
  const sizes = [1, 15, 16, 255, 256, 4096, 70_000];
  const pieces = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
  const wire = [...pieces.flatMap(encodeChunk), LAST_CHUNK];
  const all = new Uint8Array(wire.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of wire) {
    all.set(p, at);
    at += p.length;
  }
  const { data, consumed, done } = new ChunkedDecoder().push(all);
  assert.equal(done, true);
  assert.equal(consumed, all.length);
  assert.deepEqual(data, pieces);
});
