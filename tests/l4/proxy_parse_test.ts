import assert from "node:assert/strict";
import { parseProxyHeader, PROXY_V2_SIGNATURE } from "../../src/l4/mod.ts";

const none = { permissions: "none" } as const;
const ascii = (s: string) => new TextEncoder().encode(s);
const v2 = (...rest: number[]) => Uint8Array.of(...PROXY_V2_SIGNATURE, ...rest);

/** The reason a header is refused, or the whole result when it is not. */
function refusal(bytes: Uint8Array): string {
  const got = parseProxyHeader(bytes);
  return got.status === "invalid" ? got.reason : JSON.stringify(got);
}

Deno.test("parseProxyHeader() reads a v1 line and says where the data begins", none, async (t) => {
  await t.step("TCP4, followed by the client's first bytes", () => {
    assert.deepEqual(
      parseProxyHeader(ascii("PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\nHELO")),
      {
        status: "complete",
        length: 45,
        header: {
          version: 1,
          endpoints: {
            source: { ip: "203.0.113.7", port: 51000 },
            destination: { ip: "192.0.2.10", port: 443 },
          },
        },
      },
    );
  });
  await t.step("TCP6, upper case and uncompressed forms accepted", () => {
    const got = parseProxyHeader(ascii("PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 0 65535\r\n"));
    assert.deepEqual(got, {
      status: "complete",
      length: 45,
      header: {
        version: 1,
        endpoints: {
          source: { ip: "2001:db8::1", port: 0 },
          destination: { ip: "::1", port: 65535 },
        },
      },
    });
  });
  await t.step("TCP6 with IPv4-mapped addresses gives IPv4", () => {
    const got = parseProxyHeader(ascii("PROXY TCP6 ::ffff:10.0.0.1 ::ffff:10.0.0.2 1 2\r\n"));
    assert.equal(got.status === "complete" && got.header.endpoints?.source.ip, "10.0.0.1");
  });
  await t.step("UNKNOWN, short and long, keeps the real endpoints", () => {
    assert.deepEqual(parseProxyHeader(ascii("PROXY UNKNOWN\r\n")), {
      status: "complete",
      length: 15,
      header: { version: 1 },
    });
    const long = "PROXY UNKNOWN ffff:f::f:ffff ffff:f::f:ffff 65535 65535\r\n";
    assert.deepEqual(parseProxyHeader(ascii(long)), {
      status: "complete",
      length: long.length,
      header: { version: 1 },
    });
  });
  await t.step("a line of exactly 107 bytes, the longest allowed", () => {
    const longest = "PROXY UNKNOWN " + "f".repeat(91) + "\r\n";
    assert.equal(longest.length, 107);
    assert.equal(parseProxyHeader(ascii(longest)).status, "complete");
  });
});

Deno.test(
  "parseProxyHeader() asks for more bytes while a v1 line is incomplete",
  none,
  async (t) => {
    for (
      const part of ["P", "PROXY", "PROXY ", "PROXY TCP4 10.0.0.1 10.0.0.2 1 2", "PROXY UNKNOWN\r"]
    ) {
      await t.step(JSON.stringify(part), () => {
        assert.deepEqual(parseProxyHeader(ascii(part)), { status: "partial" });
      });
    }
  },
);

Deno.test("parseProxyHeader() refuses a malformed v1 line", none, async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ["a bad signature", "PROXZ TCP4 10.0.0.1 10.0.0.2 1 2\r\n", /not a PROXY/],
    ["no CRLF within 107 bytes", "PROXY UNKNOWN " + "f".repeat(100), /without CRLF/],
    ["a line of 108 bytes", "PROXY UNKNOWN " + "f".repeat(92) + "\r\n", /without CRLF/],
    ["LF without CR", "PROXY TCP4 10.0.0.1 10.0.0.2 1 2\n", /LF without CR/],
    ["a lone CR", "PROXY TCP4 10.0.0.1\r10.0.0.2 1 2\r\n", /not part of a PROXY line/],
    ["a control byte", "PROXY TCP4 10.0.0.1\t10.0.0.2 1 2\r\n", /not part of a PROXY line/],
    ["an unknown family", "PROXY TCP5 10.0.0.1 10.0.0.2 1 2\r\n", /unknown family/],
    ["a missing field", "PROXY TCP4 10.0.0.1 10.0.0.2 1\r\n", /six fields/],
    ["an extra field", "PROXY TCP4 10.0.0.1 10.0.0.2 1 2 3\r\n", /six fields/],
    ["two spaces", "PROXY TCP4 10.0.0.1  10.0.0.2 1 2\r\n", /six fields/],
    ["a non-numeric port", "PROXY TCP4 10.0.0.1 10.0.0.2 http 2\r\n", /port/],
    ["a negative port", "PROXY TCP4 10.0.0.1 10.0.0.2 -1 2\r\n", /port/],
    ["a port over 65535", "PROXY TCP4 10.0.0.1 10.0.0.2 1 65536\r\n", /port/],
    ["a port with a leading zero", "PROXY TCP4 10.0.0.1 10.0.0.2 01 2\r\n", /port/],
    ["an IPv4 part with a leading zero", "PROXY TCP4 10.0.0.01 10.0.0.2 1 2\r\n", /not IPv4/],
    ["an IPv6 address under TCP4", "PROXY TCP4 ::1 10.0.0.2 1 2\r\n", /not IPv4/],
    ["an IPv4 address under TCP6", "PROXY TCP6 10.0.0.1 ::1 1 2\r\n", /not IPv6/],
    ["a bracketed IPv6 address", "PROXY TCP6 [::1] ::1 1 2\r\n", /not IPv6/],
    ["an IPv6 zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", /not IPv6/],
    ["a host name", "PROXY TCP4 example.com 10.0.0.2 1 2\r\n", /not IPv4/],
  ];
  for (const [name, line, reason] of cases) {
    await t.step(name, () => assert.match(refusal(ascii(line)), reason));
  }
});

