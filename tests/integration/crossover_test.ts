/**
 * No response crosses to another client. Many clients at once, through the
 * real proxy and whichever upstream transport this run uses, against one
 * backend that misbehaves at random: bodiless answers followed by a second
 * response, bodies announced for HEAD and sent late, bytes after a body,
 * answers before the request body was read, truncated bodies, interim 1xx,
 * `Connection: close`. The backend tags every answer with the id the
 * request carried; each client must get its own id back, or a clean 502.
 *
 * Not among the faults: bytes a backend sends long after a response ended
 * and not announced by it. They can only be told apart from the next
 * answer while the connection is idle (where the pool drops it, see
 * tests/h1/reuse_test.ts); once the next request is on the wire, no
 * HTTP/1.1 client can tell them apart, and a test with them would measure
 * scheduling, not Aegis.
 */

import assert from "node:assert/strict";
import { startTestAegis } from "../_helpers/aegis.ts";
import { TEST_TRANSPORT, testConfig } from "../_helpers/config.ts";
import { send, startRawBackend } from "../_helpers/raw.ts";
import { RequestReader } from "../_helpers/wire.ts";

/** What the backend does with one request; the client names it in `x-fault`. */
const FAULTS = [
  "normal",
  "head-then-smuggled",
  "204-then-smuggled",
  "304-then-smuggled",
  "head-body-late",
  "extra-crlf",
  "body-then-smuggled",
  "truncated",
  "early",
  "early-large",
  "interim",
  "close",
] as const;
type Fault = (typeof FAULTS)[number];

/** A complete response that names someone else: what no client may receive. */
const SMUGGLED = "HTTP/1.1 200 OK\r\nX-Echo-Id: smuggled\r\nContent-Length: 11\r\n\r\nid=smuggled";

function ok(id: string, extra = ""): string {
  const body = `id=${id}`;
  return `HTTP/1.1 200 OK\r\nX-Echo-Id: ${id}\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;
}

/** Serves one connection, faulting as each request asks. */
async function serve(conn: Deno.TcpConn): Promise<void> {
  const reader = new RequestReader(conn);
  for (;;) {
    const head = await reader.nextHead();
    if (!head) return;
    const id = head.headers.get("x-id") ?? "probe";
    const fault = (head.headers.get("x-fault") ?? "normal") as Fault;
    if (fault === "early" || fault === "early-large") {
      // Answer first, then read (and drop) the body, as a backend may.
      await send(conn, ok(id));
      await reader.body(head);
      continue;
    }
    await reader.body(head);
    if (!(await respond(conn, id, fault))) return;
  }
}

/** Writes the faulty answer; false when the connection is to be closed. */
async function respond(conn: Deno.TcpConn, id: string, fault: Fault): Promise<boolean> {
  const tag = `X-Echo-Id: ${id}\r\n`;
  switch (fault) {
    case "head-then-smuggled":
      await send(conn, `HTTP/1.1 200 OK\r\n${tag}Content-Length: 0\r\n\r\n${SMUGGLED}`);
      return true;
    case "204-then-smuggled":
      await send(conn, `HTTP/1.1 204 No Content\r\n${tag}\r\n${SMUGGLED}`);
      return true;
    case "304-then-smuggled":
      await send(conn, `HTTP/1.1 304 Not Modified\r\n${tag}\r\n${SMUGGLED}`);
      return true;
    case "head-body-late":
      await send(conn, `HTTP/1.1 200 OK\r\n${tag}Content-Length: 11\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 1));
      await send(conn, "id=smuggled");
      return true;
    case "extra-crlf":
      await send(conn, ok(id) + "\r\n\r\n");
      return true;
    case "body-then-smuggled":
      await send(conn, ok(id) + SMUGGLED);
      return true;
    case "truncated":
      await send(conn, `HTTP/1.1 200 OK\r\n${tag}Content-Length: 100\r\n\r\nid=${id}`);
      return false;
    case "interim":
      await send(conn, "HTTP/1.1 100 Continue\r\n\r\n" + ok(id));
      return true;
    case "close":
      await send(conn, ok(id, "Connection: close\r\n"));
      return false;
    default:
      await send(conn, ok(id));
      return true;
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLIENTS = 24;
const REQUESTS_PER_CLIENT = 40;
const LARGE = new Uint8Array(200 * 1024).fill(0x61);

Deno.test("many clients against a misbehaving backend each get their own response or a clean 502", async () => {
  await using backend = startRawBackend(serve);
  await using proxy = startTestAegis(
    await testConfig([backend.url], {
      // Faults are the point here: no breaker, limiter or retry may hide them.
      circuit_breaker: { failure_threshold: 1000 },
      rate_limit: { exempt: ["127.0.0.0/8"] },
      retries: { attempts: 0 },
      health_check: { interval: "1h" },
      upstream: { max_connections: 16, max_idle_connections: 16 },
    }),
    { admin: false },
  );
  const seed = Date.now() % 100_000;
  const next = random(seed);
  const tally = new Map<string, number>();
  const crossed: string[] = [];

  const one = async (client: number, n: number) => {
    const fault = FAULTS[Math.floor(next() * FAULTS.length)]!;
    const id = `c${client}-r${n}`;
    const method = fault === "head-then-smuggled" || fault === "head-body-late"
      ? "HEAD"
      : fault.startsWith("early")
      ? "POST"
      : "GET";
    const body = fault === "early-large" ? LARGE : fault === "early" ? `payload of ${id}` : null;
    const res = await fetch(`${proxy.url}/${id}`, {
      method,
      headers: { "x-id": id, "x-fault": fault },
      body,
    });
    const text = await res.text();
    tally.set(`${fault} ${res.status}`, (tally.get(`${fault} ${res.status}`) ?? 0) + 1);
    if (res.status === 502) {
      assert.equal(text, method === "HEAD" ? "" : JSON.stringify({ error: "bad gateway" }));
      return;
    }
    const echo = res.headers.get("x-echo-id");
    if (echo !== id || (text !== "" && text !== `id=${id}`)) {
      crossed.push(`${fault}: ${id} got ${res.status} ${echo} ${JSON.stringify(text)}`);
    }
  };

  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; n < REQUESTS_PER_CLIENT; n++) await one(client, n);
    }),
  );

  assert.deepEqual(crossed, [], `seed ${seed}: responses crossed between clients`);
  const total = [...tally.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, CLIENTS * REQUESTS_PER_CLIENT);
  for (const [key, count] of tally) {
    const [fault, status] = key.split(" ");
    if (fault === "truncated") assert.equal(status, "502", `seed ${seed}: ${key} ×${count}`);
    // The h1 transport answers every other fault in full. The runtime's
    // fetch sometimes meets the stray bytes on a connection it just reused
    // and fails that request: a clean 502, which is all the rule asks.
    else if (TEST_TRANSPORT !== "fetch") {
      assert.notEqual(status, "502", `seed ${seed}: ${key} ×${count}`);
    }
  }
});
