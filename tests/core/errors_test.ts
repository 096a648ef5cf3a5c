import assert from "node:assert/strict";
import {
  asProxyError,
  type ErrorKind,
  errorResponse,
  isLocalResourceError,
  jsonResponse,
  localResourceError,
  ProxyError,
} from "../../src/core/mod.ts";

const none = { permissions: "none" } as const;

const EXPECTED: ReadonlyArray<[ErrorKind, number, string, "upstream" | "downstream" | "internal"]> =
  [
    ["connect", 502, "bad gateway", "upstream"],
    ["upstream", 502, "bad gateway", "upstream"],
    ["upstream_timeout", 504, "gateway timeout", "upstream"],
    ["body_too_large", 413, "payload too large", "downstream"],
    ["client_timeout", 408, "request timeout", "downstream"],
    ["client_closed", 499, "client closed request", "downstream"],
    ["malformed_body", 400, "bad request", "downstream"],
    ["no_route", 404, "no route", "downstream"],
    ["not_implemented", 501, "not implemented", "internal"],
    ["no_backend", 503, "no healthy backend", "internal"],
    ["local_resource", 503, "service unavailable", "internal"],
    ["internal", 500, "internal error", "internal"],
  ];

Deno.test(
  "errorResponse() answers each kind with its status and a fixed JSON body",
  none,
  async (t) => {
    for (const [kind, status, text] of EXPECTED) {
      await t.step(`${kind} → ${status}`, async () => {
        const res = errorResponse(new ProxyError(kind, "details"));
        assert.equal(res.status, status);
        assert.equal(res.headers.get("content-type"), "application/json");
        assert.deepEqual(await res.json(), { error: text });
      });
    }
  },
);

Deno.test("errorResponse() never shows the client the error's message", none, async () => {
  const res = errorResponse(
    new ProxyError("connect", "dial tcp 10.0.0.5:8080: connection refused", {
      cause: new Error("stack"),
    }),
  );
  assert.equal(await res.text(), '{"error":"bad gateway"}');
});

Deno.test("errorResponse() sends Connection: close with 408", none, async () => {
  const res = errorResponse(new ProxyError("client_timeout", "slow"));
  assert.equal(res.headers.get("connection"), "close");
  await res.body?.cancel();
});

Deno.test(
  "errorResponse() closes the connection after a malformed body: its framing is lost",
  none,
  async () => {
    const res = errorResponse(new ProxyError("malformed_body", "bad chunk size"));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("connection"), "close");
    await res.body?.cancel();
  },
);

Deno.test("errorResponse() sends Retry-After with 503 only", none, async (t) => {
  await t.step("one second by default", async () => {
    const res = errorResponse(new ProxyError("no_backend", "all down"));
    assert.equal(res.headers.get("retry-after"), "1");
    await res.body?.cancel();
  });
  await t.step("the given number of seconds", async () => {
    const res = errorResponse(new ProxyError("no_backend", "all down"), 30);
    assert.equal(res.headers.get("retry-after"), "30");
    await res.body?.cancel();
  });
  await t.step("no other status carries it, nor Connection: close unless 408", async () => {
    for (const [kind, status] of EXPECTED) {
      if (status === 503) continue;
      const res = errorResponse(new ProxyError(kind, "x"), 30);
      assert.equal(res.headers.get("retry-after"), null, kind);
      if (status !== 408 && kind !== "malformed_body") {
        assert.equal(res.headers.get("connection"), null, kind);
      }
      await res.body?.cancel();
    }
  });
});

Deno.test("ProxyError records kind, source and message", none, async (t) => {
  for (const [kind, , , source] of EXPECTED) {
    await t.step(kind, () => {
      const e = new ProxyError(kind, "what happened");
      assert.equal(e.kind, kind);
      assert.equal(e.source, source);
      assert.equal(e.message, "what happened");
      assert.equal(e.name, "ProxyError");
      assert.ok(e instanceof Error);
    });
  }
});

Deno.test("ProxyError is retryable only for connect failures", none, () => {
  for (const [kind] of EXPECTED) {
    assert.equal(new ProxyError(kind, "x").retryable, kind === "connect", kind);
  }
});

Deno.test("ProxyError keeps its cause", none, () => {
  const cause = new TypeError("reset");
  assert.equal(new ProxyError("upstream", "x", { cause }).cause, cause);
});

Deno.test(
  "asProxyError() keeps a ProxyError and wraps anything else as internal",
  none,
  async (t) => {
    await t.step("a ProxyError is returned as is", () => {
      const e = new ProxyError("connect", "x");
      assert.equal(asProxyError(e), e);
    });
    await t.step("an Error keeps its message and becomes the cause", () => {
      const cause = new RangeError("bad");
      const e = asProxyError(cause);
      assert.equal(e.kind, "internal");
      assert.equal(e.message, "bad");
      assert.equal(e.cause, cause);
      assert.equal(e.retryable, false);
    });
    await t.step("a thrown string", () => {
      const e = asProxyError("oops");
      assert.equal(e.kind, "internal");
      assert.equal(e.message, "oops");
    });
    await t.step("undefined and null", () => {
      assert.equal(asProxyError(undefined).message, "undefined");
      assert.equal(asProxyError(null).message, "null");
    });
  },
);

Deno.test("jsonResponse() writes JSON with the given status and extra headers", none, async () => {
  const res = jsonResponse(429, { error: "too many requests", n: 1 }, { "retry-after": "2" });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("retry-after"), "2");
  assert.deepEqual(await res.json(), { error: "too many requests", n: 1 });
});

