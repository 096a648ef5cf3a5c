import assert from "node:assert/strict";
import { splitTarget } from "../../src/proxy/target.ts";
import {
  compileHostAllowList,
  pathIsSafe,
  type Rejection,
  validateRequest,
  type ValidationRules,
} from "../../src/proxy/validate.ts";

const none = { permissions: "none" } as const;

const RULES: ValidationRules = {
  maxBodyBytes: 1000,
  maxHeaderBytes: 8192,
  allowedMethods: new Set(["GET", "HEAD", "POST"]),
};

/**
 * Validates a request for `rawUrl`. The target is split from the raw text,
 * as the server does, because `new Request()` would resolve `%2e%2e`.
 */
function validate(
  rawUrl: string,
  init: RequestInit = {},
  rules: Partial<ValidationRules> = {},
  listenerPort?: number,
): Rejection | undefined {
  const req = new Request(rawUrl, init);
  return validateRequest(req, splitTarget(rawUrl, req.method), { ...RULES, ...rules }, {
    listenerPort,
  });
}

const TOO_LARGE: Rejection = {
  status: 431,
  error: "request header fields too large",
  reason: "header_too_large",
};
const NOT_ALLOWED: Rejection = {
  status: 405,
  error: "method not allowed",
  reason: "method_not_allowed",
  headers: { allow: "GET, HEAD, POST" },
};
const CL_AND_TE: Rejection = {
  status: 400,
  error: "bad request",
  reason: "content_length_with_transfer_encoding",
};
const BAD_LENGTH: Rejection = {
  status: 400,
  error: "bad request",
  reason: "invalid_content_length",
};
const BODY_TOO_LARGE: Rejection = {
  status: 413,
  error: "payload too large",
  reason: "body_too_large",
};
const BAD_HOST: Rejection = { status: 400, error: "invalid host", reason: "host_not_allowed" };
const BAD_PATH: Rejection = { status: 400, error: "invalid path", reason: "path_traversal" };
const BAD_TARGET: Rejection = { status: 400, error: "invalid target", reason: "invalid_target" };
const NO_HOST: Rejection = { status: 400, error: "missing host", reason: "missing_host" };

Deno.test("validateRequest() accepts an ordinary request", none, async (t) => {
  await t.step("GET with a query", () => {
    assert.equal(validate("http://example.com/a/b?x=1", { headers: { accept: "*/*" } }), undefined);
  });
  await t.step("POST with a body within the limit", () => {
    assert.equal(
      validate("http://example.com/upload", {
        method: "POST",
        headers: { "content-length": "1000" },
      }),
      undefined,
    );
  });
  await t.step("a query full of dots is not a path", () => {
    assert.equal(validate("http://example.com/search?q=../../etc/passwd"), undefined);
  });
});

Deno.test(
  "validateRequest() refuses an oversized request line and header block with 431",
  none,
  async (t) => {
    await t.step("a large header", () => {
      assert.deepEqual(
        validate("http://h/", { headers: { "x-pad": "a".repeat(200) } }, { maxHeaderBytes: 100 }),
        TOO_LARGE,
      );
    });
    await t.step("a long path", () => {
      assert.deepEqual(
        validate(`http://h/${"a".repeat(200)}`, {}, { maxHeaderBytes: 100 }),
        TOO_LARGE,
      );
    });
    await t.step("a long query counts too", () => {
      assert.deepEqual(
        validate(`http://h/?q=${"a".repeat(200)}`, {}, { maxHeaderBytes: 100 }),
        TOO_LARGE,
      );
    });
    await t.step("many small headers add up", () => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < 20; i++) headers[`x-h${i}`] = "v";
      assert.deepEqual(validate("http://h/", { headers }, { maxHeaderBytes: 100 }), TOO_LARGE);
    });
    await t.step("the same request passes under a larger limit", () => {
      assert.equal(
        validate("http://h/", { headers: { "x-pad": "a".repeat(200) } }, { maxHeaderBytes: 1000 }),
        undefined,
      );
    });
  },
);

