import assert from "node:assert/strict";
import { systemClock, Watchdog } from "../../src/clock/mod.ts";
import { fieldList, type HeaderList, ProxyError } from "../../src/core/mod.ts";
import {
  backendHandshakeHeaders,
  backendUrl,
  checkHandshake,
  connectBackend,
  handshakeFailure,
  offeredProtocols,
  relayWebSocket,
  type SessionEnd,
  SessionRegistry,
  wantsWebSocket,
} from "../../src/proxy/websocket.ts";
import { ManualClock } from "../_helpers/clock.ts";
import { dyingBackend, echoMessages } from "../_helpers/websocket.ts";
import { readUntilClose, send } from "../_helpers/raw.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const HANDSHAKE: HeaderList = [
  ["upgrade", "websocket"],
  ["connection", "Upgrade"],
  ["sec-websocket-key", KEY],
  ["sec-websocket-version", "13"],
];

Deno.test("wantsWebSocket() takes only Upgrade: websocket with Connection: upgrade", async (t) => {
  await t.step("a WebSocket handshake", () => assert.ok(wantsWebSocket(HANDSHAKE)));
  await t.step("h2c is never a WebSocket", () => {
    assert.ok(!wantsWebSocket([["upgrade", "h2c"], ["connection", "Upgrade, HTTP2-Settings"]]));
  });
  await t.step("Upgrade without Connection: upgrade", () => {
    assert.ok(!wantsWebSocket([["upgrade", "websocket"], ["connection", "keep-alive"]]));
  });
  await t.step("a list and odd case", () => {
    assert.ok(
      wantsWebSocket([["Upgrade", "foo, WebSocket"], ["Connection", "keep-alive, Upgrade"]]),
    );
  });
});

Deno.test("checkHandshake() refuses hostile handshakes with 400 and foreign origins with 403", async (t) => {
  const none = new Set<string>();
  await t.step("a well-formed one passes", () => {
    assert.equal(checkHandshake("GET", HANDSHAKE, none), undefined);
  });
  await t.step("upgrade on POST", () => {
    assert.equal(checkHandshake("POST", HANDSHAKE, none)?.reason, "websocket_not_get");
  });
  await t.step("GET with a body", () => {
    const r = checkHandshake("GET", [...HANDSHAKE, ["content-length", "5"]], none);
    assert.deepEqual([r?.status, r?.reason], [400, "websocket_with_body"]);
    const chunked = checkHandshake("GET", [...HANDSHAKE, ["transfer-encoding", "chunked"]], none);
    assert.equal(chunked?.reason, "websocket_with_body");
  });
  await t.step("missing or malformed Sec-WebSocket-Key", () => {
    const without = HANDSHAKE.filter(([n]) => n !== "sec-websocket-key");
    assert.equal(checkHandshake("GET", without, none)?.reason, "websocket_bad_key");
    const short = [...without, ["sec-websocket-key", "c2hvcnQ="]] as HeaderList;
    assert.equal(checkHandshake("GET", short, none)?.reason, "websocket_bad_key");
  });
  await t.step("wrong version says which one is spoken", () => {
    const v8 = [...HANDSHAKE.filter(([n]) => n !== "sec-websocket-version"), [
      "sec-websocket-version",
      "8",
    ]] as HeaderList;
    const r = checkHandshake("GET", v8, none);
    assert.deepEqual([r?.status, r?.reason, r?.headers], [400, "websocket_bad_version", {
      "sec-websocket-version": "13",
    }]);
  });
  await t.step("Origin allow-list", () => {
    const allowed = new Set(["https://app.example"]);
    const ok = [...HANDSHAKE, ["origin", "https://app.example"]] as HeaderList;
    const evil = [...HANDSHAKE, ["origin", "https://evil.example"]] as HeaderList;
    assert.equal(checkHandshake("GET", ok, allowed), undefined);
    assert.deepEqual(checkHandshake("GET", evil, allowed), {
      status: 403,
      reason: "origin_not_allowed",
    });
    assert.equal(checkHandshake("GET", HANDSHAKE, allowed)?.status, 403);
  });
});

Deno.test("the backend gets ws(s) URLs, the client's protocols and no client handshake fields", () => {
  assert.equal(backendUrl("http://10.0.0.5:8080", "/chat", "?a=1"), "ws://10.0.0.5:8080/chat?a=1");
  assert.equal(backendUrl("https://b.example/api", "/x", ""), "wss://b.example/api/x");
  const fields = fieldList(
    new Headers([["sec-websocket-protocol", "chat, v2"], ["Sec-WebSocket-Protocol", "v3"]]),
  );
  assert.deepEqual(offeredProtocols(fields), ["chat", "v2", "v3"]);
  assert.deepEqual(
    backendHandshakeHeaders([...HANDSHAKE, ["x-request-id", "r1"], ["host", "h"]]),
    [["upgrade", "websocket"], ["connection", "Upgrade"], ["x-request-id", "r1"]],
  );
});

