/**
 * The real command line with `server.workers: 2`, run with exactly the
 * `compile` task's flags and permissions (`_helpers/cli.ts`): the worker
 * isolates inherit them, bind with `reusePort` (`--unstable-net`), and
 * serve; the process says it is listening and shut down once.
 */

import assert from "node:assert/strict";
import { startBackend } from "../_helpers/backend.ts";
import { spawnAegis } from "../_helpers/cli.ts";
import { writeConfigFile } from "../_helpers/config.ts";
import { until } from "../_helpers/load.ts";
import { rawExchange, rawGet } from "../_helpers/raw.ts";

Deno.test("`aegis` with server.workers: 2 serves through both workers and stops on SIGTERM", async () => {
  await using backend = startBackend();
  const path = await writeConfigFile({
    server: { host: "127.0.0.1", port: 0, workers: 2, shutdown_timeout: "1s" },
    backends: [{ url: backend.url, weight: 1 }],
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
    tui: { enabled: false },
  });
  try {
    const aegis = await spawnAegis(path, ["--headless"]);
    const statuses = await Promise.all(
      Array.from({ length: 12 }, () => rawExchange(aegis.port, rawGet("/")).then((r) => r.status)),
    );
    assert.deepEqual(statuses, Array(12).fill(200));
    await until(async () => {
      const status = await (await fetch(`${aegis.adminUrl}/status`)).json();
      return status.global.requests === 12;
    }, "/status counts both workers' requests");
    aegis.kill("SIGTERM");
    assert.equal((await aegis.status).code, 0, aegis.stderr());
    const said = (msg: string) => aegis.logs.filter((l) => l.msg === msg).length;
    assert.equal(said("Aegis listening"), 1);
    assert.equal(said("Aegis shutdown complete"), 1);
    assert.equal(aegis.logs.find((l) => l.msg === "Aegis listening")?.workers, 2);
    assert.equal(said("request"), 12, "every worker writes its access log lines");
  } finally {
    await Deno.remove(path.replace(/\/aegis\.yml$/, ""), { recursive: true });
  }
});