Deno.test(
  "validateRequest() refuses a method not on the list with 405 and an Allow header",
  none,
  async (t) => {
    for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "patch"]) {
      await t.step(method, () => assert.deepEqual(validate("http://h/", { method }), NOT_ALLOWED));
    }
    await t.step("Allow lists the configured methods in order", () => {
      const r = validate("http://h/", { method: "PUT" }, {
        allowedMethods: new Set(["OPTIONS", "GET"]),
      });
      assert.deepEqual(r?.headers, { allow: "OPTIONS, GET" });
    });
  },
);

Deno.test("validateRequest() refuses Content-Length together with Transfer-Encoding", none, () => {
  assert.deepEqual(
    validate("http://h/", {
      method: "POST",
      headers: { "content-length": "5", "transfer-encoding": "chunked" },
    }),
    CL_AND_TE,
  );
});

Deno.test("validateRequest() accepts Transfer-Encoding without Content-Length", none, () => {
  assert.equal(
    validate("http://h/", { method: "POST", headers: { "transfer-encoding": "chunked" } }),
    undefined,
  );
});

Deno.test(
  "validateRequest() refuses a Content-Length that is not a plain decimal",
  none,
  async (t) => {
    for (
      const value of ["", "-1", "+5", "1.5", "1e3", "0x10", "abc", "5, 5", "5 5", "²", "Infinity"]
    ) {
      await t.step(JSON.stringify(value), () => {
        assert.deepEqual(
          validate("http://h/", { method: "POST", headers: { "content-length": value } }),
          BAD_LENGTH,
        );
      });
    }
  },
);

Deno.test(
  "validateRequest() refuses a declared body over max_body_bytes with 413",
  none,
  async (t) => {
    const post = (length: string) =>
      validate("http://h/", { method: "POST", headers: { "content-length": length } });
    await t.step("one byte over", () => assert.deepEqual(post("1001"), BODY_TOO_LARGE));
    await t.step("far over, beyond 2^53", () => {
      assert.deepEqual(post("99999999999999999999999"), BODY_TOO_LARGE);
    });
    await t.step("exactly the limit passes", () => assert.equal(post("1000"), undefined));
    await t.step("zero passes", () => assert.equal(post("0"), undefined));
    await t.step(
      "leading zeros are read as decimal",
      () => assert.equal(post("0001000"), undefined),
    );
  },
);

Deno.test("validateRequest() refuses a host outside the allow-list with 400", none, async (t) => {
  const hostAllowed = compileHostAllowList(["example.com"]);
  await t.step("another host", () => {
    assert.deepEqual(validate("http://evil.example/", {}, { hostAllowed }), BAD_HOST);
  });
  await t.step("the allowed host", () => {
    assert.equal(validate("http://example.com:8080/", {}, { hostAllowed }), undefined);
  });
  await t.step("no allow-list accepts any host", () => {
    assert.equal(validate("http://anything.invalid/", {}, { hostAllowed: undefined }), undefined);
  });
});

Deno.test(
  "validateRequest() refuses a path that could escape its directory with 400",
  none,
  async (t) => {
    for (
      const url of [
        "http://h/a/../b",
        "http://h/%2e%2e/etc/passwd",
        "http://h/a%2fb",
        "http://h/a\\b",
      ]
    ) {
      await t.step(url, () => assert.deepEqual(validate(url), BAD_PATH));
    }
  },
);

