/**
 * Tracing in the real process, run with the `compile` task's permission
 * flags: the SDK loads on demand under `--allow-env=<list>` (it reads no
 * variable of its own) and `--cached-only`, and spans reach a collector.
 */

import assert from "node:assert/strict";
import { startBackend } from "../_helpers/backend.ts";
import { spawnAegis } from "../_helpers/cli.ts";
import { writeConfigFile } from "../_helpers/config.ts";
import { startCollector } from "../_helpers/otlp.ts";

Deno.test("`aegis` with tracing enabled exports spans under the compile task's permissions", async () => {
  await using collector = startCollector();
  await using backend = startBackend();
  const path = await writeConfigFile({
    server: { host: "127.0.0.1", port: 0, shutdown_timeout: "1s" },
    backends: [{ url: backend.url, weight: 1 }],
    health_check: { interval: "1h", timeout: "1h" },
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
    tui: { enabled: false },
    tracing: { enabled: true, endpoint: collector.endpoint, service_name: "cli" },
  });
  try {
    const aegis = await spawnAegis(path, ["--headless"]);
    await aegis.waitForLog((l) => l.msg === "tracing enabled");
    const res = await fetch(`http://127.0.0.1:${aegis.port}/traced`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // Shutdown flushes the span, without waiting for the batch delay.
    aegis.kill("SIGTERM");
    const status = await aegis.status;
    assert.equal(status.code, 0, aegis.stderr());
    assert.equal(aegis.logs.find((l) => l.msg === "tracing could not start"), undefined);
    const [span] = collector.spans;
    assert.equal(span?.attributes["url.path"], "/traced");
    assert.equal(span?.resource["service.name"], "cli");
    const access = aegis.logs.find((l) => l.msg === "request");
    assert.equal(access?.trace_id, span?.traceId);
  } finally {
    await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  }
});
