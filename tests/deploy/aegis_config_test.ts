/**
 * `deploy/aegis.yml` passes `aegis check` where it runs: inside compose,
 * where Docker's DNS resolves the backends' service names into the compose
 * network. Here nothing resolves them, and the SSRF check resolves every
 * backend name while it validates, so the real CLI runs in a mount
 * namespace of its own whose /etc/hosts has the names (getaddrinfo reads
 * it, as the SSRF check's resolver does). Where no mount namespace can be
 * made (not root, or no CAP_SYS_ADMIN), that step checks instead that the
 * names are the only thing `aegis check` finds wrong.
 */

import assert from "node:assert/strict";
import { formatDiagnostic, loadConfigFile } from "../../src/config/mod.ts";
import { type CliResult, runCli } from "../_helpers/cli.ts";
import { fakeResolver } from "../_helpers/config.ts";
import { COMPOSE_HOSTS, composeConfig, deployPath } from "./_deploy.ts";

const PATH = "deploy/aegis.yml";

Deno.test("deploy/aegis.yml is valid with its backends resolved on the compose network", async () => {
  const config = await composeConfig();
  assert.deepEqual(config.listeners.map((l) => [l.name, l.address]), [["web", "0.0.0.0:8080"]]);
  assert.equal(config.admin.metrics_address, "0.0.0.0:9091");
  assert.equal(config.development.allow_loopback_backends, false, "no development switch");
});

Deno.test("the SSRF check refuses the same names resolved into another private network", async () => {
  const elsewhere = fakeResolver(
    Object.fromEntries(Object.keys(COMPOSE_HOSTS).map((h) => [h, ["172.18.0.5"]])),
  );
  const r = await loadConfigFile(deployPath("aegis.yml"), { resolver: elsewhere });
  assert.equal(r.ok, false);
  const problems = r.ok ? [] : r.diagnostics.map((d) => formatDiagnostic(PATH, d));
  assert.equal(problems.length, 3);
  assert.match(
    problems[0]!,
    /backend-1" resolves to 172\.18\.0\.5, a private address, refused to prevent SSRF/,
  );
});

/**
 * `aegis check --config deploy/aegis.yml` with /etc/hosts replaced by
 * `hosts`, in a mount namespace of its own; undefined where none can be made.
 */
async function checkWithHosts(hosts: string): Promise<CliResult | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "aegis-hosts-" });
  try {
    const file = `${dir}/hosts`;
    await Deno.writeTextFile(file, hosts);
    const bind = 'mount --bind "$0" /etc/hosts';
    // Whether a mount namespace can be made here at all.
    const probe = await new Deno.Command("unshare", {
      args: ["--mount", "sh", "-c", bind, file],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    if (!probe?.success) return undefined;
    const under = ["unshare", "--mount", "sh", "-c", `${bind} && exec "$@"`, file];
    return await runCli(["check", "--config", PATH], under);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`aegis check` accepts deploy/aegis.yml where the compose names resolve", async (t) => {
  const hosts = Object.entries(COMPOSE_HOSTS).map(([h, a]) => `${a} ${h}\n`).join("");
  const checked = await checkWithHosts(`127.0.0.1 localhost\n${hosts}`);
  if (checked) {
    await t.step("in a mount namespace whose /etc/hosts has them: valid", () => {
      assert.equal(checked.code, 0, checked.stderr);
      assert.equal(checked.stderr, `aegis: ${PATH} is valid\n`);
    });
    return;
  }
  await t.step("no mount namespace here: the unresolved names are the only problems", async () => {
    const r = await runCli(["check", "--config", PATH]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.pop(), `aegis: ${PATH} has 3 problems; nothing was started`);
    assert.deepEqual(
      lines.map((l) => /cannot resolve host "([\w-]+)"/.exec(l)?.[1]),
      Object.keys(COMPOSE_HOSTS),
    );
  });
});