Deno.test(
  "validateRequest() checks in order: 431, 405, framing, length, 413, target, missing host, host, path",
  none,
  async (t) => {
    const hostAllowed = compileHostAllowList(["good.example"]);
    const rules = { hostAllowed, maxHeaderBytes: 300 };
    const bigHeader = { "x-pad": "a".repeat(400) };
    await t.step("431 before 405", () => {
      assert.deepEqual(
        validate("http://evil/../x", { method: "PUT", headers: bigHeader }, rules),
        TOO_LARGE,
      );
    });
    await t.step("405 before Content-Length with Transfer-Encoding", () => {
      assert.deepEqual(
        validate("http://evil/../x", {
          method: "PUT",
          headers: { "content-length": "x", "transfer-encoding": "chunked" },
        }, rules),
        NOT_ALLOWED,
      );
    });
    await t.step("Content-Length with Transfer-Encoding before an invalid Content-Length", () => {
      assert.deepEqual(
        validate("http://evil/../x", {
          method: "POST",
          headers: { "content-length": "x", "transfer-encoding": "chunked" },
        }, rules),
        CL_AND_TE,
      );
    });
    await t.step("an invalid Content-Length before the host", () => {
      assert.deepEqual(
        validate("http://evil/../x", { method: "POST", headers: { "content-length": "x" } }, rules),
        BAD_LENGTH,
      );
    });
    await t.step("413 before the host", () => {
      assert.deepEqual(
        validate(
          "http://evil/../x",
          { method: "POST", headers: { "content-length": "5000" } },
          rules,
        ),
        BODY_TOO_LARGE,
      );
    });
    await t.step("413 before the target form", () => {
      assert.deepEqual(
        validate(
          "ftp://evil/../x",
          { method: "POST", headers: { "content-length": "5000" } },
          rules,
        ),
        BODY_TOO_LARGE,
      );
    });
    await t.step("target form before a missing host", () => {
      assert.deepEqual(validate("http://localhost:8080/file:///x", {}, rules, 8080), BAD_TARGET);
    });
    await t.step("a missing host before the allow-list", () => {
      assert.deepEqual(validate("http://localhost:8080/../x", {}, rules, 8080), NO_HOST);
    });
    await t.step("host before path", () => {
      assert.deepEqual(validate("http://evil/../x", {}, rules), BAD_HOST);
    });
    await t.step("path last", () => {
      assert.deepEqual(validate("http://good.example/../x", {}, rules), BAD_PATH);
    });
  },
);

Deno.test("pathIsSafe() accepts ordinary paths", none, async (t) => {
  const safe = [
    "/",
    "/a/b",
    "/a/b/",
    "/a//b",
    "/a/./b",
    "/./",
    "/a..b",
    "/a..",
    "/..a",
    "/...",
    "/a/.../b",
    "/.well-known/acme-challenge/x",
    "/%41",
    "/a%20b",
    "/files/100%25",
    "/files/100%2525", // 100%25 after one decode: still a plain file name
    "/caf%C3%A9",
    "/%ff%fe", // not UTF-8, still harmless
    "/%", // a stray percent sign
    "/%zz",
    "/a;b=c",
    "/...;x",
    "*",
  ];
  for (const path of safe) await t.step(path, () => assert.equal(pathIsSafe(path), true));
});

Deno.test('pathIsSafe() refuses a ".." segment in any encoding', none, async (t) => {
  const unsafe = [
    "/..",
    "/../",
    "/a/..",
    "/a/../b",
    "..",
    "../a",
    "/a/b/../../../etc/passwd",
    "/%2e%2e/etc/passwd",
    "/%2E%2E/",
    "/a/.%2e/b",
    "/a/%2e./b",
    "/a/.%2E",
    "/%252e%252e/etc/passwd", // double-encoded
    "/%252E%252E/",
    "/.%252e/",
    "/%25252e%25252e/", // triple-encoded
  ];
  for (const path of unsafe) await t.step(path, () => assert.equal(pathIsSafe(path), false));
});

Deno.test('pathIsSafe() refuses "..;" segments (path-parameter smuggling)', none, async (t) => {
  const unsafe = [
    "/a/..;/b",
    "/..;/admin",
    "/a/..;jsessionid=1/b",
    "/a/%2e%2e;/b",
    "/a/%2e%2e%3b/b",
  ];
  for (const path of unsafe) await t.step(path, () => assert.equal(pathIsSafe(path), false));
});

