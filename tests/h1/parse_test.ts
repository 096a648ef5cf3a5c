import assert from "node:assert/strict";
import { H1ProtocolError } from "../../src/h1/errors.ts";
import { type ParseOptions, parseResponseHead, type ResponseHead } from "../../src/h1/parse.ts";

const none = { permissions: "none" } as const;

/** One byte per character, so tests can write obs-text and control bytes directly. */
function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function options(overrides: Partial<ParseOptions> = {}): ParseOptions {
  return { maxHeaderBytes: 8192, requestMethod: "GET", ...overrides };
}

/** Parses a head that must be complete and valid. */
function parse(s: string, overrides: Partial<ParseOptions> = {}) {
  const parsed = parseResponseHead(bytes(s), options(overrides));
  assert.ok(parsed, `expected a complete head in ${JSON.stringify(s)}`);
  return parsed;
}

function head(s: string, overrides: Partial<ParseOptions> = {}): ResponseHead {
  return parse(s, overrides).head;
}

/** Asserts the parser refuses `s` with `reason`. */
function rejects(s: string, reason: string, overrides: Partial<ParseOptions> = {}): void {
  assert.throws(
    () => parseResponseHead(bytes(s), options(overrides)),
    (e) => e instanceof H1ProtocolError && e.reason === reason,
    `${JSON.stringify(s)} should be refused as ${reason}`,
  );
}

/** A valid head with the given field lines. */
function withFields(...lines: string[]): string {
  return `HTTP/1.1 200 OK\r\n${lines.map((l) => l + "\r\n").join("")}\r\n`;
}

Deno.test("parseResponseHead() reads a typical 200 head", none, () => {
  const text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n" +
    "set-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello";
  const { head: h, consumed } = parse(text);
  assert.equal(consumed, text.length - 5);
  assert.equal(h.status, 200);
  assert.equal(h.reason, "OK");
  assert.equal(h.version, "1.1");
  assert.deepEqual(h.headers, [
    ["Content-Type", "text/plain"],
    ["Content-Length", "5"],
    ["set-cookie", "a=1"],
    ["Set-Cookie", "b=2"],
  ]);
  assert.deepEqual(h.framing, { kind: "length", length: 5 });
  assert.equal(h.keepAlive, true);
  assert.equal(h.interim, false);
});

Deno.test(
  "parseResponseHead() returns undefined until the head is complete, at every split",
  none,
  () => {
    const messages = [
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
      "HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 204\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A:\t\xe9t\xe9 \r\n\r\n0\r\n\r\n",
    ];
    for (const text of messages) {
      const whole = parse(text);
      for (let k = 0; k < whole.consumed; k++) {
        assert.equal(parseResponseHead(bytes(text.slice(0, k)), options()), undefined, `${k}`);
      }
      for (let k = whole.consumed; k <= text.length; k++) {
        assert.deepEqual(parse(text.slice(0, k)), whole, `prefix ${k} of ${JSON.stringify(text)}`);
      }
    }
  },
);

