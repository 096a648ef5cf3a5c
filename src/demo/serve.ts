/**
 * One demo backend as a program of its own, for containers:
 *
 * ```
 * serve.ts <name> <port> [host]     # host 0.0.0.0 by default
 * ```
 *
 * `deploy/docker-compose.yml` runs three of them, compiled into the
 * `demo-backend` image of `deploy/Dockerfile`, where `deno task demo`
 * (backends and Aegis in one process, on loopback) cannot serve. It stops
 * on SIGTERM or SIGINT: as a container's first process it would otherwise
 * ignore them, and `docker compose down` would wait for its kill timeout.
 *
 * @module
 */

import { startDemoBackend } from "./backends.ts";

const USAGE = "usage: serve.ts <name> <port> [host]";

if (import.meta.main) {
  const [name, port, host = "0.0.0.0", ...rest] = Deno.args;
  if (!name || !port || !/^\d{1,5}$/.test(port) || Number(port) > 65535 || rest.length > 0) {
    console.error(USAGE);
    Deno.exit(2);
  }
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  let backend;
  try {
    backend = startDemoBackend(name, Number(port), host);
  } catch (e) {
    console.error(`demo: cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
  console.error(`demo: ${name} listening on ${backend.url}`);
  await stopped;
  for (const s of signals) Deno.removeSignalListener(s, stop);
  await backend.close();
}