Deno.test("pathIsSafe() refuses backslashes, encoded slashes and NUL bytes", none, async (t) => {
  const unsafe = [
    "/a\\b",
    "\\..\\windows",
    "/a%5cb",
    "/a%5Cb",
    "/..%5c..%5cwindows",
    "/a%2fb",
    "/a%2Fb",
    "/..%2f..%2fetc",
    "/%252f", // double-encoded slash
    "/a%00b",
    "/a.php%00.jpg",
    "/a\0b",
    "/%2500", // double-encoded NUL
    "/%255c",
  ];
  for (const path of unsafe) {
    await t.step(JSON.stringify(path), () => assert.equal(pathIsSafe(path), false));
  }
});

Deno.test(
  "pathIsSafe() refuses a path that is still changing after several decodings",
  none,
  () => {
    // Four layers of encoding: no client does that by accident.
    assert.equal(pathIsSafe("/%2525252e%2525252e/"), false);
    assert.equal(pathIsSafe("/%25252541"), false);
  },
);

Deno.test("compileHostAllowList() returns undefined for an empty list", none, () => {
  assert.equal(compileHostAllowList([]), undefined);
});

Deno.test("compileHostAllowList() matches an exact host on any port", none, async (t) => {
  const allowed = compileHostAllowList(["example.com"])!;
  for (
    const a of ["example.com", "example.com:80", "example.com:8443", "EXAMPLE.com", "example.com."]
  ) {
    await t.step(`accepts ${a}`, () => assert.equal(allowed(a), true));
  }
  const refused = [
    "sub.example.com",
    "example.org",
    "evilexample.com",
    "example.com.evil.test",
    "example.co",
    "",
    ":80",
    "example.com:80:80",
    "example.com:abc",
    "user@example.com",
  ];
  for (const a of refused) {
    await t.step(`refuses ${JSON.stringify(a)}`, () => assert.equal(allowed(a), false));
  }
});

Deno.test("compileHostAllowList() matches host:port only on that port", none, async (t) => {
  const allowed = compileHostAllowList(["example.com:8443"])!;
  await t.step("same port", () => assert.equal(allowed("example.com:8443"), true));
  await t.step("no port", () => assert.equal(allowed("example.com"), false));
  await t.step("another port", () => assert.equal(allowed("example.com:443"), false));
  await t.step(
    "a port that merely starts the same",
    () => assert.equal(allowed("example.com:84430"), false),
  );
});

Deno.test("compileHostAllowList() matches *.example.com on subdomains only", none, async (t) => {
  const allowed = compileHostAllowList(["*.example.com"])!;
  for (
    const a of ["sub.example.com", "a.b.example.com", "SUB.Example.COM:9000", "sub.example.com."]
  ) {
    await t.step(`accepts ${a}`, () => assert.equal(allowed(a), true));
  }
  for (
    const a of ["example.com", "evil-example.com", "sub.example.com.evil.test", "example.com:80"]
  ) {
    await t.step(`refuses ${a}`, () => assert.equal(allowed(a), false));
  }
});

Deno.test("compileHostAllowList() is case-insensitive in the pattern too", none, () => {
  const allowed = compileHostAllowList(["API.Example.COM", "*.CDN.Example.com"])!;
  assert.equal(allowed("api.example.com"), true);
  assert.equal(allowed("img.cdn.example.com"), true);
});

Deno.test("compileHostAllowList() ignores a trailing dot in the pattern", none, () => {
  const allowed = compileHostAllowList(["example.com."])!;
  assert.equal(allowed("example.com"), true);
  assert.equal(allowed("example.com.:80"), true);
});

