import assert from "node:assert/strict";
import { splitTarget } from "../../src/proxy/target.ts";

const none = { permissions: "none" } as const;

Deno.test("splitTarget() splits authority, raw path and raw query", none, () => {
  assert.deepEqual(splitTarget("http://example.com:8080/a/b?x=1&y=2"), {
    scheme: "http",
    authority: "example.com:8080",
    path: "/a/b",
    query: "?x=1&y=2",
  });
});

Deno.test("splitTarget() lower-cases the authority but not the path or query", none, () => {
  assert.deepEqual(splitTarget("http://Example.COM/A/B?Q=X"), {
    scheme: "http",
    authority: "example.com",
    path: "/A/B",
    query: "?Q=X",
  });
});

Deno.test(
  "splitTarget() keeps the path undecoded: dot segments, %2e, backslashes",
  none,
  async (t) => {
    const cases: Array<[string, string]> = [
      ["http://h/a/%2e%2e/b", "/a/%2e%2e/b"],
      ["http://h/a/../b", "/a/../b"],
      ["http://h/a\\b", "/a\\b"],
      ["http://h/a%2fb", "/a%2fb"],
      ["http://h/a//b/", "/a//b/"],
      ["http://h/%00", "/%00"],
    ];
    for (const [url, path] of cases) {
      await t.step(url, () => assert.equal(splitTarget(url).path, path));
    }
  },
);

Deno.test('splitTarget() gives "/" for an empty path', none, async (t) => {
  await t.step("no path at all", () => {
    assert.deepEqual(splitTarget("http://h"), {
      scheme: "http",
      authority: "h",
      path: "/",
      query: "",
    });
  });
  await t.step("only a query", () => {
    assert.deepEqual(splitTarget("http://h?x=1"), {
      scheme: "http",
      authority: "h",
      path: "/",
      query: "?x=1",
    });
  });
  await t.step("only a fragment", () => {
    assert.deepEqual(splitTarget("http://h#frag"), {
      scheme: "http",
      authority: "h",
      path: "/",
      query: "",
    });
  });
});

Deno.test("splitTarget() drops a fragment, wherever it starts", none, async (t) => {
  await t.step("after the query", () => {
    assert.deepEqual(splitTarget("http://h/a/%2e%2e/b?x=1#f"), {
      scheme: "http",
      authority: "h",
      path: "/a/%2e%2e/b",
      query: "?x=1",
    });
  });
  await t.step("before a question mark", () => {
    assert.deepEqual(splitTarget("http://h/a#f?x=1"), {
      scheme: "http",
      authority: "h",
      path: "/a",
      query: "",
    });
  });
});

Deno.test('splitTarget() keeps everything after the first "?" as the query', none, () => {
  assert.deepEqual(splitTarget("http://h/search?q=../x?y=http://z"), {
    scheme: "http",
    authority: "h",
    path: "/search",
    query: "?q=../x?y=http://z",
  });
});

Deno.test('splitTarget() keeps an empty query\'s "?"', none, () => {
  assert.deepEqual(splitTarget("http://h/a?"), {
    scheme: "http",
    authority: "h",
    path: "/a",
    query: "?",
  });
});

Deno.test("splitTarget() reads IPv6 and user-info authorities verbatim", none, () => {
  assert.equal(splitTarget("http://[::1]:8080/x").authority, "[::1]:8080");
  assert.equal(splitTarget("http://[FE80::1]/x").authority, "[fe80::1]");
  assert.equal(splitTarget("http://user@h/x").authority, "user@h");
});

Deno.test("splitTarget() reads an origin-form target (no scheme) as path and query", none, () => {
  assert.deepEqual(splitTarget("/a/b?c"), {
    scheme: "",
    authority: "",
    path: "/a/b",
    query: "?c",
  });
});

Deno.test("splitTarget() sees the same raw path Deno keeps in Request.url", none, () => {
  const req = new Request("http://h/a/b%20c/%41?x=%2e");
  assert.deepEqual(splitTarget(req.url), {
    scheme: "http",
    authority: "h",
    path: "/a/b%20c/%41",
    query: "?x=%2e",
  });
});

Deno.test(
  "splitTarget() reads the scheme of an absolute-form target, lower-cased",
  none,
  async (t) => {
    const cases: Array<[string, string, string, string]> = [
      // What the runtime puts in Request.url for `GET ftp://b.example/x HTTP/1.1`, and so on.
      ["ftp://b.example/x", "ftp", "b.example", "/x"],
      ["file://h/etc/passwd", "file", "h", "/etc/passwd"],
      ["HTTP://B.example/x", "http", "b.example", "/x"],
      ["https://b.example:8443/", "https", "b.example:8443", "/"],
    ];
    for (const [url, scheme, authority, path] of cases) {
      await t.step(url, () => {
        assert.deepEqual(splitTarget(url), { scheme, authority, path, query: "" });
      });
    }
  },
);

Deno.test("splitTarget() treats a scheme inside the path as part of the path", none, async (t) => {
  await t.step("the runtime's form of `GET file:///etc/passwd`", () => {
    assert.deepEqual(splitTarget("http://h/file:///etc/passwd"), {
      scheme: "http",
      authority: "h",
      path: "/file:///etc/passwd",
      query: "",
    });
  });
  await t.step("an origin-form path holding `://`", () => {
    assert.deepEqual(splitTarget("/a/b://c?x"), {
      scheme: "",
      authority: "",
      path: "/a/b://c",
      query: "?x",
    });
  });
});

Deno.test(
  'splitTarget() reads OPTIONS with the path "/*" and no query as the asterisk form',
  none,
  async (t) => {
    await t.step("OPTIONS /* is *", () => {
      assert.deepEqual(splitTarget("http://h/*", "OPTIONS"), {
        scheme: "http",
        authority: "h",
        path: "*",
        query: "",
      });
    });
    await t.step("other methods keep /*", () => {
      for (const method of ["GET", "POST", undefined]) {
        assert.equal(splitTarget("http://h/*", method).path, "/*", String(method));
      }
    });
    await t.step("a query, even an empty one, makes it a path", () => {
      assert.equal(splitTarget("http://h/*?", "OPTIONS").path, "/*");
      assert.equal(splitTarget("http://h/*?x=1", "OPTIONS").path, "/*");
    });
    await t.step("longer paths are paths", () => {
      assert.equal(splitTarget("http://h/*/x", "OPTIONS").path, "/*/x");
      assert.equal(splitTarget("http://h/a/*", "OPTIONS").path, "/a/*");
    });
  },
);
