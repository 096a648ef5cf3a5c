import assert from "node:assert/strict";
import { Watchdog } from "../../src/clock/mod.ts";
import {
  type BodyOutcome,
  bodyReadFailure,
  guardRequestBody,
  guardResponseBody,
  isMalformedFraming,
  prepareBody,
  SMALL_BODY_BYTES,
} from "../../src/proxy/body.ts";
import { ProxyError } from "../../src/core/mod.ts";
import { ManualClock } from "../_helpers/clock.ts";

const none = { permissions: "none" } as const;

const TICK_MS = 100;

/** Lets pending promise callbacks run (no clock involved). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A body the test feeds by hand; it sends only what `push` gives it. */
function source() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const state = { pulls: 0, cancelled: false, reason: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
    },
    pull() {
      state.pulls++;
    },
    cancel(reason) {
      state.cancelled = true;
      state.reason = reason;
    },
  }, { highWaterMark: 0 });
  return {
    stream,
    state,
    /** Sends a chunk of `n` bytes, each byte `fill`. */
    push: (n: number, fill = 0x61) => ctl.enqueue(new Uint8Array(n).fill(fill)),
    close: () => ctl.close(),
    error: (e: unknown) => ctl.error(e),
  };
}

/** Reads a stream to its end or its error. */
async function readAll(stream: ReadableStream<Uint8Array>) {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks, bytes: total(chunks), error: undefined as unknown };
  } catch (error) {
    return { chunks, bytes: total(chunks), error };
  }
}

function total(chunks: Uint8Array[]): number {
  return chunks.reduce((n, c) => n + c.byteLength, 0);
}

/** Asserts that `e` is a ProxyError of `kind` and returns it. */
function proxyError(e: unknown, kind: string): ProxyError {
  assert.ok(e instanceof ProxyError, `expected a ProxyError, got ${e}`);
  assert.equal(e.kind, kind);
  return e;
}

function setup() {
  const clock = new ManualClock();
  const watchdog = new Watchdog({ clock, tickMs: TICK_MS });
  return { clock, watchdog };
}

// ---------------------------------------------------------------- request bodies

const MAX = 10;
const IDLE_MS = 1_000;

Deno.test("guardRequestBody() passes a body within the limit through unchanged", none, async () => {
  const { watchdog } = setup();
  const src = source();
  src.push(3, 1);
  src.push(4, 2);
  src.push(3, 3);
  src.close();
  const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
  const { chunks, error } = await readAll(guarded.stream);
  assert.equal(error, undefined);
  assert.deepEqual(chunks.map((c) => [...c]), [[1, 1, 1], [2, 2, 2, 2], [3, 3, 3]]);
  assert.equal(guarded.bytes(), 10);
  assert.equal(guarded.failure(), undefined);
  assert.equal(watchdog.size, 0);
  watchdog[Symbol.dispose]();
});

Deno.test("guardRequestBody() passes an empty body through", none, async () => {
  const { watchdog } = setup();
  const src = source();
  src.close();
  const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
  const { chunks, error } = await readAll(guarded.stream);
  assert.deepEqual(chunks, []);
  assert.equal(error, undefined);
  assert.equal(guarded.bytes(), 0);
  watchdog[Symbol.dispose]();
});

