import assert from "node:assert/strict";
import { ChunkedDecoder, type ChunkedDecoderOptions } from "../../src/h1/chunked.ts";
import { H1ProtocolError } from "../../src/h1/errors.ts";

const none = { permissions: "none" } as const;

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function text(parts: readonly Uint8Array[]): string {
  return parts.map((p) => String.fromCharCode(...p)).join("");
}

/** Feeds `pieces` in order until done; returns the body and the bytes left over. */
function decodePieces(pieces: readonly string[], options?: ChunkedDecoderOptions) {
  const decoder = new ChunkedDecoder(options);
  const body: Uint8Array[] = [];
  let rest = "";
  for (const piece of pieces) {
    if (decoder.done) {
      rest += piece;
      continue;
    }
    const input = bytes(piece);
    const { data, consumed, done } = decoder.push(input);
    body.push(...data);
    if (!done) assert.equal(consumed, input.length, "every byte is used until done");
    else rest += piece.slice(consumed);
  }
  return { body: text(body), rest, done: decoder.done };
}

function decode(s: string, options?: ChunkedDecoderOptions) {
  return decodePieces([s], options);
}

function rejects(s: string, reason: string, options?: ChunkedDecoderOptions): void {
  assert.throws(
    () => new ChunkedDecoder(options).push(bytes(s)),
    (e) => e instanceof H1ProtocolError && e.reason === reason,
    `${JSON.stringify(s)} should be refused as ${reason}`,
  );
}

Deno.test("ChunkedDecoder decodes chunks and stops at the end of the message", none, () => {
  assert.deepEqual(decode("5\r\nhello\r\n0\r\n\r\n"), { body: "hello", rest: "", done: true });
  assert.deepEqual(decode("3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"), {
    body: "abc0123456789",
    rest: "HTTP/1.1 200 OK\r\n",
    done: true,
  });
  assert.deepEqual(decode("0\r\n\r\n"), { body: "", rest: "", done: true });
  assert.deepEqual(decode("a\r\n0123456789\r\n00\r\n\r\n").body, "0123456789");
  assert.deepEqual(decode("0000000000000001\r\nx\r\n0\r\n\r\n").body, "x");
  assert.equal(decode("5\r\nhello\r\n").done, false);
});

Deno.test("ChunkedDecoder returns views into the input, not copies", none, () => {
  const input = bytes("5\r\nhello\r\n0\r\n\r\n");
  const { data } = new ChunkedDecoder().push(input);
  assert.equal(data.length, 1);
  assert.equal(data[0]!.buffer, input.buffer);
  assert.equal(data[0]!.byteOffset, 3);
});

Deno.test("ChunkedDecoder gives the same result however the input is split", none, () => {
  const messages = [
    "5\r\nhello\r\n0\r\n\r\n",
    '3;a=b\r\nabc\r\n1 ; x = "q\\"" ;y\r\nd\r\n0\r\nX-T: 1\r\nY:\r\n\r\nNEXT',
    "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0;end\r\n\r\n",
  ];
  for (const message of messages) {
    const whole = decode(message);
    assert.equal(whole.done, true);
    for (let k = 0; k <= message.length; k++) {
      assert.deepEqual(decodePieces([message.slice(0, k), message.slice(k)]), whole, `split ${k}`);
    }
    assert.deepEqual(decodePieces([...message]), whole, "byte by byte");
  }
});

Deno.test("ChunkedDecoder checks chunk sizes", none, async (t) => {
  await t.step("refuses non-hex, signs, prefixes and whitespace as invalid_chunk_size", () => {
    for (const line of ["g", "", " 5", "-5", "+5", "0x5", "5g", "\t5", ";a", "5\x00"]) {
      rejects(`${line}\r\nhello\r\n0\r\n\r\n`, "invalid_chunk_size");
    }
  });
  await t.step("allows 16 digits, refuses 17 and anything over 2^53 - 1", () => {
    rejects("00000000000000001\r\n", "invalid_chunk_size");
    rejects("20000000000000\r\n", "invalid_chunk_size");
    rejects("ffffffffffffffff\r\n", "invalid_chunk_size");
    // The largest safe size parses; the data simply has not come yet.
    assert.equal(decode("1fffffffffffff\r\nabc").done, false);
    assert.equal(decode("001fffffffffffff\r\nabc").body, "abc");
  });
  await t.step("whitespace after the size is allowed only before an extension", () => {
    rejects("5 \r\nhello\r\n0\r\n\r\n", "invalid_chunk_extension");
    rejects("5\t\r\nhello\r\n0\r\n\r\n", "invalid_chunk_extension");
    rejects("5 5\r\nhello\r\n0\r\n\r\n", "invalid_chunk_extension");
  });
});

Deno.test("ChunkedDecoder checks chunk extensions (RFC 9112 §7.1.1)", none, async (t) => {
  await t.step("accepts the whole grammar and ignores it", () => {
    for (
      const ext of [
        ";a",
        ";a=b",
        ' ; a = "b c"',
        ';a="q\\"x\\\\"',
        ";a;b=c;d",
        "\t;\ta\t=\tb",
        ';a=""',
        ';a="\xe9\t"',
        ";!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
      ]
    ) assert.equal(decode(`5${ext}\r\nhello\r\n0${ext}\r\n\r\n`).body, "hello", ext);
  });
  await t.step("refuses anything else as invalid_chunk_extension", () => {
    for (
      const ext of [
        ";",
        ";a=",
        ";a b",
        ";a=b c",
        ";=b",
        ';a="b',
        ';a="\x01"',
        ";a=b ",
        ";a ",
        ";a\x7f",
        ";a=b;",
        ';a="b"c',
        ";a=@",
        ';a="\\\x00"',
        ";a,b",
      ]
    ) rejects(`5${ext}\r\nhello\r\n0\r\n\r\n`, "invalid_chunk_extension");
  });
});

