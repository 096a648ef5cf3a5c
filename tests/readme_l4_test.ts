/** README.md's L4 example is a configuration Aegis accepts, and means what the text says. */

import assert from "node:assert/strict";
import { parseConfig } from "../src/config/mod.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("README.md's L4 example loads: a tcp and a udp listener next to an http one", {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
}, async () => {
  const section = /## L4: TCP and UDP\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(yaml, "the section has a YAML example");
  const r = await parseConfig(yaml, { file: "README.md", resolver: () => Promise.resolve([]) });
  assert.ok(r.ok, r.ok ? "" : r.diagnostics.map((d) => `${d.path}: ${d.message}`).join("\n"));
  assert.deepEqual(r.warnings, []);
  const [web, pg, dns] = r.config.listeners;
  assert.equal(web!.protocol, "http");
  assert.deepEqual([pg!.protocol, pg!.pool], ["tcp", "pg"]);
  assert.deepEqual([dns!.protocol, dns!.pool], ["udp", "resolvers"]);
  assert.equal(dns!.udp!.reply_timeout, 2000);
  assert.equal(r.config.pools.pg!.upstream.proxy_protocol, "v2");
  assert.equal(r.config.pools.pg!.health_check.path, undefined, "connect checks");
});
