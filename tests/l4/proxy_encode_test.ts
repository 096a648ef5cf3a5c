import assert from "node:assert/strict";
import { encodeProxyHeader, encodeProxyV1, encodeProxyV2 } from "../../src/l4/mod.ts";

const none = { permissions: "none" } as const;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

const SIGNATURE = "0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a";

Deno.test("encodeProxyV1() writes the spec's text line", none, async (t) => {
  await t.step("TCP4", () => {
    assert.equal(
      text(encodeProxyV1({ ip: "203.0.113.7", port: 51000 }, { ip: "192.0.2.10", port: 443 })),
      "PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\n",
    );
  });
  await t.step("TCP6, in RFC 5952 form", () => {
    assert.equal(
      text(encodeProxyV1({ ip: "2001:DB8:0:0:0:0:0:1", port: 0 }, { ip: "::1", port: 65535 })),
      "PROXY TCP6 2001:db8::1 ::1 0 65535\r\n",
    );
  });
  await t.step("IPv4-mapped IPv6 counts as IPv4", () => {
    assert.equal(
      text(encodeProxyV1({ ip: "::ffff:203.0.113.7", port: 1 }, { ip: "192.0.2.10", port: 2 })),
      "PROXY TCP4 203.0.113.7 192.0.2.10 1 2\r\n",
    );
  });
  await t.step("UNKNOWN when the families differ", () => {
    assert.equal(
      text(encodeProxyV1({ ip: "203.0.113.7", port: 1 }, { ip: "2001:db8::1", port: 2 })),
      "PROXY UNKNOWN\r\n",
    );
  });
  await t.step("UNKNOWN when an address is not an IP", () => {
    assert.equal(
      text(encodeProxyV1({ ip: "localhost", port: 1 }, { ip: "192.0.2.10", port: 2 })),
      "PROXY UNKNOWN\r\n",
    );
  });
});

Deno.test("encodeProxyV2() writes the spec's binary header", none, async (t) => {
  await t.step("TCP over IPv4: 16 fixed bytes and 12 address bytes", () => {
    assert.equal(
      hex(encodeProxyV2({ ip: "203.0.113.7", port: 51000 }, { ip: "192.0.2.10", port: 443 })),
      `${SIGNATURE} 21 11 00 0c cb 00 71 07 c0 00 02 0a c7 38 01 bb`,
    );
  });
  await t.step("TCP over IPv6: 36 address bytes", () => {
    assert.equal(
      hex(encodeProxyV2({ ip: "2001:db8::1", port: 1 }, { ip: "::1", port: 2 })),
      `${SIGNATURE} 21 21 00 24 ` +
        "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 " +
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 01 00 02",
    );
  });
  await t.step("IPv4-mapped IPv6 counts as IPv4", () => {
    assert.equal(
      hex(encodeProxyV2({ ip: "::ffff:10.0.0.1", port: 1 }, { ip: "::ffff:10.0.0.2", port: 2 })),
      `${SIGNATURE} 21 11 00 0c 0a 00 00 01 0a 00 00 02 00 01 00 02`,
    );
  });
  await t.step("mixed families go as TCP over IPv6 with the IPv4 side mapped", () => {
    assert.equal(
      hex(encodeProxyV2({ ip: "10.0.0.1", port: 1 }, { ip: "::1", port: 2 })),
      `${SIGNATURE} 21 21 00 24 ` +
        "00 00 00 00 00 00 00 00 00 00 ff ff 0a 00 00 01 " +
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 01 00 02",
    );
  });
  await t.step("UNSPEC with no addresses when an address is not an IP", () => {
    assert.equal(
      hex(encodeProxyV2({ ip: "localhost", port: 1 }, { ip: "10.0.0.2", port: 2 })),
      `${SIGNATURE} 21 00 00 00`,
    );
  });
});

Deno.test("encodeProxyHeader() picks the version by name", none, () => {
  const src = { ip: "10.0.0.1", port: 1 };
  const dst = { ip: "10.0.0.2", port: 2 };
  assert.deepEqual(encodeProxyHeader("v1", src, dst), encodeProxyV1(src, dst));
  assert.deepEqual(encodeProxyHeader("v2", src, dst), encodeProxyV2(src, dst));
});
