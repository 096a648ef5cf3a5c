import assert from "node:assert/strict";
import { httpsLocation } from "../../src/proxy/redirect.ts";
import { splitTarget } from "../../src/proxy/target.ts";

const none = { permissions: "none" } as const;

/** The Location for a request with this Host and raw URL (what the runtime builds from both). */
function locate(host: string, path = "/", port = 443): string | undefined {
  return httpsLocation([["host", host]], splitTarget(`http://${host.toLowerCase()}${path}`), port);
}

Deno.test("httpsLocation() keeps the host, path and query, with the TLS port", none, async (t) => {
  await t.step("the port is replaced, and left out for 443", () => {
    assert.equal(locate("Example.com:8080", "/a/b?x=1&y"), "https://example.com/a/b?x=1&y");
    assert.equal(locate("example.com", "/", 8443), "https://example.com:8443/");
    assert.equal(locate("203.0.113.9:80", "/x"), "https://203.0.113.9/x");
    assert.equal(locate("[2001:db8::1]:80", "/x", 8443), "https://[2001:db8::1]:8443/x");
  });
  await t.step("a path of //evil.com stays a path on this host", () => {
    assert.equal(locate("example.com", "//evil.com/x"), "https://example.com/evil.com/x");
    assert.equal(locate("example.com", "///evil.com"), "https://example.com/evil.com");
  });
  await t.step("OPTIONS * goes to /", () => {
    const target = splitTarget("http://example.com/*", "OPTIONS");
    assert.equal(httpsLocation([["host", "example.com"]], target, 443), "https://example.com/");
  });
  await t.step("HTTP/2 (no Host field): the authority", () => {
    assert.equal(
      httpsLocation([], splitTarget("http://example.com/a"), 443),
      "https://example.com/a",
    );
  });
});

Deno.test("httpsLocation() refuses a host that is not a host name or an IP literal", none, () => {
  for (
    const host of [
      "evil.com/x",
      "user@evil.com",
      "evil.com:80@good.com",
      "a b.com",
      "a\tb.com",
      "exa_mple.com",
      "-bad.com",
      "example.com:99999",
      "example.com:0",
      "[::1",
      "[not-an-ip]",
      "evil.com\\@good.com",
      "a".repeat(64) + ".com",
      "",
    ]
  ) {
    assert.equal(locate(host), undefined, JSON.stringify(host));
  }
  // An absolute-form target naming another host than Host.
  assert.equal(
    httpsLocation([["host", "good.com"]], splitTarget("http://evil.com/"), 443),
    undefined,
  );
});