Deno.test(
  "guardRequestBody() errors past maxBytes without forwarding the crossing chunk",
  none,
  async (t) => {
    await t.step("the third of three 4-byte chunks crosses 10 bytes", async () => {
      const { watchdog } = setup();
      const src = source();
      src.push(4);
      src.push(4);
      src.push(4); // the client is still sending
      const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
      const { bytes, error } = await readAll(guarded.stream);
      assert.equal(bytes, 8);
      assert.ok(bytes <= MAX);
      assert.equal(proxyError(error, "body_too_large"), guarded.failure());
      assert.equal(src.state.cancelled, true, "the client's body is cancelled");
      assert.equal(watchdog.size, 0);
      watchdog[Symbol.dispose]();
    });
    await t.step("a single chunk larger than the limit forwards nothing", async () => {
      const { watchdog } = setup();
      const src = source();
      src.push(MAX + 1);
      const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
      const { bytes, error } = await readAll(guarded.stream);
      assert.equal(bytes, 0);
      proxyError(error, "body_too_large");
      assert.equal(src.state.cancelled, true);
      watchdog[Symbol.dispose]();
    });
    await t.step("exactly maxBytes is allowed", async () => {
      const { watchdog } = setup();
      const src = source();
      src.push(5);
      src.push(5);
      src.close();
      const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
      const { bytes, error } = await readAll(guarded.stream);
      assert.equal(bytes, MAX);
      assert.equal(error, undefined);
      watchdog[Symbol.dispose]();
    });
    await t.step("one byte over after an exact fill", async () => {
      const { watchdog } = setup();
      const src = source();
      src.push(MAX);
      src.push(1);
      src.close();
      const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
      const { bytes, error } = await readAll(guarded.stream);
      assert.equal(bytes, MAX);
      proxyError(error, "body_too_large");
      watchdog[Symbol.dispose]();
    });
  },
);

Deno.test(
  "guardRequestBody() errors with client_timeout when the client stalls for idleMs",
  none,
  async (t) => {
    const { clock, watchdog } = setup();
    const src = source();
    src.push(2);
    const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
    const reader = guarded.stream.getReader();
    assert.equal((await reader.read()).value?.byteLength, 2);
    const next = reader.read().then(() => undefined, (e: unknown) => e);
    await settle();
    await t.step("nothing happens one millisecond short of idleMs", async () => {
      clock.advance(IDLE_MS - 1);
      watchdog.sweep();
      await settle();
      assert.equal(guarded.failure(), undefined);
      assert.equal(src.state.cancelled, false);
    });
    await t.step("at idleMs the body errors and the client's body is cancelled", async () => {
      clock.advance(1);
      watchdog.sweep();
      const error = proxyError(await next, "client_timeout");
      assert.equal(guarded.failure(), error);
      assert.equal(src.state.cancelled, true);
      assert.equal(src.state.reason, error);
      assert.equal(watchdog.size, 0);
    });
    watchdog[Symbol.dispose]();
  },
);

Deno.test("guardRequestBody() measures each pause, not the whole upload", none, async () => {
  const { clock, watchdog } = setup();
  const src = source();
  const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
  const reader = guarded.stream.getReader();
  for (let i = 0; i < 5; i++) {
    const next = reader.read();
    await settle();
    clock.advance(IDLE_MS - TICK_MS);
    src.push(1);
    assert.equal((await next).value?.byteLength, 1);
  }
  src.close();
  assert.equal((await reader.read()).done, true);
  assert.equal(guarded.failure(), undefined);
  watchdog[Symbol.dispose]();
});

Deno.test("guardRequestBody() does not count a slow reader as a stalled client", none, async () => {
  const { clock, watchdog } = setup();
  const src = source();
  src.push(1);
  src.push(1);
  src.close();
  const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
  const reader = guarded.stream.getReader();
  await reader.read();
  assert.equal(watchdog.size, 0, "no deadline while Aegis is not asking for data");
  clock.advance(10 * IDLE_MS);
  assert.equal((await reader.read()).value?.byteLength, 1);
  assert.equal((await reader.read()).done, true);
  assert.equal(guarded.failure(), undefined);
  watchdog[Symbol.dispose]();
});

Deno.test(
  "guardRequestBody() reads from the client only when asked (backpressure)",
  none,
  async () => {
    const { watchdog } = setup();
    const src = source();
    const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
    await settle();
    assert.equal(src.state.pulls, 0);
    const reader = guarded.stream.getReader();
    const next = reader.read();
    await settle();
    assert.equal(src.state.pulls, 1);
    src.push(1);
    await next;
    await settle();
    assert.equal(src.state.pulls, 1);
    await reader.cancel();
    watchdog[Symbol.dispose]();
  },
);

