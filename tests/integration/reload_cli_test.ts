/** SIGHUP makes the running `aegis` process re-read its configuration. */

import assert from "node:assert/strict";
import { stringify } from "yaml";
import { startBackend } from "../_helpers/backend.ts";
import { spawnAegis } from "../_helpers/cli.ts";
import { withTestTransport, writeConfigFile } from "../_helpers/config.ts";

function data(backends: string[]) {
  return {
    server: { host: "127.0.0.1", port: 0 },
    backends: backends.map((url) => ({ url, weight: 1 })),
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
  };
}

Deno.test("SIGHUP reloads a valid file, refuses an invalid one, and aegis keeps serving", async () => {
  await using a = startBackend(() => new Response("a"));
  await using b = startBackend(() => new Response("b"));
  const path = await writeConfigFile(data([a.url]));
  await using aegis = await spawnAegis(path, ["--headless"]);
  await Deno.writeTextFile(path, stringify(withTestTransport(data([a.url, b.url]))));
  aegis.kill("SIGHUP");
  const done = await aegis.waitForLog((l) => l.msg === "configuration reloaded");
  assert.deepEqual([done.added, done.removed, done.kept], [1, 0, 1]);

  await Deno.writeTextFile(path, "backends: [\n");
  aegis.kill("SIGHUP");
  await aegis.waitForLog((l) => l.msg === "reload refused: the running configuration stays");
  const res = await fetch(`http://127.0.0.1:${aegis.port}/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^[ab]$/);

  aegis.kill("SIGTERM");
  assert.equal((await aegis.status).code, 0);
  await Deno.remove(path.replace(/\/aegis\.yml$/, ""), { recursive: true });
});
