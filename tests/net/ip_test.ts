import assert from "node:assert/strict";
import {
  cidrContains,
  formatCidr,
  formatIp,
  isIpv4Mapped,
  maskBits,
  parseCidr,
  parseIp,
  unmapIpv4,
} from "../../src/net/ip.ts";

const none = { permissions: "none" } as const;

/** Parses text that must be an address, failing the test otherwise. */
function ip(text: string): Uint8Array {
  const bytes = parseIp(text);
  assert.ok(bytes, `${text} should parse`);
  return bytes;
}

/** The 16 bytes of an IPv6 address from its 8 groups. */
function groups(...gs: number[]): number[] {
  return gs.flatMap((g) => [g >> 8, g & 0xff]);
}

Deno.test("parseIp() reads a dotted-quad IPv4 address into 4 bytes", none, async (t) => {
  const cases: Array<[string, number[]]> = [
    ["10.0.0.1", [10, 0, 0, 1]],
    ["0.0.0.0", [0, 0, 0, 0]],
    ["255.255.255.255", [255, 255, 255, 255]],
    ["192.168.100.9", [192, 168, 100, 9]],
  ];
  for (const [text, bytes] of cases) {
    await t.step(text, () => assert.deepEqual([...ip(text)], bytes));
  }
});

Deno.test(
  "parseIp() refuses IPv4 text that is not exactly four decimal octets",
  none,
  async (t) => {
    const bad = [
      "",
      "1",
      "127.1", // legacy short form
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.4.",
      ".1.2.3.4",
      "1..2.3",
      "256.0.0.1",
      "1.2.3.300",
      "-1.2.3.4",
      "01.2.3.4", // leading zero: octal to inet_aton
      "1.2.3.04",
      "0x7f.0.0.1", // hexadecimal octet
      "0x7f000001",
      "2130706433", // one decimal number
      "1.2.3.4 ",
      " 1.2.3.4",
      "1.2.3.4/32",
      "1.2.3.4:80",
      "1.2.3.4%eth0",
      "1.2.3.a",
      "１.２.３.４", // full-width digits
      "example.com",
      "localhost",
    ];
    for (const text of bad) {
      await t.step(JSON.stringify(text), () => assert.equal(parseIp(text), undefined));
    }
  },
);

Deno.test("parseIp() reads RFC 4291 IPv6 text into 16 bytes", none, async (t) => {
  const cases: Array<[string, number[]]> = [
    ["::", groups(0, 0, 0, 0, 0, 0, 0, 0)],
    ["::1", groups(0, 0, 0, 0, 0, 0, 0, 1)],
    ["1::", groups(1, 0, 0, 0, 0, 0, 0, 0)],
    ["2001:db8::1", groups(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)],
    ["2001:DB8::A:b", groups(0x2001, 0xdb8, 0, 0, 0, 0, 0xa, 0xb)],
    ["1:2:3:4:5:6:7:8", groups(1, 2, 3, 4, 5, 6, 7, 8)],
    ["1:2:3:4:5:6::8", groups(1, 2, 3, 4, 5, 6, 0, 8)],
    ["1::8", groups(1, 0, 0, 0, 0, 0, 0, 8)],
    ["0001:0002:0003:0004:0005:0006:0007:ffff", groups(1, 2, 3, 4, 5, 6, 7, 0xffff)],
    ["fe80::1:2", groups(0xfe80, 0, 0, 0, 0, 0, 1, 2)],
  ];
  for (const [text, bytes] of cases) {
    await t.step(text, () => assert.deepEqual([...ip(text)], bytes));
  }
});

Deno.test("parseIp() reads an IPv4 address embedded at the end of IPv6 text", none, async (t) => {
  await t.step("IPv4-mapped", () => {
    assert.deepEqual([...ip("::ffff:1.2.3.4")], groups(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304));
  });
  await t.step("IPv4-compatible", () => {
    assert.deepEqual([...ip("::10.0.0.1")], groups(0, 0, 0, 0, 0, 0, 0x0a00, 0x0001));
  });
  await t.step("all six groups written out", () => {
    assert.deepEqual([...ip("1:2:3:4:5:6:7.8.9.10")], groups(1, 2, 3, 4, 5, 6, 0x0708, 0x090a));
  });
  await t.step("embedded IPv4 equals its hexadecimal spelling", () => {
    assert.deepEqual(ip("::ffff:127.0.0.1"), ip("::ffff:7f00:1"));
  });
});