Deno.test("parseResponseHead() checks the status line", none, async (t) => {
  await t.step("accepts HTTP/1.0 and HTTP/1.1 with any reason", () => {
    assert.equal(head("HTTP/1.0 404 Not Found\r\n\r\n").version, "1.0");
    assert.equal(head("HTTP/1.0 404 Not Found\r\n\r\n").reason, "Not Found");
    assert.equal(head("HTTP/1.1 599 x\ty \xff\r\n\r\n").reason, "x\ty \xff");
    assert.equal(head("HTTP/1.1 100 Continue\r\n\r\n").status, 100);
  });
  await t.step("accepts a missing reason with or without the SP", () => {
    assert.equal(head("HTTP/1.1 200 \r\n\r\n").reason, "");
    assert.equal(head("HTTP/1.1 200\r\n\r\n").reason, "");
    assert.equal(head("HTTP/1.1 200  two spaces\r\n\r\n").reason, " two spaces");
  });
  await t.step("refuses anything else as invalid_status_line", () => {
    for (
      const line of [
        "HTTP/1.1 200OK",
        "HTTP/1.1  200 OK",
        "HTTP/1.1 20 OK",
        "HTTP/1.1 2000 OK",
        "HTTP/1.1 099 Low",
        "HTTP/1.1 600 High",
        "HTTP/1.1 0200 OK",
        "HTTP/1.1 2x0 OK",
        "HTTP/2 200 OK",
        "HTTP/2.0 200 OK",
        "HTTP/1.2 200 OK",
        "HTTP/1.1",
        "http/1.1 200 OK",
        " HTTP/1.1 200 OK",
        "HTTP/1.1\t200 OK",
        "ICY 200 OK",
        "HTTP/1.1 200 O\x01K",
        "HTTP/1.1 200 O\x7fK",
        "HTTP/1.1 200 O\rK",
        "HTTP/1.1 200 OK\r",
      ]
    ) rejects(`${line}\r\nContent-Length: 0\r\n\r\n`, "invalid_status_line");
  });
  await t.step("refuses empty lines before the status line", () => {
    rejects("\r\nHTTP/1.1 200 OK\r\n\r\n", "invalid_status_line");
  });
  await t.step("refuses NUL as nul_in_header and 101 as unexpected_101", () => {
    rejects("HTTP/1.1 200 O\0K\r\n\r\n", "nul_in_header");
    rejects("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "unexpected_101");
  });
});

Deno.test("parseResponseHead() refuses bare LF and bare CR", none, async (t) => {
  await t.step("bare LF anywhere is bare_lf, even before the head is complete", () => {
    rejects("HTTP/1.1 200 OK\n\n", "bare_lf");
    rejects("HTTP/1.1 200 OK\r\nA: b\n\r\n", "bare_lf");
    rejects("HTTP/1.1 200 OK\r\nA: b\r\n\n", "bare_lf");
    rejects("\n", "bare_lf");
    rejects("HTTP/1.1 200 OK\nA: b", "bare_lf");
  });
  await t.step("a CR not followed by LF is invalid", () => {
    rejects(withFields("A: b\rc"), "invalid_header");
    rejects(withFields("A\r: b"), "invalid_header");
    rejects(withFields("A: b\r"), "invalid_header");
    rejects(withFields("\rA: b"), "invalid_header");
  });
});

Deno.test("parseResponseHead() checks field lines (RFC 9112 §5)", none, async (t) => {
  await t.step("trims OWS from values and keeps HTAB, SP and obs-text inside", () => {
    assert.deepEqual(head(withFields("A: \t b \t c \t")).headers, [["A", "b \t c"]]);
    assert.deepEqual(head(withFields("A:")).headers, [["A", ""]]);
    assert.deepEqual(head(withFields("A:   ")).headers, [["A", ""]]);
    assert.deepEqual(head(withFields("!#$%&'*+-.^_`|~09azAZ:x")).headers, [
      ["!#$%&'*+-.^_`|~09azAZ", "x"],
    ]);
  });
  await t.step("decodes obs-text as ISO-8859-1, not windows-1252", () => {
    const [[, value]] = head(withFields("A: caf\xe9 \x80\x9f\xff")).headers as [[string, string]];
    assert.deepEqual([...value].map((c) => c.charCodeAt(0)), [
      0x63,
      0x61,
      0x66,
      0xe9,
      0x20,
      0x80,
      0x9f,
      0xff,
    ]);
  });
  await t.step("refuses whitespace before the colon as invalid_header", () => {
    rejects(withFields("A : b"), "invalid_header");
    rejects(withFields("A\t: b"), "invalid_header");
    rejects(withFields("Content-Length : 5"), "invalid_header");
  });
  await t.step("refuses obs-fold, also on the first field line", () => {
    rejects(withFields("A: b", " c"), "obs_fold");
    rejects(withFields("A: b", "\tc"), "obs_fold");
    rejects(withFields(" A: b"), "obs_fold");
  });
  await t.step("refuses NUL in a name or value as nul_in_header", () => {
    rejects(withFields("A: b\0c"), "nul_in_header");
    rejects(withFields("A\0: b"), "nul_in_header");
    rejects(withFields("A: \0"), "nul_in_header");
  });
  await t.step("refuses other control characters, DEL and non-tokens as invalid_header", () => {
    for (const line of ["A: b\x01", "A: \x1f", "A: b\x7f", "A: \x0b", "A: \x0c"]) {
      rejects(withFields(line), "invalid_header");
    }
    for (const line of ["A b", ": b", "A(b): c", "A/b: c", "A@b: c", "\xe9: b", "A\x01: b", "A"]) {
      rejects(withFields(line), "invalid_header");
    }
  });
});

Deno.test("parseResponseHead() checks Content-Length (RFC 9110 §8.6)", none, async (t) => {
  const length = (...lines: string[]) => head(withFields(...lines)).framing;
  await t.step("accepts 1–15 digits, leading zeros included", () => {
    assert.deepEqual(length("Content-Length: 0"), { kind: "length", length: 0 });
    assert.deepEqual(length("content-length:000123"), { kind: "length", length: 123 });
    assert.deepEqual(length("CONTENT-LENGTH: 999999999999999"), {
      kind: "length",
      length: 999_999_999_999_999,
    });
  });
  await t.step("accepts identical repeats, in lines or in a list", () => {
    assert.deepEqual(length("Content-Length: 5", "Content-Length: 5"), {
      kind: "length",
      length: 5,
    });
    assert.deepEqual(length("Content-Length: 5, 5,5"), { kind: "length", length: 5 });
    assert.deepEqual(length("Content-Length: 5 ,\t5"), { kind: "length", length: 5 });
  });
  await t.step("refuses differing values as conflicting_content_length", () => {
    rejects(withFields("Content-Length: 5", "Content-Length: 6"), "conflicting_content_length");
    rejects(withFields("Content-Length: 5, 6"), "conflicting_content_length");
    rejects(withFields("Content-Length: 5, 05"), "conflicting_content_length");
  });
  await t.step("refuses anything but digits as invalid_content_length", () => {
    for (
      const v of ["", "+5", "-5", "5.0", "0x5", "5 5", "1e3", "five", "5,", ",5", "5,,5"]
    ) rejects(withFields(`Content-Length: ${v}`), "invalid_content_length");
    rejects(withFields("Content-Length: 1000000000000000"), "invalid_content_length");
  });
});

Deno.test("parseResponseHead() checks Transfer-Encoding (RFC 9112 §6.1)", none, async (t) => {
  await t.step("accepts exactly one chunked coding, any case", () => {
    for (const v of ["chunked", "Chunked", "CHUNKED", " chunked\t"]) {
      assert.deepEqual(head(withFields(`Transfer-Encoding: ${v}`)).framing, { kind: "chunked" });
    }
  });
  await t.step("refuses any other coding or list as unsupported_transfer_encoding", () => {
    for (
      const v of ["gzip, chunked", "chunked, chunked", "identity", "chunked;q=1", "", "chunked,"]
    ) rejects(withFields(`Transfer-Encoding: ${v}`), "unsupported_transfer_encoding");
    rejects(
      withFields("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
      "unsupported_transfer_encoding",
    );
    rejects(
      withFields("Transfer-Encoding: gzip", "Transfer-Encoding: chunked"),
      "unsupported_transfer_encoding",
    );
  });
  await t.step("refuses Transfer-Encoding in an HTTP/1.0 response", () => {
    rejects(
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      "unsupported_transfer_encoding",
    );
  });
  await t.step("refuses Content-Length next to it as both_length_and_chunked", () => {
    rejects(
      withFields("Content-Length: 5", "Transfer-Encoding: chunked"),
      "both_length_and_chunked",
    );
    rejects(
      withFields("transfer-encoding: chunked", "content-length: 5"),
      "both_length_and_chunked",
    );
    rejects(withFields("Content-Length: x", "Transfer-Encoding: gzip"), "both_length_and_chunked");
  });
});

Deno.test(
  "parseResponseHead() gives bodiless responses no framing but still checks them",
  none,
  async (t) => {
    const NONE = { kind: "none" };
    await t.step("HEAD, 1xx, 204 and 304 have no body whatever the headers say", () => {
      assert.deepEqual(
        head(withFields("Content-Length: 100"), { requestMethod: "HEAD" }).framing,
        NONE,
      );
      assert.deepEqual(
        head(withFields("Transfer-Encoding: chunked"), { requestMethod: "HEAD" }).framing,
        NONE,
      );
      assert.deepEqual(head("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").framing, NONE);
      assert.deepEqual(
        head("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n").framing,
        NONE,
      );
      assert.deepEqual(head("HTTP/1.1 204 No Content\r\n\r\n").framing, NONE);
      assert.deepEqual(head("HTTP/1.1 200 OK\r\n\r\n", { requestMethod: "HEAD" }).framing, NONE);
    });
    await t.step("`head` is not HEAD: methods are case-sensitive (RFC 9110 §9.1)", () => {
      assert.deepEqual(head(withFields("Content-Length: 1"), { requestMethod: "head" }).framing, {
        kind: "length",
        length: 1,
      });
    });
    await t.step("broken framing headers are refused even without a body", () => {
      rejects(withFields("Content-Length: 5", "Content-Length: 6"), "conflicting_content_length", {
        requestMethod: "HEAD",
      });
      rejects("HTTP/1.1 304 Not Modified\r\nContent-Length: -1\r\n\r\n", "invalid_content_length");
      rejects(
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "both_length_and_chunked",
      );
    });
    await t.step("1xx heads are interim", () => {
      const h = head("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n");
      assert.equal(h.interim, true);
      assert.deepEqual(h.framing, NONE);
      assert.equal(head("HTTP/1.1 100 Continue\r\n\r\n").interim, true);
      assert.equal(head("HTTP/1.1 102 Processing\r\n\r\n").interim, true);
      assert.equal(head("HTTP/1.1 199 Whatever\r\n\r\n").interim, true);
      assert.equal(head("HTTP/1.1 200 OK\r\n\r\n").interim, false);
    });
  },
);

Deno.test("parseResponseHead() leaves the next head to the caller after a 1xx", none, () => {
  const buf = bytes(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  );
  const seen: number[] = [];
  let at = 0;
  for (;;) {
    const parsed = parseResponseHead(buf.subarray(at), options());
    assert.ok(parsed);
    at += parsed.consumed;
    seen.push(parsed.head.status);
    if (!parsed.head.interim) break;
  }
  assert.deepEqual(seen, [100, 103, 200]);
  assert.equal(new TextDecoder().decode(buf.subarray(at)), "ok");
});

Deno.test(
  "parseResponseHead() uses close framing when nothing else delimits the body",
  none,
  () => {
    const h = head("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
    assert.deepEqual(h.framing, { kind: "close" });
    assert.equal(h.keepAlive, false);
    const h10 = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
    assert.deepEqual(h10.framing, { kind: "close" });
    assert.equal(h10.keepAlive, false);
  },
);

Deno.test("parseResponseHead() decides keep-alive per RFC 9112 §9.3", none, () => {
  const cases: Array<[string, boolean]> = [
    ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.1 200 OK\r\nconnection: CLOSE\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.1 200 OK\r\nConnection: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.1 204 No Content\r\n\r\n", true],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true],
    ["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.0 200 OK\r\nConnection: KEEP-ALIVE , x\r\nContent-Length: 0\r\n\r\n", true],
    ["HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", false],
    ["HTTP/1.0 304 Not Modified\r\nConnection: keep-alive\r\n\r\n", true],
  ];
  for (const [text, keepAlive] of cases) {
    assert.equal(head(text).keepAlive, keepAlive, JSON.stringify(text));
  }
});

Deno.test("parseResponseHead() enforces maxHeaderBytes on the head only", none, () => {
  const text = withFields("Content-Length: 4", "X-Pad: " + "p".repeat(100)) + "body";
  const size = text.length - 4;
  assert.equal(parse(text, { maxHeaderBytes: size }).consumed, size);
  rejects(text, "header_too_large", { maxHeaderBytes: size - 1 });
  // Incomplete: refused as soon as the buffer reaches the limit without a head.
  const partial = text.slice(0, 60);
  assert.equal(parseResponseHead(bytes(partial), options({ maxHeaderBytes: 61 })), undefined);
  rejects(partial, "header_too_large", { maxHeaderBytes: 60 });
  rejects(partial, "header_too_large", { maxHeaderBytes: 20 });
  rejects("x".repeat(100), "header_too_large", { maxHeaderBytes: 100 });
});

Deno.test("parseResponseHead() refuses CONNECT, which Aegis never sends", none, () => {
  assert.throws(
    () =>
      parseResponseHead(bytes("HTTP/1.1 200 OK\r\n\r\n"), options({ requestMethod: "CONNECT" })),
    TypeError,
  );
});

Deno.test(
  "H1ProtocolError carries a stable reason and never echoes the upstream's bytes",
  none,
  () => {
    try {
      parseResponseHead(bytes(withFields("X-Secret: hunter2\x01")), options());
      assert.fail("expected a throw");
    } catch (e) {
      assert.ok(e instanceof H1ProtocolError);
      assert.ok(e instanceof Error);
      assert.equal(e.name, "H1ProtocolError");
      assert.equal(e.reason, "invalid_header");
      assert.ok(!e.message.includes("hunter2"), e.message);
    }
  },
);