Deno.test(
  "parseProxyHeader() reads a v2 header and says where the data begins",
  none,
  async (t) => {
    await t.step("TCP over IPv4, followed by the client's first bytes", () => {
      const bytes = v2(
        0x21,
        0x11,
        0x00,
        0x0c,
        203,
        0,
        113,
        7,
        192,
        0,
        2,
        10,
        0xc7,
        0x38,
        0x01,
        0xbb,
        0x68,
      );
      assert.deepEqual(parseProxyHeader(bytes), {
        status: "complete",
        length: 28,
        header: {
          version: 2,
          endpoints: {
            source: { ip: "203.0.113.7", port: 51000 },
            destination: { ip: "192.0.2.10", port: 443 },
          },
        },
      });
    });
    await t.step("TCP over IPv6", () => {
      const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
      const dst = [...new Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 2];
      const got = parseProxyHeader(v2(0x21, 0x21, 0x00, 0x24, ...src, ...dst, 0, 1, 0, 2));
      assert.deepEqual(got, {
        status: "complete",
        length: 52,
        header: {
          version: 2,
          endpoints: {
            source: { ip: "2001:db8::1", port: 1 },
            destination: { ip: "10.0.0.2", port: 2 },
          },
        },
      });
    });
    await t.step("TLVs after the addresses are skipped", () => {
      const tlv = [0x04, 0x00, 0x03, 0, 0, 0];
      const got = parseProxyHeader(
        v2(0x21, 0x11, 0x00, 0x12, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2, ...tlv),
      );
      assert.equal(got.status === "complete" && got.length, 34);
      assert.equal(got.status === "complete" && got.header.endpoints?.source.ip, "10.0.0.1");
    });
    await t.step("LOCAL keeps the real endpoints and skips what it announces", () => {
      assert.deepEqual(parseProxyHeader(v2(0x20, 0x00, 0x00, 0x00)), {
        status: "complete",
        length: 16,
        header: { version: 2 },
      });
      const withAddresses = v2(0x20, 0x11, 0x00, 0x0c, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2);
      assert.deepEqual(parseProxyHeader(withAddresses), {
        status: "complete",
        length: 28,
        header: { version: 2 },
      });
    });
    await t.step("UNSPEC, UDP and UNIX fall back to the real endpoints", () => {
      const cases: Array<[number, number]> = [[0x00, 0], [0x12, 12], [0x22, 36], [0x31, 216]];
      for (const [family, size] of cases) {
        const got = parseProxyHeader(
          v2(0x21, family, size >> 8, size & 0xff, ...new Array(size).fill(0)),
        );
        assert.deepEqual(got, { status: "complete", length: 16 + size, header: { version: 2 } });
      }
    });
  },
);

Deno.test(
  "parseProxyHeader() asks for more bytes while a v2 header is incomplete",
  none,
  async (t) => {
    await t.step("part of the signature", () => {
      assert.deepEqual(parseProxyHeader(PROXY_V2_SIGNATURE.subarray(0, 5)), { status: "partial" });
    });
    await t.step("the signature without the rest of the fixed part", () => {
      assert.deepEqual(parseProxyHeader(v2(0x21, 0x11, 0x00)), { status: "partial" });
    });
    await t.step("addresses cut short", () => {
      assert.deepEqual(parseProxyHeader(v2(0x21, 0x11, 0x00, 0x0c, 10, 0, 0, 1)), {
        status: "partial",
      });
    });
  },
);

Deno.test("parseProxyHeader() refuses a malformed v2 header", none, async (t) => {
  const tcp4 = [0x00, 0x0c, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2];
  await t.step("a signature with one byte wrong", () => {
    const bytes = v2(0x21, 0x11, ...tcp4);
    bytes[11] = 0x0b;
    assert.match(refusal(bytes), /not a PROXY/);
  });
  for (const version of [0x0, 0x1, 0x3, 0xf]) {
    await t.step(`version ${version}`, () => {
      assert.match(
        refusal(v2((version << 4) | 1, 0x11, ...tcp4)),
        new RegExp(`version ${version}`),
      );
    });
  }
  await t.step(
    "an unknown command",
    () => assert.match(refusal(v2(0x22, 0x11, ...tcp4)), /command/),
  );
  await t.step("an unknown family", () => assert.match(refusal(v2(0x21, 0x41, ...tcp4)), /family/));
  await t.step(
    "an unknown transport",
    () => assert.match(refusal(v2(0x21, 0x13, ...tcp4)), /family/),
  );
  await t.step("a length too short for TCP over IPv4", () => {
    assert.match(refusal(v2(0x21, 0x11, 0x00, 0x0b, ...new Array(11).fill(0))), /too short/);
  });
  await t.step("a length too short for TCP over IPv6", () => {
    assert.match(refusal(v2(0x21, 0x21, 0x00, 0x0c, ...new Array(12).fill(0))), /too short/);
  });
  await t.step("an oversized header, refused from its fixed part alone", () => {
    assert.match(refusal(v2(0x21, 0x11, 0x02, 0x19)), /537 bytes/);
    assert.match(refusal(v2(0x21, 0x11, 0xff, 0xff)), /65535 bytes/);
  });
  await t.step("the largest allowed size is read", () => {
    const got = parseProxyHeader(
      v2(0x21, 0x11, 0x02, 0x18, ...tcp4.slice(2), ...new Array(524).fill(0)),
    );
    assert.equal(got.status === "complete" && got.length, 552);
  });
});
