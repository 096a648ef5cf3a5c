/** `addressFilter()`: allow and deny lists of networks, deny first. */

import assert from "node:assert/strict";
import { addressFilter, ALLOW_ALL, parseCidr } from "../../src/net/mod.ts";

const nets = (...texts: string[]) => texts.map((t) => parseCidr(t)!);

Deno.test("addressFilter() with no lists is the allow-all filter", () => {
  assert.equal(addressFilter([], []), ALLOW_ALL);
  assert.equal(ALLOW_ALL("203.0.113.9"), true);
});

Deno.test("addressFilter() refuses denied networks even inside allowed ones", () => {
  const admits = addressFilter(nets("10.0.0.0/8", "2001:db8::/32"), nets("10.9.0.0/16"));
  assert.equal(admits("10.1.2.3"), true);
  assert.equal(admits("10.9.0.1"), false, "denied");
  assert.equal(admits("192.0.2.1"), false, "not allowed");
  assert.equal(admits("2001:db8::5"), true);
  assert.equal(admits("::ffff:10.1.2.3"), true, "IPv4-mapped matches the IPv4 network");
  assert.equal(admits("not an address"), false);
});

Deno.test("addressFilter() with a deny list only lets everyone else in", () => {
  const admits = addressFilter([], nets("198.51.100.0/24"));
  assert.equal(admits("198.51.100.7"), false);
  assert.equal(admits("203.0.113.9"), true);
  assert.equal(admits("garbage"), false, "an unreadable address matches no list: refused");
});