Deno.test("parseIp() drops brackets and zone identifiers", none, async (t) => {
  await t.step("[::1] is ::1", () => assert.deepEqual(ip("[::1]"), ip("::1")));
  await t.step("[2001:db8::1] is 2001:db8::1", () => {
    assert.deepEqual(ip("[2001:db8::1]"), ip("2001:db8::1"));
  });
  await t.step(
    "fe80::1%eth0 is fe80::1",
    () => assert.deepEqual(ip("fe80::1%eth0"), ip("fe80::1")),
  );
  await t.step("a numeric zone is dropped too", () => {
    assert.deepEqual(ip("fe80::1%3"), ip("fe80::1"));
  });
  await t.step("[fe80::1%25eth0] (URL form) is fe80::1", () => {
    assert.deepEqual(ip("[fe80::1%25eth0]"), ip("fe80::1"));
  });
});

Deno.test("parseIp() refuses malformed IPv6 text", none, async (t) => {
  const bad = [
    ":",
    ":::",
    "1:::2",
    "::1::",
    "1::2::3",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7::8", // "::" must stand for at least one group
    "::1:2:3:4:5:6:7:8",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "12345::",
    "g::1",
    "::1 ",
    "1.2.3.4::", // embedded IPv4 before "::"
    "1.2.3.4::1",
    "::1.2.3.4:5", // embedded IPv4 not last
    "::256.0.0.1",
    "::1.2.3",
    "1:2:3:4:5:6:7:1.2.3.4", // nine groups' worth
    "[::1",
    "::1]",
    "[[::1]]",
    "[]",
  ];
  for (const text of bad) {
    await t.step(JSON.stringify(text), () => assert.equal(parseIp(text), undefined));
  }
});

Deno.test("formatIp() writes IPv4 as a dotted quad", none, () => {
  assert.equal(formatIp(ip("10.0.0.1")), "10.0.0.1");
  assert.equal(formatIp(new Uint8Array([0, 0, 0, 0])), "0.0.0.0");
});

Deno.test("formatIp() writes IPv6 in RFC 5952 canonical form", none, async (t) => {
  const cases: Array<[string, string]> = [
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    // §4.1: leading zeros suppressed; §4.3: lower case.
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    // §4.2.2: a single zero group is not shortened.
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    // §4.2.3: the longest run of zeros is shortened...
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    // ...and of equal runs, the first.
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["fe80:0:0:0:0:0:0:0", "fe80::"],
    ["0:0:1:0:0:0:0:0", "0:0:1::"],
  ];
  for (const [input, expected] of cases) {
    await t.step(`${input} → ${expected}`, () => assert.equal(formatIp(ip(input)), expected));
  }
});

Deno.test("formatIp() keeps the dotted quad of an IPv4-mapped address (RFC 5952 §5)", none, () => {
  assert.equal(formatIp(ip("::ffff:7f00:1")), "::ffff:127.0.0.1");
  assert.equal(formatIp(ip("::FFFF:10.0.0.1")), "::ffff:10.0.0.1");
});

Deno.test("formatIp() round-trips what parseIp() reads", none, () => {
  for (const text of ["::", "::1", "2001:db8::1", "fe80::", "10.1.2.3", "1:2:3:4:5:6:7:8"]) {
    assert.equal(formatIp(ip(text)), text);
  }
});

Deno.test("isIpv4Mapped() is true only for ::ffff:0:0/96", none, () => {
  assert.equal(isIpv4Mapped(ip("::ffff:1.2.3.4")), true);
  assert.equal(isIpv4Mapped(ip("::ffff:0:0")), true);
  assert.equal(isIpv4Mapped(ip("::1.2.3.4")), false);
  assert.equal(isIpv4Mapped(ip("1::ffff:1.2.3.4")), false);
  assert.equal(isIpv4Mapped(ip("::fffe:1.2.3.4")), false);
  assert.equal(isIpv4Mapped(ip("1.2.3.4")), false);
});

Deno.test(
  "unmapIpv4() returns the IPv4 bytes of a mapped address and leaves others alone",
  none,
  () => {
    assert.deepEqual([...unmapIpv4(ip("::ffff:10.0.0.1"))], [10, 0, 0, 1]);
    const v6 = ip("2001:db8::1");
    assert.equal(unmapIpv4(v6), v6);
    const v4 = ip("10.0.0.1");
    assert.equal(unmapIpv4(v4), v4);
  },
);