Deno.test("handshakeFailure() tells a refusal (with its status) from a connection failure", () => {
  const refused = handshakeFailure(
    new Error("failed to connect to WebSocket: Invalid status code: 403"),
  );
  assert.equal(refused.kind, "upstream");
  assert.equal(refused.status, 403);
  const down = handshakeFailure(new Error("failed to connect to WebSocket: Connection refused"));
  assert.equal(down.kind, "connect");
  assert.equal(down.status, undefined);
});

/** A backend that echoes every message and closes as the client asks (`close:<code>`). */
function echoBackend() {
  const seen: Headers[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(request.headers);
    const wanted = offeredProtocols(fieldList(request.headers));
    if (request.headers.get("x-refuse")) return new Response("no", { status: 403 });
    const { socket, response } = Deno.upgradeWebSocket(request, {
      protocol: wanted[0],
      idleTimeout: 0,
    });
    socket.onmessage = (e) => {
      const m = /^close:(\d+)$/.exec(typeof e.data === "string" ? e.data : "");
      if (m) socket.close(Number(m[1]), "backend says bye");
      else socket.send(e.data);
    };
    return response;
  });
  return { server, seen, url: `http://127.0.0.1:${server.addr.port}` };
}

/**
 * A front that relays WebSockets to `base` as the proxy does once it has
 * picked a backend, with the registry's caps and drain.
 */
function relayFront(base: string, options: {
  watchdog: Watchdog;
  idleTimeoutMs?: number;
  registry?: SessionRegistry;
}) {
  const registry = options.registry ?? new SessionRegistry(0, 0);
  const sessions: Promise<SessionEnd>[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request, info) => {
      const fields = fieldList(request.headers);
      const refusal = checkHandshake(request.method, fields, new Set());
      if (refusal) return new Response(refusal.reason, { status: refusal.status });
      const permit = registry.admit(info.remoteAddr.hostname);
      if (typeof permit === "string") return new Response(permit, { status: 503 });
      const url = new URL(request.url);
      let backend;
      try {
        backend = await connectBackend(
          backendUrl(base, url.pathname, url.search),
          offeredProtocols(fields),
          [
            ["x-request-id", "req-1"],
            ...(request.headers.has("x-refuse") ? [["x-refuse", "1"]] as HeaderList : []),
          ],
          AbortSignal.timeout(5000),
        );
      } catch (e) {
        permit[Symbol.dispose]();
        const error = e as ProxyError & { status?: number };
        return new Response(error.kind, { status: error.status ?? 502 });
      }
      const { socket, response } = Deno.upgradeWebSocket(request, {
        protocol: backend.protocol || undefined,
        idleTimeout: 0,
      });
      const session = relayWebSocket(socket, backend, {
        watch: (onExpire) => options.watchdog.watch(onExpire),
        idleTimeoutMs: options.idleTimeoutMs ?? 0,
        maxPendingBytes: 16 * 1024 * 1024,
      });
      permit.track(session);
      sessions.push(session.ended.finally(() => permit[Symbol.dispose]()));
      return response;
    },
  );
  /** How every session so far ended, once they all have. */
  const ends = () => Promise.all(sessions);
  return { server, ends, registry, url: `ws://127.0.0.1:${server.addr.port}` };
}

/** Opens a client WebSocket and waits for it to open. */
async function open(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("did not open"));
  });
  return ws;
}

function closed(ws: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
}

Deno.test("10,000 text and binary messages go both ways through the relay, in order", async () => {
  const backend = echoBackend();
  using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
  const front = relayFront(backend.url, { watchdog });
  const ws = await open(front.url + "/chat?room=1", ["chat.v2", "chat.v1"]);
  assert.equal(ws.protocol, "chat.v2");
  const N = 10_000;
  const got = await echoMessages(ws, N);
  for (let i = 0; i < N; i++) assert.equal(got[i], i % 2 === 0 ? `m${i}` : i);
  ws.close(1000, "done");
  const event = await closed(ws);
  assert.equal(event.code, 1000);
  await front.server.shutdown();
  await backend.server.shutdown();
  const [end] = await front.ends();
  assert.equal(end?.by, "client");
  assert.equal(end?.bytesToBackend, end?.bytesToClient);
  // The handshake carried the forwarding headers and the client's offer.
  assert.equal(backend.seen[0]?.get("x-request-id"), "req-1");
  assert.equal(backend.seen[0]?.get("sec-websocket-protocol"), "chat.v2, chat.v1");
});