Deno.test(
  "guardRequestBody() reports waiting for the client and each chunk handed on",
  none,
  async () => {
    const { watchdog } = setup();
    const src = source();
    const events: string[] = [];
    const guarded = guardRequestBody(src.stream, {
      maxBytes: MAX,
      idleMs: IDLE_MS,
      watchdog,
      onWaitClient: () => events.push("wait"),
      onProgress: () => events.push("progress"),
    });
    src.push(1);
    src.push(1);
    src.close();
    await readAll(guarded.stream);
    assert.deepEqual(events, ["wait", "progress", "wait", "progress", "wait", "progress"]);
    watchdog[Symbol.dispose]();
  },
);

Deno.test(
  "guardRequestBody() cancels the client's body when the consumer cancels",
  none,
  async () => {
    const { clock, watchdog } = setup();
    const src = source();
    const guarded = guardRequestBody(src.stream, { maxBytes: MAX, idleMs: IDLE_MS, watchdog });
    const reader = guarded.stream.getReader();
    const next = reader.read();
    await settle();
    await reader.cancel("backend gone");
    assert.equal((await next).done, true);
    assert.equal(src.state.cancelled, true);
    assert.equal(src.state.reason, "backend gone");
    assert.equal(watchdog.size, 0);
    clock.advance(10 * IDLE_MS);
    assert.equal(guarded.failure(), undefined, "a cancelled body is not a client timeout");
    watchdog[Symbol.dispose]();
  },
);

// ---------------------------------------------------------------- malformed framing

/** What the runtime's HTTP/1 server rejects a body read with, measured on Deno 2.9. */
const INVALID_CHUNK = () => new Error("invalid HTTP/1 request: Invalid");
/** And what it gives when the client goes away mid-body. */
const GONE = () => new Error("Cannot read request body as underlying resource unavailable");

Deno.test(
  "isMalformedFraming() tells broken framing from a client that went away",
  none,
  async (t) => {
    await t.step("a body read the runtime rejected as invalid", () => {
      assert.equal(isMalformedFraming(INVALID_CHUNK()), true);
    });
    await t.step("the connection error the runtime gives when no handler ran", () => {
      assert.equal(isMalformedFraming(new Error("Error: invalid HTTP/1 request: Invalid")), true);
    });
    await t.step("a client that closed, reset or half-closed mid-body", () => {
      assert.equal(isMalformedFraming(GONE()), false);
      assert.equal(isMalformedFraming(new Error("connection reset")), false);
    });
    await t.step("things that are not errors", () => {
      assert.equal(isMalformedFraming("invalid HTTP/1 request: Invalid"), false);
      assert.equal(isMalformedFraming(undefined), false);
    });
  },
);

Deno.test("bodyReadFailure() names the failure, keeping a ProxyError as it is", none, () => {
  proxyError(bodyReadFailure(INVALID_CHUNK()), "malformed_body");
  proxyError(bodyReadFailure(GONE()), "client_closed");
  const inner = new ProxyError("body_too_large", "x");
  assert.equal(bodyReadFailure(inner), inner);
});

Deno.test(
  "guardRequestBody() says why the client's body failed: it went away, or its framing broke",
  none,
  async (t) => {
    const cases: Array<[string, () => Error, string]> = [
      ["a reset is client_closed", () => new Error("connection reset"), "client_closed"],
      ["broken framing is malformed_body", INVALID_CHUNK, "malformed_body"],
    ];
    for (const [name, failure, kind] of cases) {
      await t.step(name, async () => {
        const { watchdog } = setup();
        const src = source();
        src.push(3);
        const guarded = guardRequestBody(src.stream, {
          maxBytes: MAX,
          idleMs: IDLE_MS,
          watchdog,
        });
        const reader = guarded.stream.getReader();
        await reader.read();
        const next = reader.read().then(() => undefined, (e: unknown) => e);
        await settle();
        const cause = failure();
        src.error(cause);
        const error = proxyError(await next, kind);
        assert.equal(error.cause, cause);
        assert.equal(error.source, "downstream");
        assert.equal(guarded.failure(), error);
        assert.equal(watchdog.size, 0);
        watchdog[Symbol.dispose]();
      });
    }
  },
);

