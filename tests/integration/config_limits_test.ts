/**
 * The configuration loader's limits seen from outside: reloads parse off the
 * event loop and under a time limit, oversized and special files are refused
 * in one line, huge values are cut short in answers and logs. In-process for
 * reloads (the test shares Aegis's event loop, so a blocked loop would show),
 * the real CLI for startup, `aegis check` and SIGHUP.
 */

import assert from "node:assert/strict";
import { stringify } from "yaml";
import { loadConfigFile, MAX_CONFIG_BYTES } from "../../src/config/mod.ts";
import { startTestAegis } from "../_helpers/aegis.ts";
import { startBackend } from "../_helpers/backend.ts";
import { methodAliasesYaml } from "../_helpers/big_config.ts";
import { runCli, spawnAegis } from "../_helpers/cli.ts";
import { TEST_TRANSPORT, withTestTransport } from "../_helpers/config.ts";

/** Config data with one loopback backend, on ephemeral ports. */
function configData(backend: string): Record<string, unknown> {
  return {
    server: { host: "127.0.0.1", port: 0, shutdown_timeout: "1s" },
    backends: [{ url: backend, weight: 1 }],
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
    tui: { enabled: false },
  };
}

/**
 * A valid file of about 800 KB, 200,000 aliases for `GET`: it takes the
 * parser seconds, and applying it changes nothing that matters.
 */
function largeFile(backend: string): string {
  const transport = TEST_TRANSPORT ? `upstream: {transport: ${TEST_TRANSPORT}}\n` : "";
  return methodAliasesYaml(backend, 200_000) + transport;
}

