/**
 * `deploy/prometheus.yml`: valid for Prometheus's own checker, and
 * scraping the metrics listener of `deploy/aegis.yml` by its compose name.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { composeConfig, composeFile, deployPath, portOf } from "./_deploy.ts";

Deno.test("promtool check config accepts deploy/prometheus.yml", {
  permissions: { run: ["promtool"], read: true },
}, async () => {
  const out = await new Deno.Command("promtool", {
    args: ["check", "config", deployPath("prometheus.yml")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const text = dec.decode(out.stdout) + dec.decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /SUCCESS: .*prometheus\.yml is valid prometheus config file syntax/);
});

Deno.test("Prometheus scrapes /metrics on Aegis's metrics listener, by its compose service name", async () => {
  const prometheus = parse(await Deno.readTextFile(deployPath("prometheus.yml")));
  const [job] = prometheus.scrape_configs;
  assert.equal(job.metrics_path, "/metrics");
  const config = await composeConfig();
  const { services } = await composeFile();
  assert.ok(services.aegis);
  assert.deepEqual(job.static_configs[0].targets, [
    `aegis:${portOf(config.admin.metrics_address)}`,
  ]);
});