Deno.test("ChunkedDecoder requires CRLF around chunk data", none, () => {
  rejects("5\r\nhelloX\r\n0\r\n\r\n", "invalid_chunk");
  rejects("5\r\nhello\rX0\r\n\r\n", "invalid_chunk");
  rejects("5\r\nhello\n0\r\n\r\n", "invalid_chunk");
  rejects("5\r\nhello world\r\n", "invalid_chunk");
  rejects("5\rX\nhello\r\n", "invalid_chunk");
  rejects("5\n", "bare_lf");
  rejects("5;a=b\n", "bare_lf");
});

Deno.test("ChunkedDecoder limits the chunk-size line", none, () => {
  const options = { maxLineBytes: 10 };
  assert.equal(decode("5;abcdefgh\r\nhello\r\n0\r\n\r\n", options).body, "hello");
  rejects("5;abcdefghi\r\nhello\r\n0\r\n\r\n", "chunked_body_too_long_line", options);
  rejects("00000000001\r\nx\r\n", "chunked_body_too_long_line", options);
  // An endless line is refused as soon as it is too long, however it arrives.
  const decoder = new ChunkedDecoder(options);
  decoder.push(bytes("5;aaaa"));
  assert.throws(() => decoder.push(bytes("aaaaa")), H1ProtocolError);
  rejects("5;" + "a".repeat(5000), "chunked_body_too_long_line");
});

Deno.test("ChunkedDecoder checks and discards trailers (RFC 9112 §7.1.2)", none, async (t) => {
  await t.step("accepts valid trailer fields", () => {
    assert.deepEqual(decode("1\r\nx\r\n0\r\nX-A: 1\r\nX-B:\t2 \r\n\r\nrest"), {
      body: "x",
      rest: "rest",
      done: true,
    });
  });
  await t.step("refuses broken trailer lines like header lines", () => {
    rejects("0\r\nbad line\r\n\r\n", "invalid_header");
    rejects("0\r\nA : b\r\n\r\n", "invalid_header");
    rejects("0\r\nA: b\r\n c\r\n\r\n", "obs_fold");
    rejects("0\r\nA: b\0\r\n\r\n", "nul_in_header");
    rejects("0\r\nA: b\rc\r\n\r\n", "invalid_header");
    rejects("0\r\nA: b\n\r\n", "bare_lf");
    rejects("0\r\n\n", "bare_lf");
    rejects("0\r\n\r\r\n", "invalid_header");
  });
  await t.step("limits the trailer section, final empty line excluded", () => {
    const message = "0\r\nA: 12\r\nB: 3\r\n\r\n"; // field lines: 7 + 6 bytes
    assert.equal(decode(message, { maxTrailerBytes: 13 }).done, true);
    rejects(message, "trailer_too_large", { maxTrailerBytes: 12 });
    assert.equal(decode("0\r\n\r\n", { maxTrailerBytes: 0 }).done, true);
    rejects("0\r\nA: b\r\n\r\n", "trailer_too_large", { maxTrailerBytes: 0 });
    rejects("0\r\nA: " + "b".repeat(10_000), "trailer_too_large");
  });
  await t.step("keeps its own copy of a trailer line split across pushes", () => {
    const decoder = new ChunkedDecoder();
    const first = bytes("0\r\nX-A: 1");
    decoder.push(first);
    first.fill(0); // the caller reuses its buffer
    const { done, consumed } = decoder.push(bytes("\r\n\r\n"));
    assert.equal(done, true);
    assert.equal(consumed, 4);
  });
});

Deno.test("ChunkedDecoder after the end consumes nothing", none, () => {
  const decoder = new ChunkedDecoder();
  assert.equal(decoder.push(bytes("0\r\n\r\n")).done, true);
  assert.deepEqual(decoder.push(bytes("more")), { data: [], consumed: 0, done: true });
  decoder.end();
});

Deno.test("ChunkedDecoder keeps failing once it has failed", none, () => {
  const decoder = new ChunkedDecoder();
  assert.throws(() => decoder.push(bytes("zz\r\n")), H1ProtocolError);
  assert.throws(
    () => decoder.push(bytes("0\r\n\r\n")),
    (e) => e instanceof H1ProtocolError && e.reason === "invalid_chunk_size",
  );
});

Deno.test("ChunkedDecoder.end() reports a body cut short as truncated", none, () => {
  for (const partial of ["", "5\r\nhel", "5\r\nhello\r\n", "0\r\n", "0\r\nA: b\r\n"]) {
    const decoder = new ChunkedDecoder();
    decoder.push(bytes(partial));
    assert.throws(
      () => decoder.end(),
      (e) => e instanceof H1ProtocolError && e.reason === "truncated",
      JSON.stringify(partial),
    );
  }
});