Deno.test("close codes and reasons are relayed", async (t) => {
  const backend = echoBackend();
  using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
  const front = relayFront(backend.url, { watchdog });
  for (const code of [1000, 1008, 1011, 4001]) {
    await t.step(`the backend closes with ${code}`, async () => {
      const ws = await open(front.url);
      ws.send(`close:${code}`);
      const event = await closed(ws);
      assert.deepEqual([event.code, event.reason], [code, "backend says bye"]);
    });
  }
  await t.step("the client closes with 4000: the backend ends the same way", async () => {
    const ws = await open(front.url);
    ws.close(4000, "client says bye");
    assert.equal((await closed(ws)).code, 4000);
  });
  await front.server.shutdown();
  await backend.server.shutdown();
  assert.deepEqual((await front.ends()).map((e) => [e.by, e.code]), [
    ["backend", 1000],
    ["backend", 1008],
    ["backend", 1011],
    ["backend", 4001],
    ["client", 4000],
  ]);
});

Deno.test("a backend that dies mid-session closes the client's side with 1011", async () => {
  const backend = dyingBackend();
  using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
  const front = relayFront(backend.url, { watchdog });
  const ws = await open(front.url);
  ws.send("hello");
  const event = await closed(ws);
  assert.equal(event.code, 1011);
  await backend.done;
  await front.server.shutdown();
  assert.equal((await front.ends())[0]?.by, "backend_failed");
});

Deno.test("a backend that refuses the upgrade: its status reaches the client, nothing is relayed", async () => {
  const backend = echoBackend();
  using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
  const front = relayFront(backend.url, { watchdog });
  const res = await fetch(front.url.replace("ws:", "http:"), {
    headers: Object.fromEntries([...HANDSHAKE, ["x-refuse", "1"]]),
  });
  assert.equal(res.status, 403);
  assert.equal(await res.text(), "upstream");
  assert.equal(front.registry.open, 0);
  await front.server.shutdown();
  await backend.server.shutdown();
});

Deno.test("a hostile upgrade over a raw socket gets a clean 400 and the front keeps serving", async () => {
  const backend = echoBackend();
  using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
  const front = relayFront(backend.url, { watchdog });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: front.server.addr.port });
  await send(
    conn,
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n",
  );
  const result = await readUntilClose(conn, 5000);
  assert.equal(result.status, 400);
  assert.equal(backend.seen.length, 0);
  const ws = await open(front.url);
  ws.close();
  await closed(ws);
  await front.server.shutdown();
  await backend.server.shutdown();
});

Deno.test("idle sessions are closed on both sides when the deadline passes", async () => {
  const backend = echoBackend();
  const clock = new ManualClock();
  using watchdog = new Watchdog({ clock, tickMs: 50 });
  const front = relayFront(backend.url, { watchdog, idleTimeoutMs: 60_000 });
  const ws = await open(front.url);
  ws.send("a");
  await new Promise((r) => ws.onmessage = r);
  clock.advance(59_000);
  watchdog.sweep();
  assert.equal(ws.readyState, WebSocket.OPEN);
  clock.advance(61_000);
  watchdog.sweep();
  const event = await closed(ws);
  assert.deepEqual([event.code, event.reason], [1001, "idle timeout"]);
  await front.server.shutdown();
  await backend.server.shutdown();
  assert.equal((await front.ends())[0]?.by, "idle");
});

Deno.test("SessionRegistry caps sessions per client and overall, and drain closes them with 1001", async () => {
  const backend = echoBackend();
  using watchdog = new Watchdog({ clock: systemClock, tickMs: 50 });
  const front = relayFront(backend.url, { watchdog, registry: new SessionRegistry(3, 2) });
  const a = await open(front.url);
  const b = await open(front.url);
  await assert.rejects(open(front.url), /did not open/);
  assert.equal(front.registry.open, 2);
  // Many sessions at once each get only their own messages.
  const echoes = await Promise.all([a, b].map((ws, i) =>
    new Promise((resolve) => {
      ws.onmessage = (e) => resolve(e.data);
      ws.send(`only-${i}`);
    })
  ));
  assert.deepEqual(echoes, ["only-0", "only-1"]);
  const events = Promise.all([closed(a), closed(b)]);
  await front.registry.closeAll();
  assert.deepEqual((await events).map((e) => e.code), [1001, 1001]);
  assert.equal(front.registry.open, 0);
  await front.server.shutdown();
  await backend.server.shutdown();
});

Deno.test("SessionRegistry counts a refused client apart from the overall cap", () => {
  const registry = new SessionRegistry(2, 1);
  const first = registry.admit("203.0.113.9");
  assert.equal(typeof first, "object");
  assert.equal(registry.admit("203.0.113.9"), "per_client");
  const other = registry.admit("198.51.100.7");
  assert.equal(registry.admit("192.0.2.1"), "max_connections");
  (first as Disposable)[Symbol.dispose]();
  (first as Disposable)[Symbol.dispose]();
  assert.equal(registry.open, 1);
  (other as Disposable)[Symbol.dispose]();
  assert.equal(registry.open, 0);
});