Deno.test(
  "compileHostAllowList() matches bracketed IPv6 hosts with and without a port",
  none,
  async (t) => {
    const withPort = compileHostAllowList(["[::1]:8080"])!;
    await t.step("[::1]:8080 accepts [::1]:8080", () => assert.equal(withPort("[::1]:8080"), true));
    await t.step(
      "[::1]:8080 refuses [::1]:8081",
      () => assert.equal(withPort("[::1]:8081"), false),
    );
    await t.step("[::1]:8080 refuses [::1]", () => assert.equal(withPort("[::1]"), false));
    const anyPort = compileHostAllowList(["[::1]"])!;
    await t.step("[::1] accepts [::1]", () => assert.equal(anyPort("[::1]"), true));
    await t.step("[::1] accepts [::1]:9", () => assert.equal(anyPort("[::1]:9"), true));
    await t.step("[::1] refuses [::2]", () => assert.equal(anyPort("[::2]"), false));
  },
);

Deno.test("compileHostAllowList() accepts a host matching any entry of the list", none, () => {
  const allowed = compileHostAllowList(["a.test", "b.test:81", "*.c.test"])!;
  assert.equal(allowed("a.test:1"), true);
  assert.equal(allowed("b.test:81"), true);
  assert.equal(allowed("x.c.test"), true);
  assert.equal(allowed("b.test"), false);
  assert.equal(allowed("d.test"), false);
});

Deno.test(
  "validateRequest() refuses an absolute-form target whose scheme is not http or https",
  none,
  async (t) => {
    for (const url of ["ftp://b.example/x", "file://h/etc/passwd", "gopher://h:70/1", "ws://h/"]) {
      await t.step(url, () => assert.deepEqual(validate(url), BAD_TARGET));
    }
    await t.step("http and https in any case pass", () => {
      for (const url of ["http://h/x", "https://h/x", "HTTP://h/x", "HttpS://h/x"]) {
        assert.equal(validate(url), undefined, url);
      }
    });
  },
);

Deno.test(
  "validateRequest() refuses a path that starts with a scheme and an empty authority",
  none,
  async (t) => {
    // The runtime hands `GET file:///etc/passwd HTTP/1.1` and `GET https:///x HTTP/1.1`
    // over as these paths, exactly like the origin-form paths themselves.
    for (const path of ["/file:///etc/passwd", "/https:///x", "/HTTP:///x", "/a+b.c-d:///x"]) {
      await t.step(path, () => assert.deepEqual(validate(`http://h${path}`), BAD_TARGET));
    }
    await t.step("a URL with an authority inside a path passes", () => {
      for (const path of ["/https://x/y", "/proxy/http://h/", "/a/file:///etc"]) {
        assert.equal(validate(`http://h${path}`), undefined, path);
      }
    });
  },
);

Deno.test("validateRequest() refuses an absolute-form target with user-info", none, () => {
  assert.deepEqual(validate("http://user@b.example/x"), BAD_TARGET);
  assert.deepEqual(validate("http://user:pw@b.example/x"), BAD_TARGET);
});

Deno.test(
  "validateRequest() refuses a request without Host, known by the runtime's stand-in authority",
  none,
  async (t) => {
    // For a request without Host the runtime's URL is always http://localhost:<listener port>/.
    await t.step("no Host field, the stand-in authority", () => {
      assert.deepEqual(validate("http://localhost:8080/", {}, {}, 8080), NO_HOST);
    });
    await t.step("an empty Host field names no host either (RFC 9110 §4.2.1)", () => {
      assert.deepEqual(
        validate("http://localhost:8080/", { headers: { host: "" } }, {}, 8080),
        NO_HOST,
      );
    });
    await t.step("a Host field that names localhost:PORT itself passes", () => {
      assert.equal(
        validate("http://localhost:8080/", { headers: { host: "localhost:8080" } }, {}, 8080),
        undefined,
      );
    });
    await t.step("an HTTP/2 request (no host field) with another authority passes", () => {
      assert.equal(validate("http://api.example/", {}, {}, 8080), undefined);
      assert.equal(validate("http://localhost:9090/", {}, {}, 8080), undefined);
      assert.equal(validate("http://localhost/", {}, {}, 8080), undefined);
    });
    await t.step("without the listener port the check cannot be made", () => {
      assert.equal(validate("http://localhost:8080/"), undefined);
    });
  },
);
