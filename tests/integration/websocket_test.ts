/**
 * WebSocket through a running Aegis, over real sockets: Deno's `WebSocket`
 * client, Aegis's http listener, a `Deno.upgradeWebSocket` backend.
 * Messages both ways in order, close codes, a backend killed mid-session,
 * `wss://` through a TLS listener, hostile and foreign handshakes, caps,
 * idle sessions, drain, many sessions at once, metrics and the access log.
 */

import assert from "node:assert/strict";
import { startTestAegis, type TestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { liveConfigFile, parseTestConfig } from "../_helpers/config.ts";
import { connect, readUntilClose, send } from "../_helpers/raw.ts";
import { createPki, curl } from "../_helpers/tls.ts";
import { dyingBackend, echoMessages } from "../_helpers/websocket.ts";

const quiet = { health_check: { interval: "1h" } };

/** Waits until `check` holds (it may be async), for at most 10 s. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting: ${check}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A WebSocket backend: echoes, closes as asked (`close:<code>`), says who it is (`who`). */
function echoBackend(name = "b") {
  const closes: number[] = [];
  /** The forwarding headers of each handshake, read while the request lives. */
  const handshakes: Record<string, string | null>[] = [];
  const backend = startBackend((request) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response(`plain upgrade=${request.headers.get("upgrade")}`);
    }
    if (new URL(request.url).pathname === "/refuse") return new Response("no", { status: 403 });
    handshakes.push(Object.fromEntries(
      ["x-forwarded-for", "x-forwarded-proto", "x-request-id"].map((
        n,
      ) => [n, request.headers.get(n)]),
    ));
    const offered = request.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
    const { socket, response } = Deno.upgradeWebSocket(request, {
      ...(offered ? { protocol: offered } : {}),
      idleTimeout: 0,
    });
    socket.onmessage = (e) => {
      const close = /^close:(\d+)$/.exec(typeof e.data === "string" ? e.data : "");
      if (close) socket.close(Number(close[1]), "backend says bye");
      else if (e.data === "who") socket.send(name);
      else socket.send(e.data);
    };
    socket.onclose = (e) => closes.push(e.code);
    return response;
  });
  return Object.assign(backend, { closes, handshakes });
}

/** One http listener `web` relaying to pool `p`, with `websocket` settings. */
async function startProxy(
  backends: string[],
  options: { websocket?: Record<string, unknown>; tls?: unknown; shutdown?: string } = {},
): Promise<TestAegis> {
  const config = await parseTestConfig({
    ...quiet,
    ...(options.shutdown ? { server: { shutdown_timeout: options.shutdown } } : {}),
    listeners: [{
      name: "web",
      address: "127.0.0.1:0",
      routes: [{ pool: "p" }],
      websocket: { enabled: true, ...options.websocket },
      ...(options.tls ? { tls: options.tls } : {}),
    }],
    pools: { p: { backends: backends.map((url) => ({ url, weight: 1 })) } },
  });
  return startTestAegis(config);
}

/** Opens a client WebSocket and waits for it to open; rejects with the close code otherwise. */
async function open(
  url: string,
  init: { protocols?: string[]; client?: Deno.HttpClient } = {},
): Promise<WebSocket> {
  const ws = init.client
    ? new WebSocket(url, { protocols: init.protocols, client: init.client } as never)
    : new WebSocket(url, init.protocols);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => {};
    ws.onclose = (e) => reject(new Error(`did not open: ${e.code}`));
  });
  return ws;
}

function closed(ws: WebSocket): Promise<CloseEvent> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(new CloseEvent("close"));
  return new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
}

function next(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve) =>
    ws.addEventListener("message", (e) => resolve(e.data), { once: true })
  );
}

const wsUrl = (proxy: TestAegis, path = "/") => proxy.url.replace("http:", "ws:") + path;

Deno.test("10,000 text and binary messages go both ways through Aegis, in order", async () => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url]);
  const ws = await open(wsUrl(proxy, "/chat?room=1"), { protocols: ["chat.v2", "chat.v1"] });
  assert.equal(ws.protocol, "chat.v2");
  const N = 10_000;
  const got = await echoMessages(ws, N);
  for (let i = 0; i < N; i++) assert.equal(got[i], i % 2 === 0 ? `m${i}` : i);
  const metrics = await (await fetch(`${proxy.metricsUrl || proxy.adminUrl}/metrics`)).text();
  assert.match(metrics, /proxy_websocket_connections\{listener="web",pool="p"\} 1/);
  ws.close(1000, "done");
  assert.equal((await closed(ws)).code, 1000);
  // The handshake reached the backend with the forwarding headers and the path.
  assert.equal(backend.received[0]!.target, "/chat?room=1");
  assert.equal(backend.handshakes[0]!["x-forwarded-for"], "127.0.0.1");
  assert.ok(backend.handshakes[0]!["x-request-id"]);
  // One access-log line, when the session ended.
  await until(() => proxy.accessLogs().length === 1);
  const line = proxy.accessLogs()[0]!;
  assert.equal(line.status, 101);
  assert.equal(line.close_code, 1000);
  assert.equal(line.closed_by, "client");
  assert.equal(line.bytes_to_backend, line.bytes_to_client);
  assert.ok((line.bytes_to_backend as number) > 0);
  await until(async () =>
    /proxy_websocket_connections\{listener="web",pool="p"\} 0/.test(
      await (await fetch(`${proxy.adminUrl}/metrics`)).text(),
    )
  );
  const after = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
  assert.match(after, /proxy_websocket_bytes_total\{pool="p",direction="to_backend"\} [1-9]/);
});

