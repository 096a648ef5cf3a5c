import assert from "node:assert/strict";
import { PROXY_V2_SIGNATURE, sniffProxyHeader } from "../../src/l4/mod.ts";

const none = { permissions: "none" } as const;
const ascii = (s: string) => new TextEncoder().encode(s);

Deno.test("sniffProxyHeader() tells a PROXY header from other first bytes", none, async (t) => {
  await t.step("the v1 prefix is a header", () => {
    assert.equal(sniffProxyHeader(ascii("PROXY ")), "proxy");
    assert.equal(sniffProxyHeader(ascii("PROXY TCP4 1.2.3.4")), "proxy");
  });
  await t.step("the v2 signature is a header", () => {
    assert.equal(sniffProxyHeader(PROXY_V2_SIGNATURE), "proxy");
    assert.equal(sniffProxyHeader(Uint8Array.of(...PROXY_V2_SIGNATURE, 0x21, 0x11)), "proxy");
  });
  await t.step("a beginning of either is undecided", () => {
    assert.equal(sniffProxyHeader(ascii("P")), "maybe");
    assert.equal(sniffProxyHeader(ascii("PROXY")), "maybe");
    assert.equal(sniffProxyHeader(PROXY_V2_SIGNATURE.subarray(0, 11)), "maybe");
    // "\r\n" starts the v2 signature: an empty line is undecided for a moment.
    assert.equal(sniffProxyHeader(ascii("\r\n")), "maybe");
  });
  await t.step("anything that leaves both is not", () => {
    assert.equal(sniffProxyHeader(ascii("GET / HTTP/1.1\r\n")), "none");
    assert.equal(sniffProxyHeader(ascii("PROXYX")), "none");
    assert.equal(sniffProxyHeader(ascii("\r\n\r\nX")), "none");
    assert.equal(sniffProxyHeader(Uint8Array.of(0x16, 0x03, 0x01)), "none");
  });
});
