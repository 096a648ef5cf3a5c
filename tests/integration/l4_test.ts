/**
 * tcp and udp listeners in a running Aegis, over real sockets: bytes both
 * ways to the pool they name, what /status and /metrics say of them, their
 * networks and rate limits, and reloads that move new connections to a new
 * pool without cutting the ones open.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { closeQuietly, echo, readAll, readExactly, writeFully } from "../_helpers/l4.ts";
import { liveConfigFile, parseTestConfig } from "../_helpers/config.ts";
import { startTaggingBackend, udpClient } from "../_helpers/udp.ts";
import { until } from "../_helpers/load.ts";
import { startRawBackend } from "../_helpers/raw.ts";

const text = new TextEncoder();
const read = new TextDecoder();

/** A TCP backend on loopback that greets each connection with `name:` and then echoes. */
function tcpBackend(name: string) {
  const backend = startRawBackend(async (conn) => {
    await writeFully(conn, text.encode(`${name}:`));
    await echo(conn);
  });
  return Object.assign(backend, { address: `127.0.0.1:${backend.port}` });
}

/** Health checks that stay out of the way. */
const quiet = { health_check: { interval: "1h" } };

function connectTo(addr: Deno.NetAddr) {
  return Deno.connect({ hostname: "127.0.0.1", port: addr.port });
}