Deno.test(
  "guardRequestBody() passes on the failure of a guard further in, not client_closed",
  none,
  async () => {
    const { watchdog } = setup();
    const src = source();
    const inner = guardRequestBody(src.stream, { maxBytes: 100, idleMs: IDLE_MS, watchdog });
    const outer = guardRequestBody(inner.stream, { maxBytes: 100, idleMs: IDLE_MS, watchdog });
    const reading = readAll(outer.stream);
    src.push(2);
    await settle();
    src.error(INVALID_CHUNK());
    const { bytes, error } = await reading;
    assert.equal(bytes, 2);
    proxyError(error, "malformed_body");
    assert.equal(outer.failure(), inner.failure());
    watchdog[Symbol.dispose]();
  },
);

/** A chunked-looking request (no Content-Length) whose body is `src`. */
function uploadOf(body: ReadableStream<Uint8Array>): Request {
  return new Request("http://h/", { method: "POST", body, duplex: "half" } as RequestInit);
}

Deno.test(
  "prepareBody() throws malformed_body when a small body's framing breaks",
  none,
  async () => {
    const { watchdog } = setup();
    const src = source();
    const reading = prepareBody(uploadOf(src.stream), {
      maxBytes: 1 << 20,
      idleMs: IDLE_MS,
      watchdog,
    }).then(() => undefined, (e: unknown) => e);
    src.push(10);
    await settle();
    src.error(INVALID_CHUNK());
    proxyError(await reading, "malformed_body");
    assert.equal(watchdog.size, 0);
    watchdog[Symbol.dispose]();
  },
);

Deno.test(
  "prepareBody() hands on a large body whose later framing error surfaces as malformed_body",
  none,
  async () => {
    const { watchdog } = setup();
    const src = source();
    const preparing = prepareBody(uploadOf(src.stream), {
      maxBytes: 1 << 20,
      idleMs: IDLE_MS,
      watchdog,
    });
    src.push(SMALL_BODY_BYTES + 1);
    const prepared = await preparing;
    assert.equal(prepared.replayable, false);
    if (prepared.replayable) return;
    // The forwarding core guards the stream once more; the kind must survive it.
    const forwarded = guardRequestBody(prepared.stream, {
      maxBytes: 1 << 20,
      idleMs: IDLE_MS,
      watchdog,
    });
    const reading = readAll(forwarded.stream);
    await settle();
    src.error(INVALID_CHUNK());
    const { bytes, error } = await reading;
    assert.equal(bytes, SMALL_BODY_BYTES + 1);
    proxyError(error, "malformed_body");
    proxyError(forwarded.failure(), "malformed_body");
    watchdog[Symbol.dispose]();
  },
);

// ---------------------------------------------------------------- response bodies

const WRITE_IDLE_MS = 2_000;
const READ_IDLE_MS = 5_000;

/** A guarded response body whose onEnd calls are recorded. */
function response(watchdog: Watchdog) {
  const src = source();
  const ends: Array<{ outcome: BodyOutcome; bytes: number; error: unknown }> = [];
  const stream = guardResponseBody(src.stream, {
    writeIdleMs: WRITE_IDLE_MS,
    readIdleMs: READ_IDLE_MS,
    watchdog,
    onEnd: (outcome, bytes, error) => ends.push({ outcome, bytes, error }),
  });
  return { src, ends, stream };
}

