/**
 * The whole request path of one listener, in memory: a runtime built from
 * the default configuration (validation, rate limiter, router, balancer,
 * breaker, header rewriting, response shaping, metrics; access log off, as
 * the load benchmark runs), answering from a transport that replies at once
 * with a small body. No socket and no HTTP parsing: what is timed is
 * Aegis's own share of a request, the part issue 15 counts against the
 * runtime's floor. A second case adds the access-log line at `info`,
 * formatted and handed to a sink that drops it.
 *
 * Run: `deno task bench:micro`
 *
 * @module
 */

import { Watchdog } from "../../src/clock/mod.ts";
import type { ClosableTransport, ProxyHandler } from "../../src/core/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { SECURITY_HEADERS } from "../../src/proxy/headers.ts";
import { buildRuntime, Retirements } from "../../src/runtime/mod.ts";
import { systemClock } from "../../src/clock/mod.ts";
import { parseTestConfig } from "../_helpers/config.ts";
import { sharedOf } from "../_helpers/runtime.ts";

const BODY = new TextEncoder().encode("ok");
/** A backend that answers every request at once, as the benchmark's backend does. */
const transport: ClosableTransport = {
  send: () =>
    Promise.resolve({
      status: 200,
      statusText: "OK",
      headers: [
        ["content-type", "text/plain"],
        ["content-length", "2"],
        ["date", "Sun, 06 Dec 2026 09:14:15 GMT"],
      ],
      body: BODY,
    }),
  fetch: () => Promise.resolve(new Response(BODY)),
  [Symbol.dispose]() {},
};

/** What a browser-like client sends. */
const HEADERS: Array<[string, string]> = [
  ["host", "shop.example.com"],
  ["user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],
  ["accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
  ["accept-language", "en-US,en;q=0.5"],
  ["accept-encoding", "gzip, deflate, br"],
  ["connection", "keep-alive"],
];
const CLIENT = { ip: "203.0.113.9", port: 5000, proto: "http", listenerPort: 8080 } as const;

async function handlerAt(level: "warn" | "info"): Promise<ProxyHandler> {
  const config = await parseTestConfig({
    server: { port: 8080 },
    backends: [
      { url: "http://10.0.0.1:8080", weight: 1 },
      { url: "http://10.0.0.2:8080", weight: 1 },
      { url: "http://10.0.0.3:8080", weight: 1 },
    ],
    security: { allowed_backend_networks: ["10.0.0.0/8"] },
    // As the load benchmark: the one client is exempt, the limiter phase still runs.
    rate_limit: { exempt: ["203.0.113.0/24"] },
    logging: { level },
  });
  const clock = systemClock;
  const shared = sharedOf({
    logger: createLogger({ level, sink: () => {} }),
    clock,
    watchdog: new Watchdog({ clock, tickMs: 1000 }),
    transportFor: () => ({ transport, owned: false }),
    retired: new Retirements(clock),
  });
  const runtime = buildRuntime(config, shared);
  return runtime.listeners.get(config.listeners[0]!.name)!.handler;
}

const quiet = await handlerAt("warn");
const logged = await handlerAt("info");

async function once(handler: ProxyHandler): Promise<void> {
  const response = await handler(
    new Request("http://shop.example.com/products/42?color=red", {
      headers: HEADERS,
    }),
    CLIENT,
  );
  await response.arrayBuffer();
}

Deno.bench("request path: GET, small response, access log off", {
  group: "request path",
  baseline: true,
}, async () => {
  await once(quiet);
});
Deno.bench("request path: the same with the access log at info", {
  group: "request path",
}, async () => {
  await once(logged);
});
/** The ten fields a relayed response carries: the backend's three, the seven Aegis sets. */
const RESPONSE_FIELDS: Record<string, string> = {
  "content-type": "text/plain",
  "content-length": "2",
  "date": "Sun, 06 Dec 2026 09:14:15 GMT",
  ...SECURITY_HEADERS,
  "x-request-id": "0b6d3c1e-8f5a-4b7e-9c2d-1a2b3c4d5e6f",
};

// The runtime's own share: what any proxy on it pays for the same exchange.
Deno.bench("runtime alone: Request in, Response with those ten headers out", {
  group: "request path",
}, async () => {
  const request = new Request("http://shop.example.com/products/42?color=red", {
    headers: HEADERS,
  });
  request.headers.get("host");
  await new Response(BODY, { status: 200, headers: RESPONSE_FIELDS }).arrayBuffer();
});
Deno.bench("runtime alone: the same Response without headers (the deno floor's)", {
  group: "request path",
}, async () => {
  const request = new Request("http://shop.example.com/products/42?color=red", {
    headers: HEADERS,
  });
  request.headers.get("host");
  await new Response(BODY, { status: 200 }).arrayBuffer();
});
