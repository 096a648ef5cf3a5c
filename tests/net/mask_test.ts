import assert from "node:assert/strict";
import { maskClientIp } from "../../src/net/mask.ts";

const none = { permissions: "none" } as const;

Deno.test("maskClientIp() keeps the first two octets of an IPv4 address", none, async (t) => {
  const cases: Array<[string, string]> = [
    ["203.0.113.45", "203.0.0.0"],
    ["10.20.30.40", "10.20.0.0"],
    ["255.255.255.255", "255.255.0.0"],
    ["0.0.0.0", "0.0.0.0"],
  ];
  for (const [input, masked] of cases) {
    await t.step(`${input} → ${masked}`, () => assert.equal(maskClientIp(input), masked));
  }
});

Deno.test("maskClientIp() keeps the first 48 bits of an IPv6 address", none, async (t) => {
  const cases: Array<[string, string]> = [
    ["2001:db8:abcd:12::1", "2001:db8:abcd::"],
    ["2001:db8:abcd:ffff:ffff:ffff:ffff:ffff", "2001:db8:abcd::"],
    ["2001:DB8:ABCD:0012:0000:0000:0000:0001", "2001:db8:abcd::"],
    ["::1", "::"],
    ["fe80::1%eth0", "fe80::"],
    ["[2001:db8:abcd:12::1]", "2001:db8:abcd::"],
  ];
  for (const [input, masked] of cases) {
    await t.step(`${input} → ${masked}`, () => assert.equal(maskClientIp(input), masked));
  }
});

Deno.test("maskClientIp() masks an IPv4-mapped IPv6 address as IPv4", none, () => {
  assert.equal(maskClientIp("::ffff:1.2.3.4"), "1.2.0.0");
  assert.equal(maskClientIp("::ffff:203.0.113.45"), "203.0.0.0");
});

Deno.test(
  'maskClientIp() replaces anything that is not an address with "invalid"',
  none,
  async (t) => {
    const bad = [
      "",
      "garbage",
      "example.com",
      "203.0.113.45:1234",
      "127.1",
      "1.2.3.256",
      "::1::",
      "203.0.113.45\nforged=1",
      "203.0.113.45 ",
    ];
    for (const input of bad) {
      await t.step(JSON.stringify(input), () => assert.equal(maskClientIp(input), "invalid"));
    }
  },
);
