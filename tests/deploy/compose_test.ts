/**
 * `deploy/docker-compose.yml` and `deploy/aegis.yml` read together: no
 * container engine runs here, so what compose would do is checked from
 * the files, each against the file it depends on.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { parseDuration } from "../../src/config/mod.ts";
import { ROOT } from "../_helpers/cli.ts";
import { composeConfig, composeFile, deployPath, listenAddresses, portOf } from "./_deploy.ts";

const { services, networks } = await composeFile();

Deno.test("compose runs aegis, the three demo backends, Prometheus and Grafana", () => {
  assert.deepEqual(Object.keys(services).sort(), [
    "aegis",
    "backend-1",
    "backend-2",
    "backend-3",
    "grafana",
    "prometheus",
  ]);
  for (const name of ["prometheus", "grafana"]) {
    assert.match(services[name]!.image!, /^(prom\/prometheus|grafana\/grafana):v?\d+\.\d+\.\d+$/);
  }
});

Deno.test("every volume mounts a path that exists in the repository", async () => {
  const mounts = Object.entries(services).flatMap(([name, s]) =>
    (s.volumes ?? []).map((v) => ({ name, host: v.split(":")[0]!, mode: v.split(":")[2] }))
  );
  assert.ok(mounts.length >= 4);
  for (const { name, host, mode } of mounts) {
    assert.match(host, /^\.\.?\//, `${name}: ${host} is a path relative to deploy/`);
    await Deno.stat(deployPath(host)).catch(() => assert.fail(`${name}: ${host} does not exist`));
    assert.equal(mode, "ro", `${name}: ${host} is mounted read-only`);
  }
});

Deno.test("the aegis service publishes exactly the ports deploy/aegis.yml listens on", async () => {
  const config = await composeConfig();
  const listening = listenAddresses(config);
  const published = services.aegis!.ports!.map((p) => p.split(":"));
  assert.deepEqual(
    published.map((p) => Number(p.at(-1))).sort(),
    listening.map(portOf).sort(),
  );
  for (const address of listening) {
    assert.match(address, /^0\.0\.0\.0:/, "inside the container, on every interface");
  }
  // The admin API and the metrics are for this machine only; the proxy is for everyone.
  const byPort = new Map(published.map((p) => [Number(p.at(-1)), p]));
  assert.deepEqual(byPort.get(portOf(config.admin.address)), ["127.0.0.1", "9090", "9090"]);
  assert.deepEqual(byPort.get(portOf(config.admin.metrics_address)), ["127.0.0.1", "9091", "9091"]);
  assert.equal(byPort.get(portOf(config.listeners[0]!.address))!.length, 2);
});

Deno.test("deploy/aegis.yml's backends are the compose demo backends, by service name and port", async () => {
  const config = await composeConfig();
  const urls = Object.values(config.pools).flatMap((p) => p.backends.map((b) => b.url));
  const backends = Object.entries(services).filter(([, s]) => s.build?.target === "demo-backend");
  assert.deepEqual(
    urls.sort(),
    backends.map(([name, s]) => {
      const [label, port] = s.command!;
      assert.equal(label, name, "each backend answers with its service's name");
      return `http://${name}:${port}`;
    }).sort(),
  );
  assert.deepEqual(services.aegis!.depends_on!.filter((d) => d.startsWith("backend-")).sort(), [
    "backend-1",
    "backend-2",
    "backend-3",
  ]);
});

Deno.test("the SSRF policy trusts the compose network, and only it", async () => {
  const config = await composeConfig();
  const subnet = networks.aegis!.ipam.config[0]!.subnet;
  assert.deepEqual(config.security.allowed_backend_networks, [subnet]);
  for (const s of Object.values(services)) assert.deepEqual(s.networks, ["aegis"]);
});

Deno.test("compose waits for Aegis's drain before it kills it", async () => {
  const config = await composeConfig();
  const grace = parseDuration(services.aegis!.stop_grace_period!);
  assert.ok(grace !== undefined, services.aegis!.stop_grace_period);
  assert.ok(grace > config.server.shutdown_timeout + 1000, "shutdown_timeout, then 1 s for admin");
});

Deno.test("aegis runs the config compose mounts, from the image's entry point", async () => {
  const aegis = services.aegis!;
  assert.ok(aegis.volumes!.includes("./aegis.yml:/etc/aegis/aegis.yml:ro"));
  assert.deepEqual(aegis.command, ["--headless", "--config", "/etc/aegis/aegis.yml"]);
  for (const [name, s] of Object.entries(services).filter(([, s]) => s.build)) {
    assert.equal(s.build!.context, "..", name);
    await Deno.stat(`${ROOT}${s.build!.dockerfile}`);
  }
});

Deno.test("Prometheus gets deploy/prometheus.yml, Grafana the provisioning and dashboards", async () => {
  assert.ok(
    services.prometheus!.volumes!.includes("./prometheus.yml:/etc/prometheus/prometheus.yml:ro"),
  );
  const grafana = services.grafana!.volumes!;
  assert.ok(grafana.includes("./grafana/provisioning:/etc/grafana/provisioning:ro"));
  const provider = parse(
    await Deno.readTextFile(deployPath("grafana/provisioning/dashboards/aegis.yml")),
  ).providers[0];
  assert.ok(grafana.includes(`./grafana/dashboards:${provider.options.path}:ro`));
});

Deno.test("docker-compose validates the file against the Compose schema", {
  permissions: { run: ["docker-compose"], read: true },
}, async () => {
  // `config -q` parses and validates, offline: it builds and starts nothing.
  const out = await new Deno.Command("docker-compose", {
    args: ["-f", deployPath("docker-compose.yml"), "config", "-q"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, dec.decode(out.stdout) + dec.decode(out.stderr));
});