Deno.test(
  "guardResponseBody() passes the body through and ends once with complete",
  none,
  async () => {
    const { clock, watchdog } = setup();
    const { src, ends, stream } = response(watchdog);
    src.push(3, 7);
    src.push(5, 8);
    src.close();
    const { chunks, error } = await readAll(stream);
    assert.equal(error, undefined);
    assert.deepEqual(chunks.map((c) => [...c]), [[7, 7, 7], [8, 8, 8, 8, 8]]);
    assert.deepEqual(ends, [{ outcome: "complete", bytes: 8, error: undefined }]);
    assert.equal(src.state.cancelled, false);
    assert.equal(watchdog.size, 0);
    clock.advance(10 * READ_IDLE_MS);
    await stream.cancel().catch(() => {});
    assert.equal(ends.length, 1);
    watchdog[Symbol.dispose]();
  },
);

Deno.test(
  "guardResponseBody() reports complete with zero bytes for an empty body",
  none,
  async () => {
    const { watchdog } = setup();
    const { src, ends, stream } = response(watchdog);
    src.close();
    await readAll(stream);
    assert.deepEqual(ends, [{ outcome: "complete", bytes: 0, error: undefined }]);
    watchdog[Symbol.dispose]();
  },
);

Deno.test(
  "guardResponseBody() ends with client_closed when the consumer cancels",
  none,
  async (t) => {
    await t.step("after some bytes were delivered", async () => {
      const { clock, watchdog } = setup();
      const { src, ends, stream } = response(watchdog);
      src.push(4);
      const reader = stream.getReader();
      await reader.read();
      await reader.cancel("client went away");
      assert.deepEqual(ends, [{ outcome: "client_closed", bytes: 4, error: "client went away" }]);
      assert.equal(src.state.cancelled, true, "the backend body is cancelled");
      assert.equal(watchdog.size, 0);
      clock.advance(10 * READ_IDLE_MS);
      assert.equal(ends.length, 1);
      watchdog[Symbol.dispose]();
    });
    await t.step("while waiting for the backend", async () => {
      const { clock, watchdog } = setup();
      const { src, ends, stream } = response(watchdog);
      const reader = stream.getReader();
      const next = reader.read();
      await settle();
      await reader.cancel("bye");
      assert.equal((await next).done, true);
      assert.deepEqual(ends, [{ outcome: "client_closed", bytes: 0, error: "bye" }]);
      assert.equal(src.state.cancelled, true);
      clock.advance(10 * READ_IDLE_MS);
      assert.equal(ends.length, 1);
      watchdog[Symbol.dispose]();
    });
  },
);

Deno.test(
  "guardResponseBody() ends with upstream_error when the backend body fails",
  none,
  async () => {
    const { clock, watchdog } = setup();
    const { src, ends, stream } = response(watchdog);
    src.push(2);
    const reader = stream.getReader();
    await reader.read();
    const next = reader.read().then(() => undefined, (e: unknown) => e);
    await settle();
    const reset = new TypeError("connection reset");
    src.error(reset);
    // The client stream errors too, with the request path's own error type:
    // the listener leaves logging it to the responder.
    const seen = await next;
    assert.ok(seen instanceof ProxyError && seen.kind === "upstream" && seen.cause === reset);
    assert.deepEqual(ends, [{ outcome: "upstream_error", bytes: 2, error: reset }]);
    assert.equal(watchdog.size, 0);
    await reader.cancel().catch(() => {});
    clock.advance(10 * READ_IDLE_MS);
    assert.equal(ends.length, 1);
    watchdog[Symbol.dispose]();
  },
);