Deno.test("jsonResponse() overrides a caller's content-type", none, async () => {
  const res = jsonResponse(200, {}, { "content-type": "text/html" });
  assert.equal(res.headers.get("content-type"), "application/json");
  await res.body?.cancel();
});

Deno.test("jsonResponse() declares the byte length of its body", none, async (t) => {
  for (
    const body of [{ error: "too many requests" }, { error: "café ☕" }, {}] as Array<
      Record<string, string>
    >
  ) {
    await t.step(JSON.stringify(body), async () => {
      const res = jsonResponse(400, body);
      const bytes = new Uint8Array(await res.arrayBuffer());
      assert.equal(res.headers.get("content-length"), String(bytes.byteLength));
      assert.equal(bytes.byteLength, new TextEncoder().encode(JSON.stringify(body)).byteLength);
    });
  }
});
/** An error shaped exactly as the runtime throws it from a failed `Deno.connect`. */
function osError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * What the runtime's `fetch` throws when its connect fails: a TypeError
 * whose cause words the system error (captured from Deno 2.9 under
 * `ulimit -n 64`).
 */
function fetchError(system: string): TypeError {
  return new TypeError("fetch failed", {
    cause: new Error(
      `error sending request for url (http://127.0.0.1:8081/): client error (Connect): tcp open error: ${system}`,
    ),
  });
}

Deno.test(
  "isLocalResourceError() recognises Aegis running out of descriptors, buffers, memory or ports",
  none,
  async (t) => {
    const local: Array<[string, unknown]> = [
      ["EMFILE from Deno.connect", osError("Too many open files (os error 24)", "EMFILE")],
      ["ENFILE", osError("Too many open files in system (os error 23)", "ENFILE")],
      ["ENOBUFS", osError("No buffer space available (os error 105)", "ENOBUFS")],
      ["ENOMEM", osError("Cannot allocate memory (os error 12)", "ENOMEM")],
      ["EADDRNOTAVAIL", osError("Cannot assign requested address (os error 99)", "EADDRNOTAVAIL")],
      ["EMFILE by code alone", osError("whatever the wording", "EMFILE")],
      ["fetch, EMFILE in the cause", fetchError("Too many open files (os error 24)")],
      ["fetch, ENOBUFS on macOS numbering", fetchError("No buffer space available (os error 55)")],
      ["a local_resource ProxyError", new ProxyError("local_resource", "x")],
      [
        "a ProxyError caused by EMFILE",
        new ProxyError("connect", "x", {
          cause: osError("Too many open files (os error 24)", "EMFILE"),
        }),
      ],
    ];
    for (const [name, e] of local) {
      await t.step(name, () => assert.equal(isLocalResourceError(e), true));
    }
  },
);

Deno.test(
  "isLocalResourceError() leaves backend failures alone",
  { permissions: { net: ["127.0.0.1"] } },
  async (t) => {
    // A port that was free a moment ago: connecting to it is refused for real.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const refused = await Deno.connect({ hostname: "127.0.0.1", port }).then(
      (c) => (c.close(), undefined),
      (e: unknown) => e,
    );
    const fetchRefused = await fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.body?.cancel(),
      (e: unknown) => e,
    );
    const backend: Array<[string, unknown]> = [
      ["a real refused connect", refused],
      ["a real refused fetch", fetchRefused],
      [
        "ConnectionReset",
        new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)"),
      ],
      ["TimedOut", new Deno.errors.TimedOut("connect timeout")],
      ["BrokenPipe", new Deno.errors.BrokenPipe("Broken pipe (os error 32)")],
      ["ECONNREFUSED by code", osError("Connection refused (os error 111)", "ECONNREFUSED")],
      ["an upstream ProxyError", new ProxyError("upstream", "reset")],
      // A client-chosen path quoted in a message is percent-encoded: no spaces, no parentheses.
      [
        "a URL that spells the words",
        new Error("for url (http://h/Too%20many%20open%20files%20(os%20error%2024))"),
      ],
      ["a string", "oops"],
      ["undefined", undefined],
      ["null", null],
    ];
    for (const [name, e] of backend) {
      await t.step(name, () => assert.equal(isLocalResourceError(e), false));
    }
  },
);

Deno.test("isLocalResourceError() stops on a cause cycle", none, () => {
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  assert.equal(isLocalResourceError(a), false);
});

Deno.test(
  "localResourceError() turns EMFILE into a local_resource error: 503, internal, never retried",
  none,
  async (t) => {
    const cause = osError("Too many open files (os error 24)", "EMFILE");
    const e = localResourceError(cause)!;
    await t.step("classified, with its cause", () => {
      assert.equal(e.kind, "local_resource");
      assert.equal(e.source, "internal", "not the backend's failure: no breaker, no error count");
      assert.equal(e.retryable, false, "every backend would fail the same way");
      assert.equal(e.cause, cause);
    });
    await t.step("answered 503 with Retry-After, saying nothing of the inside", async () => {
      const res = errorResponse(e);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "1");
      assert.equal(await res.text(), '{"error":"service unavailable"}');
    });
    await t.step("anything else is left to the caller", () => {
      assert.equal(localResourceError(new Deno.errors.ConnectionRefused("refused")), undefined);
      assert.equal(localResourceError(new ProxyError("connect", "refused")), undefined);
    });
    await t.step("a local_resource ProxyError is returned as is", () => {
      const already = new ProxyError("local_resource", "x");
      assert.equal(localResourceError(already), already);
    });
  },
);