Deno.test("close codes and reasons are relayed both ways", async (t) => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url]);
  for (const code of [1000, 1008, 1011, 4001]) {
    await t.step(`the backend closes with ${code}`, async () => {
      const ws = await open(wsUrl(proxy));
      ws.send(`close:${code}`);
      const event = await closed(ws);
      assert.deepEqual([event.code, event.reason], [code, "backend says bye"]);
    });
  }
  await t.step("the client closes with 4000: the backend sees 4000", async () => {
    const ws = await open(wsUrl(proxy));
    ws.close(4000, "client says bye");
    assert.equal((await closed(ws)).code, 4000);
    await until(() => backend.closes.includes(4000));
  });
});

Deno.test("a backend killed mid-session closes the client's side with 1011", async () => {
  const backend = dyingBackend();
  await using proxy = await startProxy([backend.url]);
  const ws = await open(wsUrl(proxy));
  ws.send("hello");
  assert.equal((await closed(ws)).code, 1011);
  await backend.done;
  await until(() => proxy.accessLogs().some((l) => l.closed_by === "backend_failed"));
});

Deno.test("wss:// through a TLS listener", async () => {
  await using pki = await createPki();
  const site = await pki.issue("site", ["localhost", "site.test"]);
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url], {
    tls: { certificates: [{ cert_file: site.certFile, key_file: site.keyFile }] },
  });
  using client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(pki.caFile)] });
  const ws = await open(`wss://localhost:${proxy.port}/secure`, { client });
  ws.send("over tls");
  assert.equal(await next(ws), "over tls");
  ws.close();
  await closed(ws);
  assert.equal(backend.handshakes[0]?.["x-forwarded-proto"], "https");
  // Plain requests on the same listener still get HTTP/2 by ALPN.
  const h2 = await curl(`https://site.test:${proxy.port}/`, {
    caFile: pki.caFile,
    args: ["--http2", "--resolve", `site.test:${proxy.port}:127.0.0.1`],
  });
  assert.deepEqual([h2.status, h2.version], [200, "2"]);
});

Deno.test("hostile upgrades over a raw socket get a clean 400 and Aegis keeps serving", async (t) => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url]);
  const head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n";
  const cases = {
    "no Sec-WebSocket-Key": head + "Sec-WebSocket-Version: 13\r\n\r\n",
    "wrong version": head + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 8\r\n\r\n",
    "GET with a body": head + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello",
    "upgrade on POST": head.replace("GET", "POST") +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
      "Content-Length: 0\r\n\r\n",
  };
  for (const [name, text] of Object.entries(cases)) {
    await t.step(name, async () => {
      const conn = await connect(proxy.port);
      await send(conn, text);
      const result = await readUntilClose(conn, 3000);
      assert.equal(result.status, 400);
    });
  }
  assert.equal(backend.received.length, 0);
  await t.step("the next real session works", async () => {
    const ws = await open(wsUrl(proxy));
    ws.send("still here");
    assert.equal(await next(ws), "still here");
    ws.close();
    await closed(ws);
  });
});

Deno.test("an Upgrade other than websocket is never tunnelled: a plain request, Upgrade stripped", async () => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url]);
  for (const upgrade of ["h2c", "foo"]) {
    const res = await fetch(proxy.url, {
      headers: { upgrade, connection: "Upgrade", "http2-settings": "AAMAAABkAAQAAP__" },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "plain upgrade=null");
  }
});

Deno.test("an Origin not allowed gets 403 and the backend is never contacted", async () => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url], {
    websocket: { allowed_origins: ["https://app.example"] },
  });
  const refused = await fetch(proxy.url, {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
      origin: "https://evil.example",
    },
  });
  assert.equal(refused.status, 403);
  await refused.body?.cancel();
  assert.equal(backend.received.length, 0);
  const ws = new WebSocket(wsUrl(proxy), { headers: { origin: "https://app.example" } } as never);
  await new Promise((r) => ws.onopen = r);
  ws.close();
  await closed(ws);
  assert.equal(backend.received.length, 1);
});

Deno.test("a backend that refuses the upgrade: the client gets its status, the breaker is not told", async () => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url]);
  await assert.rejects(open(wsUrl(proxy, "/refuse")), /did not open/);
  await until(() => proxy.accessLogs().length === 1);
  assert.equal(proxy.accessLogs()[0]!.status, 403);
  const state = proxy.aegis.pool.states[0]!;
  assert.equal(state.stats.errors, 0);
  assert.equal(state.breaker.snapshot().state, "closed");
});