Deno.test(
  "guardResponseBody() ends with write_timeout when the client stops reading",
  none,
  async (t) => {
    const { clock, watchdog } = setup();
    const { src, ends, stream } = response(watchdog);
    src.push(6);
    src.push(6);
    const reader = stream.getReader();
    assert.equal((await reader.read()).value?.byteLength, 6);
    await settle();
    await t.step("nothing happens one millisecond short of writeIdleMs", () => {
      clock.advance(WRITE_IDLE_MS - 1);
      watchdog.sweep();
      assert.deepEqual(ends, []);
    });
    await t.step("at writeIdleMs the body ends and the backend body is cancelled", async () => {
      clock.advance(1);
      watchdog.sweep();
      assert.equal(ends.length, 1);
      assert.equal(ends[0]!.outcome, "write_timeout");
      assert.equal(ends[0]!.bytes, 6);
      proxyError(ends[0]!.error, "client_closed");
      await settle();
      assert.equal(src.state.cancelled, true);
      assert.equal(watchdog.size, 0);
    });
    await t.step("the client stream is errored, not closed as if complete", async () => {
      await assert.rejects(reader.read(), ProxyError);
    });
    await t.step("nothing else is reported afterwards", async () => {
      await reader.cancel().catch(() => {});
      clock.advance(10 * READ_IDLE_MS);
      assert.equal(ends.length, 1);
    });
    watchdog[Symbol.dispose]();
  },
);

Deno.test(
  "guardResponseBody() ends with upstream_timeout when the backend stalls",
  none,
  async (t) => {
    const { clock, watchdog } = setup();
    const { src, ends, stream } = response(watchdog);
    src.push(3);
    const reader = stream.getReader();
    await reader.read();
    const next = reader.read().then(() => undefined, (e: unknown) => e);
    await settle();
    await t.step("the shorter write deadline does not apply while waiting on the backend", () => {
      clock.advance(WRITE_IDLE_MS);
      watchdog.sweep();
      assert.deepEqual(ends, []);
    });
    await t.step("nothing happens one millisecond short of readIdleMs", () => {
      clock.advance(READ_IDLE_MS - WRITE_IDLE_MS - 1);
      watchdog.sweep();
      assert.deepEqual(ends, []);
    });
    await t.step("at readIdleMs the body ends and the client stream errors", async () => {
      clock.advance(1);
      watchdog.sweep();
      assert.equal(ends.length, 1);
      assert.equal(ends[0]!.outcome, "upstream_timeout");
      assert.equal(ends[0]!.bytes, 3);
      const error = proxyError(ends[0]!.error, "upstream");
      assert.equal(await next, error);
      await settle();
      assert.equal(src.state.cancelled, true);
      assert.equal(watchdog.size, 0);
    });
    await t.step("nothing else is reported afterwards", async () => {
      await reader.cancel().catch(() => {});
      clock.advance(10 * READ_IDLE_MS);
      assert.equal(ends.length, 1);
    });
    watchdog[Symbol.dispose]();
  },
);

Deno.test("guardResponseBody() measures each pause, not the whole response", none, async () => {
  const { clock, watchdog } = setup();
  const { src, ends, stream } = response(watchdog);
  const reader = stream.getReader();
  for (let i = 0; i < 5; i++) {
    const next = reader.read();
    await settle();
    clock.advance(READ_IDLE_MS - TICK_MS); // a slow backend...
    src.push(1);
    await next;
    clock.advance(WRITE_IDLE_MS - TICK_MS); // ...and a slow client, each within its limit
  }
  src.close();
  assert.equal((await reader.read()).done, true);
  assert.deepEqual(ends, [{ outcome: "complete", bytes: 5, error: undefined }]);
  watchdog[Symbol.dispose]();
});

Deno.test(
  "guardResponseBody() reads from the backend only when asked (backpressure)",
  none,
  async () => {
    const { watchdog } = setup();
    const { src, stream } = response(watchdog);
    await settle();
    assert.equal(src.state.pulls, 0);
    const reader = stream.getReader();
    const next = reader.read();
    await settle();
    assert.equal(src.state.pulls, 1);
    src.push(1);
    await next;
    await settle();
    assert.equal(src.state.pulls, 1);
    await reader.cancel();
    watchdog[Symbol.dispose]();
  },
);