Deno.test("a tcp listener relays bytes both ways to its pool; /status and /metrics show it", async () => {
  await using a = tcpBackend("a");
  const config = await parseTestConfig({
    ...quiet,
    listeners: [{ name: "db", protocol: "tcp", address: "127.0.0.1:0", pool: "pg" }],
    pools: { pg: { backends: [{ address: a.address, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const db = proxy.aegis.listeners.get("db")!;
  assert.match(db.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const conn = await connectTo(db.addr);
  assert.equal(read.decode(await readExactly(conn, 2)), "a:", "the backend speaks first");
  await writeFully(conn, text.encode("hello"));
  assert.equal(read.decode(await readExactly(conn, 5)), "hello");
  await conn.closeWrite();
  const rest = await readAll(conn);
  assert.equal(rest.bytes.length, 0, "half-closed: the backend's end follows ours");
  closeQuietly(conn);
  await until(() => db.server.connections === 0, "the relay to end");

  const status = await (await fetch(`${proxy.adminUrl}/status`)).json();
  const listener = status.listeners.find((l: { name: string }) => l.name === "db");
  assert.equal(listener.protocol, "tcp");
  assert.deepEqual(listener.pools, ["pg"]);
  assert.equal(listener.bytes_in, 5);
  assert.equal(listener.bytes_out, 7);
  assert.equal(listener.connections.total, 1);
  const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
  assert.match(metrics, /proxy_bytes_received_total\{listener="db"\} 5\n/);
  assert.match(metrics, /proxy_total_connections\{listener="db"\} 1\n/);
  assert.match(
    metrics,
    new RegExp(`proxy_backend_requests_total\\{pool="pg",backend="${a.address}"\\} 1\\n`),
  );
});

Deno.test("a udp listener relays datagrams to its pool and counts its sessions", async () => {
  await using backend = await startTaggingBackend("b");
  const config = await parseTestConfig({
    ...quiet,
    listeners: [{ name: "dns", protocol: "udp", address: "127.0.0.1:0", pool: "resolvers" }],
    pools: { resolvers: { backends: [{ address: backend.address, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  await proxy.aegis.ready;
  const dns = proxy.aegis.listeners.get("dns")!;
  assert.match(dns.url, /^udp:\/\/127\.0\.0\.1:\d+$/);
  await using client = await udpClient();
  client.send("q1", dns.addr.port);
  client.send("q2", dns.addr.port);
  assert.deepEqual(await client.texts(2), ["b|q1", "b|q2"]);

  const snapshot = proxy.aegis.refreshSnapshot();
  const udp = snapshot.listeners[0]!.udp!;
  assert.equal(udp.activeSessions, 1);
  assert.equal(udp.packetsToBackend, 2);
  assert.equal(snapshot.listeners[0]!.traffic.bytesIn, 4);
  const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
  assert.match(metrics, /proxy_udp_sessions\{listener="dns"\} 1\n/);
  assert.match(metrics, /proxy_udp_packets_total\{listener="dns",direction="to_client"\} 2\n/);
  const health = await (await fetch(`${proxy.adminUrl}/health`)).json();
  assert.equal(health.listeners[0].protocol, "udp");
});

Deno.test("deny and allow networks close connections at once, on http and tcp listeners alike", async () => {
  await using a = tcpBackend("a");
  const config = await parseTestConfig({
    ...quiet,
    listeners: [
      { name: "db", protocol: "tcp", address: "127.0.0.1:0", pool: "pg", deny: ["127.0.0.0/8"] },
      {
        name: "web",
        address: "127.0.0.1:0",
        routes: [{ pool: "web" }],
        allow: ["10.0.0.0/8"],
      },
    ],
    pools: {
      pg: { backends: [{ address: a.address, weight: 1 }] },
      web: { backends: [{ url: "http://127.0.0.1:9", weight: 1 }] },
    },
  });
  await using proxy = startTestAegis(config);
  const conn = await connectTo(proxy.aegis.listeners.get("db")!.addr);
  const got = await readAll(conn);
  closeQuietly(conn);
  assert.equal(got.bytes.length, 0, "closed before the backend was reached");
  await assert.rejects(fetch(proxy.aegis.listeners.get("web")!.url), TypeError);
  const status = await (await fetch(`${proxy.adminUrl}/status`)).json();
  const denied = Object.fromEntries(
    status.listeners.map((l: { name: string; connections: { rejected: { denied: number } } }) => [
      l.name,
      l.connections.rejected.denied,
    ]),
  );
  assert.ok(denied.db >= 1 && denied.web >= 1, JSON.stringify(denied));
});

Deno.test("a tcp listener's rate limit counts new connections per client", async () => {
  await using a = tcpBackend("a");
  const config = await parseTestConfig({
    ...quiet,
    listeners: [{
      name: "db",
      protocol: "tcp",
      address: "127.0.0.1:0",
      pool: "pg",
      // One token per 1000 s: nothing refills while the test runs.
      rate_limit: { requests_per_second: 0.001, burst: 2 },
      adaptive: { min_rate: 0.001 },
    }],
    pools: { pg: { backends: [{ address: a.address, weight: 1 }] } },
  });
  await using proxy = startTestAegis(config);
  const addr = proxy.aegis.listeners.get("db")!.addr;
  const greetings: string[] = [];
  for (let i = 0; i < 3; i++) {
    const conn = await connectTo(addr);
    await conn.closeWrite();
    greetings.push(read.decode((await readAll(conn)).bytes));
    closeQuietly(conn);
  }
  assert.deepEqual(greetings, ["a:", "a:", ""], "a burst of 2, then closed unanswered");
  const snap = proxy.aegis.refreshSnapshot().listeners[0]!;
  assert.equal(snap.connections.rejected.rate_limited, 1);
  assert.equal(snap.traffic.rateLimited, 1);
});

Deno.test("a reload moves new tcp connections to the new pool; an open one carries on", async () => {
  await using a = tcpBackend("a");
  await using b = tcpBackend("b");
  const data = (backend: string) => ({
    // A backend new to a pool starts unhealthy until a connect check passes.
    health_check: { interval: "100ms", timeout: "100ms", healthy_threshold: 1 },
    listeners: [{ name: "db", protocol: "tcp", address: "127.0.0.1:0", pool: "pg" }],
    pools: { pg: { backends: [{ address: backend, weight: 1 }] } },
  });
  await using file = await liveConfigFile(data(a.address));
  await using proxy = startTestAegis(await parseTestConfig(data(a.address)), {
    configPath: file.path,
  });
  const addr = proxy.aegis.listeners.get("db")!.addr;
  const open = await connectTo(addr);
  assert.equal(read.decode(await readExactly(open, 2)), "a:");

  await file.write(data(b.address));
  const result = await proxy.aegis.reload();
  assert.ok(result.ok, JSON.stringify(result));
  await until(() => proxy.aegis.pools.get("pg")!.states[0]!.available(), "b to pass its check");
  const next = await connectTo(addr);
  assert.equal(read.decode(await readExactly(next, 2)), "b:", "new connections: new pool");
  closeQuietly(next);

  await writeFully(open, text.encode("still here"));
  assert.equal(read.decode(await readExactly(open, 10)), "still here", "not cut by the reload");
  closeQuietly(open);
});

Deno.test("a udp listener that cannot bind: Aegis.ready rejects naming it, and a reload adding it is refused", async () => {
  await using taken = await udpClient();
  await using backend = await startTaggingBackend("b");
  const pools = { resolvers: { backends: [{ address: backend.address, weight: 1 }] } };
  const config = await parseTestConfig({
    ...quiet,
    listeners: [{
      name: "dns",
      protocol: "udp",
      address: `127.0.0.1:${taken.port}`,
      pool: "resolvers",
    }],
    pools,
  });
  {
    await using proxy = startTestAegis(config);
    const error = await proxy.aegis.ready.then(() => undefined, (e) => e);
    assert.equal(error?.listener, "dns");
  }

  const web = { name: "web", address: "127.0.0.1:0", routes: [{ pool: "web" }] };
  const webPool = { web: { backends: [{ url: "http://127.0.0.1:9", weight: 1 }] } };
  const first = { ...quiet, listeners: [web], pools: webPool };
  await using file = await liveConfigFile(first);
  await using proxy = startTestAegis(await parseTestConfig(first), { configPath: file.path });
  await file.write({
    ...quiet,
    listeners: [web, {
      name: "dns",
      protocol: "udp",
      address: `127.0.0.1:${taken.port}`,
      pool: "resolvers",
    }],
    pools: { ...webPool, ...pools },
  });
  const result = await proxy.aegis.reload();
  assert.equal(result.ok, false);
  assert.match(
    result.ok ? "" : result.problems.join("\n"),
    /listeners\[dns\]: cannot listen on 127\.0\.0\.1:\d+: address already in use; nothing changed/,
  );
  assert.deepEqual([...proxy.aegis.listeners.keys()], ["web"]);
});

Deno.test("a tcp pool's backends are checked by connecting: one that refuses is taken out", async () => {
  await using up = tcpBackend("up");
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const down = `127.0.0.1:${closed.addr.port}`;
  closed.close();
  const config = await parseTestConfig({
    health_check: { interval: "100ms", timeout: "100ms", unhealthy_threshold: 1 },
    listeners: [{ name: "db", protocol: "tcp", address: "127.0.0.1:0", pool: "pg" }],
    pools: {
      pg: { backends: [{ address: up.address, weight: 1 }, { address: down, weight: 1 }] },
    },
  });
  await using proxy = startTestAegis(config);
  const [alive, dead] = proxy.aegis.pools.get("pg")!.states;
  await until(() => dead!.health.health === "unhealthy", "the refusing backend to fail its check");
  assert.equal(alive!.health.health, "healthy");
  const addr = proxy.aegis.listeners.get("db")!.addr;
  for (let i = 0; i < 4; i++) {
    const conn = await connectTo(addr);
    assert.equal(read.decode(await readExactly(conn, 3)), "up:", "only the live backend is picked");
    closeQuietly(conn);
  }
});