/** A config file in a fresh directory, removed on dispose. */
async function configFile(backend: string) {
  const dir = await Deno.makeTempDir({ prefix: "aegis-limits-" });
  const path = `${dir}/aegis.yml`;
  await Deno.writeTextFile(path, stringify(withTestTransport(configData(backend))));
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  return {
    path,
    dir,
    config: loaded.config,
    write: (text: string) => Deno.writeTextFile(path, text),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function post(url: string) {
  const res = await fetch(url, { method: "POST" });
  return { status: res.status, body: await res.json() };
}

Deno.test("while a reload parses a large file, the proxy and the admin API keep answering", async () => {
  await using backend = startBackend(() => new Response("a"));
  await using file = await configFile(backend.url);
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  await file.write(largeFile(backend.url));

  let settled = false;
  const reloading = proxy.aegis.reload().finally(() => (settled = true));
  const answer = await fetch(proxy.url);
  assert.equal(await answer.text(), "a");
  const health = await fetch(`${proxy.adminUrl}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  // Both answers came while the file was still being parsed: had the parse
  // run on this event loop, neither request could have been served first.
  assert.equal(settled, false, "the reload finished before the proxy answered");

  const result = await reloading;
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(proxy.aegis.config.listeners[0]!.security.allowed_methods.length, 200_001);
  assert.equal(await (await fetch(proxy.url)).text(), "a");
});

Deno.test("a reload over its time limit is refused and the old configuration keeps serving", async () => {
  await using a = startBackend(() => new Response("a"));
  await using file = await configFile(a.url);
  await using proxy = startTestAegis(file.config, { configPath: file.path, configTimeoutMs: 1 });
  await file.write(largeFile(a.url));

  const r = await post(`${proxy.adminUrl}/reload`);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.problems, [
    `cannot check config file ${file.path}: took longer than the 1ms limit`,
  ]);
  assert.equal(proxy.aegis.config, file.config, "the running configuration is the same object");
  assert.equal(await (await fetch(proxy.url)).text(), "a");
  assert.ok(proxy.logs.some((l) => l.msg === "reload failed"));
});

Deno.test("a reload of a file over 1 MiB is refused in one line before it is parsed", async () => {
  await using a = startBackend(() => new Response("a"));
  await using file = await configFile(a.url);
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  await file.write("#".repeat(MAX_CONFIG_BYTES + 1));

  const r = await post(`${proxy.adminUrl}/reload`);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.problems, [
    `cannot read config file ${file.path}: 1048577 bytes, more than the limit of 1048576 bytes (1 MiB)`,
  ]);
  assert.equal(await (await fetch(proxy.url)).text(), "a");
});

Deno.test("a reload answers and logs a 500 KB value cut to 80 characters", async () => {
  await using a = startBackend(() => new Response("a"));
  await using file = await configFile(a.url);
  await using proxy = startTestAegis(file.config, { configPath: file.path });
  const huge = "9".repeat(500_000);
  await file.write(stringify(withTestTransport({
    ...configData(a.url),
    server: { host: "127.0.0.1", port: 0, read_timeout: huge },
  })));

  const r = await post(`${proxy.adminUrl}/reload`);
  assert.equal(r.status, 400);
  assert.equal(r.body.problems.length, 1);
  const problem = r.body.problems[0] as string;
  assert.match(problem, /server\.read_timeout: invalid duration "9{80}…" \(500000 characters\): /);
  const logged = proxy.logs.filter((l) => l.msg === "reload problem").map((l) => String(l.problem));
  assert.deepEqual(logged, [problem]);
  assert.ok(problem.length < 300);
});

const CLI: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { run: true, read: true, write: true, net: true, env: true },
};

Deno.test(
  "SIGHUP with a large file: aegis answers and stops on SIGTERM while the file is parsed",
  CLI,
  async () => {
    await using backend = startBackend(() => new Response("a"));
    await using file = await configFile(backend.url);
    await using aegis = await spawnAegis(file.path, ["--headless"]);
    const admin = String(aegis.logs.find((l) => l.msg === "Aegis listening")!.admin);
    await file.write(largeFile(backend.url));

    aegis.kill("SIGHUP");
    await aegis.waitForLog((l) => l.msg === "reloading configuration");
    const answer = await fetch(`http://127.0.0.1:${aegis.port}/`);
    assert.equal(await answer.text(), "a");
    const health = await fetch(`${admin}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    aegis.kill("SIGTERM");
    const status = await aegis.status;
    assert.equal(status.code, 0, aegis.stderr());
    const messages = aegis.logs.map((l) => l.msg);
    assert.ok(messages.includes("Aegis shutdown complete"), stringify(messages));
    // SIGTERM was handled while the worker parsed: the reload never finished.
    assert.ok(!messages.includes("configuration reloaded"), stringify(messages));
  },
);

Deno.test(
  "`aegis` refuses a named pipe as its configuration at once, in one line",
  CLI,
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "aegis-fifo-" });
    const path = `${dir}/aegis.yml`;
    try {
      const made = await new Deno.Command("mkfifo", { args: [path] }).output();
      assert.ok(made.success, "mkfifo failed");
      const expected =
        `aegis: cannot read config file ${path}: is a named pipe (FIFO), not a regular file\n`;
      await t.step("at startup", async () => {
        const r = await runCli(["--config", path, "--headless"]);
        assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", expected]);
      });
      await t.step("in `aegis check`", async () => {
        const r = await runCli(["check", "--config", path]);
        assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", expected]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("`aegis` refuses a configuration file over 1 MiB in one line", CLI, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "aegis-big-" });
  const path = `${dir}/aegis.yml`;
  try {
    await Deno.writeTextFile(path, "#".repeat(MAX_CONFIG_BYTES + 1));
    const expected =
      `aegis: cannot read config file ${path}: 1048577 bytes, more than the limit of 1048576 bytes (1 MiB)\n`;
    await t.step("at startup", async () => {
      const r = await runCli(["--config", path, "--headless"]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", expected]);
    });
    await t.step("in `aegis check`", async () => {
      const r = await runCli(["check", "--config", path]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", expected]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`aegis check` lists 100 problems and counts the rest", CLI, async () => {
  const dir = await Deno.makeTempDir({ prefix: "aegis-many-" });
  const path = `${dir}/aegis.yml`;
  try {
    const keys = Array.from({ length: 5000 }, (_, i) => `  k${i}: 1`);
    await Deno.writeTextFile(path, ["server:", ...keys, "backends: []"].join("\n") + "\n");
    const r = await runCli(["check", "--config", path]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 102, r.stderr.slice(0, 500));
    assert.match(lines[0]!, new RegExp(`^${path}:2:3 server\\.k0: unknown key "k0"`));
    assert.equal(lines[100], `${path}: 4901 more problems not shown`);
    assert.equal(lines[101], `aegis: ${path} has 5001 problems; nothing was started`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