Deno.test("maskBits() keeps the prefix and clears the rest, also mid-octet", none, () => {
  assert.deepEqual([...maskBits(ip("10.20.30.40"), 8)], [10, 0, 0, 0]);
  assert.deepEqual([...maskBits(ip("10.20.30.40"), 12)], [10, 16, 0, 0]);
  assert.deepEqual([...maskBits(ip("10.20.30.40"), 0)], [0, 0, 0, 0]);
  assert.deepEqual([...maskBits(ip("10.20.30.40"), 32)], [10, 20, 30, 40]);
  assert.equal(formatIp(maskBits(ip("2001:db8:abcd:12::1"), 48)), "2001:db8:abcd::");
});

Deno.test("parseCidr() reads IPv4 and IPv6 networks and clears host bits", none, async (t) => {
  const cases: Array<[string, string]> = [
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["172.16.0.0/12", "172.16.0.0/12"],
    ["172.31.255.255/12", "172.16.0.0/12"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["1.2.3.4/32", "1.2.3.4/32"],
    ["fd00::/8", "fd00::/8"],
    ["fe80::1/10", "fe80::/10"],
    ["::/0", "::/0"],
    ["2001:db8::1/128", "2001:db8::1/128"],
  ];
  for (const [text, expected] of cases) {
    await t.step(text, () => {
      const cidr = parseCidr(text);
      assert.ok(cidr);
      assert.equal(formatCidr(cidr), expected);
    });
  }
});

Deno.test("parseCidr() treats a bare address as a single-host network", none, () => {
  assert.equal(parseCidr("10.0.0.1")?.prefix, 32);
  assert.equal(parseCidr("::1")?.prefix, 128);
});

Deno.test("parseCidr() refuses bad addresses and prefixes", none, async (t) => {
  const bad = [
    "",
    "/8",
    "10.0.0.0/",
    "10.0.0.0/33",
    "10.0.0.0/-1",
    "10.0.0.0/8/8",
    "10.0.0.0/a",
    "10.0.0.0/ 8",
    "10.0.0.0/1000",
    "::/129",
    "10.0.0/8",
    "example.com/8",
  ];
  for (const text of bad) {
    await t.step(JSON.stringify(text), () => assert.equal(parseCidr(text), undefined));
  }
});

Deno.test("cidrContains() matches addresses inside the network only", none, async (t) => {
  const ten = parseCidr("10.0.0.0/8")!;
  await t.step("IPv4 inside and outside", () => {
    assert.equal(cidrContains(ten, ip("10.0.0.1")), true);
    assert.equal(cidrContains(ten, ip("10.255.255.255")), true);
    assert.equal(cidrContains(ten, ip("11.0.0.0")), false);
    assert.equal(cidrContains(ten, ip("9.255.255.255")), false);
  });
  await t.step("a mid-octet prefix", () => {
    const net = parseCidr("172.16.0.0/12")!;
    assert.equal(cidrContains(net, ip("172.31.255.255")), true);
    assert.equal(cidrContains(net, ip("172.32.0.0")), false);
    assert.equal(cidrContains(net, ip("172.15.255.255")), false);
  });
  await t.step("/0 contains every address of its family", () => {
    assert.equal(cidrContains(parseCidr("0.0.0.0/0")!, ip("203.0.113.9")), true);
    assert.equal(cidrContains(parseCidr("::/0")!, ip("2001:db8::1")), true);
  });
  await t.step("IPv6 inside and outside", () => {
    const net = parseCidr("fd00::/8")!;
    assert.equal(cidrContains(net, ip("fd12:3456::1")), true);
    assert.equal(cidrContains(net, ip("fe00::1")), false);
  });
  await t.step("an IPv4-mapped IPv6 address matches an IPv4 network", () => {
    assert.equal(cidrContains(ten, ip("::ffff:10.0.0.1")), true);
    assert.equal(cidrContains(ten, ip("::ffff:11.0.0.1")), false);
  });
  await t.step("an IPv4-compatible (not mapped) address does not match an IPv4 network", () => {
    assert.equal(cidrContains(ten, ip("::10.0.0.1")), false);
  });
  await t.step("families never match each other otherwise", () => {
    assert.equal(cidrContains(parseCidr("::/0")!, ip("10.0.0.1")), false);
    assert.equal(cidrContains(ten, ip("a00::1")), false);
  });
});
