import assert from "node:assert/strict";
import { parseIp } from "../../src/net/ip.ts";
import { type AddressClass, classifyAddress } from "../../src/net/ranges.ts";

const none = { permissions: "none" } as const;

function classify(text: string): AddressClass | undefined {
  const ip = parseIp(text);
  assert.ok(ip, `${text} should parse`);
  return classifyAddress(ip);
}

Deno.test("classifyAddress() names each special-purpose IPv4 range", none, async (t) => {
  const cases: Array<[string, AddressClass]> = [
    ["0.0.0.0", "unspecified"],
    ["0.255.255.255", "unspecified"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["192.168.255.255", "private"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["169.254.0.1", "link-local"],
    ["169.254.255.255", "link-local"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.255", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
  ];
  for (const [text, cls] of cases) {
    await t.step(`${text} is ${cls}`, () => assert.equal(classify(text), cls));
  }
});

Deno.test(
  "classifyAddress() names cloud metadata endpoints before the range they sit in",
  none,
  async (t) => {
    await t.step(
      "169.254.169.254 (AWS, GCP, Azure)",
      () => assert.equal(classify("169.254.169.254"), "metadata"),
    );
    await t.step(
      "fd00:ec2::254 (AWS over IPv6)",
      () => assert.equal(classify("fd00:ec2::254"), "metadata"),
    );
    await t.step(
      "100.100.100.200 (Alibaba)",
      () => assert.equal(classify("100.100.100.200"), "metadata"),
    );
    await t.step("neighbours of a metadata address keep their own class", () => {
      assert.equal(classify("169.254.169.253"), "link-local");
      assert.equal(classify("fd00:ec2::253"), "unique-local");
      assert.equal(classify("100.100.100.201"), "shared");
    });
  },
);

Deno.test("classifyAddress() names each special-purpose IPv6 range", none, async (t) => {
  const cases: Array<[string, AddressClass]> = [
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fc00::1", "unique-local"],
    ["fd12:3456:789a::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["febf:ffff::1", "link-local"],
    ["ff02::1", "multicast"],
    ["ff0e::1", "multicast"],
  ];
  for (const [text, cls] of cases) {
    await t.step(`${text} is ${cls}`, () => assert.equal(classify(text), cls));
  }
});

Deno.test(
  "classifyAddress() judges an IPv4-mapped IPv6 address as the IPv4 address it carries",
  none,
  async (t) => {
    const cases: Array<[string, AddressClass | undefined]> = [
      ["::ffff:127.0.0.1", "loopback"],
      ["::ffff:7f00:1", "loopback"],
      ["::ffff:10.1.2.3", "private"],
      ["::ffff:169.254.169.254", "metadata"],
      ["::ffff:0.0.0.0", "unspecified"],
      ["[::ffff:192.168.1.1]", "private"],
      ["::ffff:93.184.216.34", undefined],
    ];
    for (const [text, cls] of cases) {
      await t.step(
        `${text} is ${cls}`,
        () => assert.equal(classify(text), cls),
      );
    }
  },
);

Deno.test("classifyAddress() returns undefined for public unicast addresses", none, async (t) => {
  const public_ = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.216.34",
    "172.15.255.255",
    "172.32.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "169.253.255.255",
    "223.255.255.255",
    "11.0.0.0",
    "2001:4860:4860::8888",
    "2606:4700::1111",
    "fbff:ffff::1",
  ];
  for (const text of public_) await t.step(text, () => assert.equal(classify(text), undefined));
});

Deno.test(
  "classifyAddress() judges IPv6 forms that carry an IPv4 address by that address",
  none,
  async (t) => {
    const cases: Array<[string, AddressClass | undefined]> = [
      ["64:ff9b::a9fe:a9fe", "metadata"], // NAT64 of 169.254.169.254
      ["64:ff9b::10.0.0.1", "private"],
      ["64:ff9b::127.0.0.1", "loopback"],
      ["64:ff9b::93.184.216.34", undefined], // NAT64 of a public address is public
      ["64:ff9b:1::1", "private"], // RFC 8215 local-use NAT64
      ["2002:a9fe:a9fe::1", "metadata"], // 6to4 of 169.254.169.254
      ["2002:c0a8:0101::", "private"], // 6to4 of 192.168.1.1
      ["2002:5db8:d822::1", undefined], // 6to4 of 93.184.216.34
      ["::10.0.0.1", "private"], // deprecated IPv4-compatible form
    ];
    for (const [text, cls] of cases) {
      await t.step(`${text} is ${cls ?? "public"}`, () => assert.equal(classify(text), cls));
    }
  },
);