Deno.test("a backend that cannot be reached: 502, counted against it", async () => {
  const gone = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${gone.addr.port}`;
  gone.close();
  await using proxy = await startProxy([url]);
  await assert.rejects(open(wsUrl(proxy)), /did not open/);
  await until(() => proxy.accessLogs().length === 1);
  assert.equal(proxy.accessLogs()[0]!.status, 502);
  assert.equal(proxy.aegis.pool.states[0]!.stats.errors, 1);
});

Deno.test("session caps per client and per listener: 503 past them", async () => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url], {
    websocket: { max_connections: 3, max_connections_per_client: 2 },
  });
  const a = await open(wsUrl(proxy));
  const b = await open(wsUrl(proxy));
  await assert.rejects(open(wsUrl(proxy)), /did not open/);
  await until(() => proxy.accessLogs().some((l) => l.reason === "websocket_per_client"));
  assert.equal(proxy.accessLogs().find((l) => l.status === 503)?.reason, "websocket_per_client");
  a.close();
  await closed(a);
  // The place a closed session held is free again.
  await until(async () => {
    try {
      const c = await open(wsUrl(proxy));
      c.close();
      await closed(c);
      return true;
    } catch {
      return false;
    }
  });
  b.close();
  await closed(b);
});

Deno.test("an idle session is closed on both sides with 1001", async () => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url], { websocket: { idle_timeout: "200ms" } });
  const ws = await open(wsUrl(proxy));
  ws.send("once");
  await next(ws);
  const event = await closed(ws);
  assert.deepEqual([event.code, event.reason], [1001, "idle timeout"]);
  await until(() => backend.closes.length === 1);
});

Deno.test("drain closes open sessions with 1001 once server.shutdown_timeout has passed", async () => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url], { shutdown: "300ms" });
  const ws = await open(wsUrl(proxy));
  ws.send("before");
  assert.equal(await next(ws), "before");
  const drain = await fetch(`${proxy.adminUrl}/drain`, { method: "POST" });
  await drain.body?.cancel();
  // Until the grace ends the session carries on.
  ws.send("during");
  assert.equal(await next(ws), "during");
  const event = await closed(ws);
  assert.equal(event.code, 1001);
  await until(() => proxy.aegis.drainStatus().connections === 0);
});

Deno.test("shutdown closes open sessions with 1001 and does not wait for them", async () => {
  await using backend = echoBackend();
  const proxy = await startProxy([backend.url], { shutdown: "200ms" });
  const ws = await open(wsUrl(proxy));
  const event = closed(ws);
  await proxy.aegis.shutdown();
  assert.equal((await event).code, 1001);
});

Deno.test("many sessions at once each receive only their own messages", async () => {
  await using one = echoBackend("one");
  await using two = echoBackend("two");
  await using proxy = await startProxy([one.url, two.url]);
  const sockets = await Promise.all(Array.from({ length: 40 }, () => open(wsUrl(proxy))));
  const replies = await Promise.all(sockets.map(async (ws, i) => {
    const got: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        got.push(e.data);
        if (got.length === 20) resolve();
      };
    });
    for (let j = 0; j < 20; j++) ws.send(`s${i}-${j}`);
    await done;
    return got;
  }));
  replies.forEach((got, i) => {
    assert.deepEqual(got, Array.from({ length: 20 }, (_, j) => `s${i}-${j}`));
  });
  // Both backends took sessions.
  assert.ok(one.received.length > 0 && two.received.length > 0);
  await Promise.all(sockets.map((ws) => {
    ws.close();
    return closed(ws);
  }));
});

Deno.test("with websocket.enabled false an upgrade is a plain request, never tunnelled", async () => {
  await using backend = echoBackend();
  await using proxy = await startProxy([backend.url], { websocket: { enabled: false } });
  const res = await fetch(proxy.url, {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "plain upgrade=null");
});

Deno.test("a reload that turns websocket on applies to connections accepted from then on", async () => {
  await using backend = echoBackend();
  const data = (enabled: boolean, maxPerClient: number) => ({
    ...quiet,
    listeners: [{
      name: "web",
      address: "127.0.0.1:0",
      routes: [{ pool: "p" }],
      websocket: { enabled, max_connections_per_client: maxPerClient },
    }],
    pools: { p: { backends: [{ url: backend.url, weight: 1 }] } },
  });
  await using file = await liveConfigFile(data(false, 1));
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  await assert.rejects(open(wsUrl(proxy)), /did not open/);
  await file.write(data(true, 1));
  assert.equal((await proxy.aegis.reload()).ok, true);
  // The port is the same (port 0 resolved once): a new connection can be upgraded now.
  const first = await open(wsUrl(proxy));
  await assert.rejects(open(wsUrl(proxy)), /did not open/, "one session per client");
  // New caps apply to new sessions; the open one stays.
  await file.write(data(true, 2));
  assert.equal((await proxy.aegis.reload()).ok, true);
  const second = await open(wsUrl(proxy));
  first.send("still open");
  assert.equal(await next(first), "still open");
  for (const ws of [first, second]) {
    ws.close();
    await closed(ws);
  }
});
