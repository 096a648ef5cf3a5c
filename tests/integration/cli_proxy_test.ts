/** `aegis proxy`: the real command line as a subprocess, with no configuration file. */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { startBackend } from "../_helpers/backend.ts";
import { runCli, spawnCli } from "../_helpers/cli.ts";

/**
 * Spawning the CLI, loopback sockets, temporary files, and the variables
 * npm:yaml reads when the test parses YAML.
 */
const CLI: { permissions: Deno.PermissionOptionsObject } = {
  permissions: {
    run: true,
    read: true,
    write: true,
    net: ["127.0.0.1"],
    env: ["LOG_TOKENS", "LOG_STREAM"],
  },
};

/** Every port is picked by the system, so tests can run side by side. */
const EPHEMERAL = ["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"];

/** `--to` for each backend. */
const toEach = (...urls: string[]) => urls.flatMap((url) => ["--to", url]);

Deno.test(
  "`aegis proxy` spreads requests over its --to backends, then exits 0 on SIGTERM",
  CLI,
  async () => {
    await using a = startBackend(() => new Response("a"));
    await using b = startBackend(() => new Response("b"));
    await using aegis = await spawnCli([
      "proxy",
      ...EPHEMERAL,
      ...toEach(a.url, b.url),
      "--allow-loopback",
      "--headless",
    ]);
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`http://127.0.0.1:${aegis.port}/hello`);
      assert.equal(res.status, 200);
      answers.push(await res.text());
    }
    // Round robin over two backends of weight 1: each takes every other request.
    assert.deepEqual(answers.toSorted(), ["a", "a", "b", "b"]);
    assert.deepEqual([a.received.length, b.received.length], [2, 2]);
    assert.equal(a.received[0]!.target, "/hello");

    aegis.kill("SIGTERM");
    const status = await aegis.status;
    assert.equal(status.code, 0, aegis.stderr());
    assert.ok(aegis.logs.some((l) => l.msg === "Aegis shutdown complete"));
  },
);

Deno.test(
  "`aegis proxy` refuses SIGHUP and POST /reload, having no file, and keeps serving",
  CLI,
  async () => {
    await using a = startBackend(() => new Response("a"));
    await using aegis = await spawnCli([
      "proxy",
      ...EPHEMERAL,
      ...toEach(a.url),
      "--allow-loopback",
      "--headless",
    ]);
    aegis.kill("SIGHUP");
    const refused = await aegis.waitForLog((l) =>
      l.msg === "reload refused: no configuration file"
    );
    assert.equal(refused.level, "warn");
    assert.match(String(refused.problem), /without a configuration file \(aegis proxy\)/);

    const res = await fetch(`${aegis.adminUrl}/reload`, { method: "POST" });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error, "nothing to reload");
    assert.deepEqual(body.problems, [refused.problem]);

    assert.equal(await (await fetch(`http://127.0.0.1:${aegis.port}/`)).text(), "a");
  },
);

Deno.test(
  "`aegis proxy --print-config` writes a file `aegis check` accepts, resolving to what runs",
  CLI,
  async () => {
    await using a = startBackend();
    await using b = startBackend();
    const flags = [...EPHEMERAL, ...toEach(a.url, b.url), "--allow-loopback"];
    const printed = await runCli(["proxy", ...flags, "--print-config"]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stderr, "");
    assert.match(printed.stdout, /^# Written by `aegis proxy --print-config`/);
    assert.deepEqual(parse(printed.stdout), {
      server: { host: "127.0.0.1", port: 0 },
      backends: [{ url: a.url, weight: 1 }, { url: b.url, weight: 1 }],
      admin: { address: "127.0.0.1:0" },
      development: { allow_loopback_backends: true },
    });

    const dir = await Deno.makeTempDir({ prefix: "aegis-proxy-" });
    try {
      const path = `${dir}/aegis.yml`;
      await Deno.writeTextFile(path, printed.stdout);
      const checked = await runCli(["check", "--config", path]);
      assert.equal(checked.code, 0, checked.stderr);

      await using aegis = await spawnCli(["proxy", ...flags, "--headless"]);
      const status = await (await fetch(`${aegis.adminUrl}/status`)).json();
      assert.deepEqual(parse(checked.stdout), status.config);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "`aegis proxy` with a loopback backend and no --allow-loopback exits 1 naming both flags",
  CLI,
  async () => {
    const r = await runCli(["proxy", ...EPHEMERAL, "--to", "http://127.0.0.1:3000", "--headless"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      "aegis: --to http://127.0.0.1:3000: 127.0.0.1 is a loopback address, refused to prevent " +
        "SSRF; pass --allow-loopback for local testing\n",
    );
  },
);

Deno.test(
  "`aegis proxy` with bad values exits 1 before listening, one line per flag at fault",
  CLI,
  async () => {
    const r = await runCli([
      "proxy",
      "--listen",
      "8080",
      ...toEach("ftp://x", "not a url"),
      "--admin",
      "127.0.0.1:0",
      "--headless",
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.deepEqual(r.stderr.split("\n"), [
      "aegis: --listen 8080: not :port, host:port or [IPv6]:port (such as :8080, 127.0.0.1:8080 " +
      "or [::1]:8080)",
      "aegis: --to ftp://x: scheme must be http or https, not ftp",
      'aegis: --to "not a url": "not a url" is not an absolute URL (http://host:port)',
      "",
    ]);
  },
);

Deno.test("`aegis proxy` exits 2 on a usage error and prints nothing on stdout", CLI, async (t) => {
  const to = ["--to", "http://127.0.0.1:3000"];
  const cases: Array<[string[], RegExp]> = [
    [["proxy"], /^error: required option '--to <url>' not specified\n$/],
    [["proxy", "--allow-loopback"], /^error: required option '--to <url>' not specified\n$/],
    [["proxy", ...to, "--to"], /^error: option '--to <url>' argument missing\n$/],
    [["proxy", ...to, "--log-level", "loud"], /'loud' is invalid.*debug, info, warn, error/],
    [["proxy", ...to, "--config", "aegis.yml"], /^error: aegis proxy reads no configuration file/],
    [["-c", "aegis.yml", "proxy", ...to], /^error: aegis proxy reads no configuration file/],
    [["proxy", ...to, "extra"], /^error: too many arguments for 'proxy'/],
    [["proxy", ...to, "--bogus"], /^error: unknown option '--bogus'\n$/],
  ];
  for (const [args, stderr] of cases) {
    await t.step(`aegis ${args.join(" ")}`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, stderr);
    });
  }
});

Deno.test("`aegis --help` lists proxy, and `aegis proxy --help` its flags", CLI, async (t) => {
  await t.step("aegis --help", async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\s+proxy \[options\]\s+run a proxy to the --to backends/m);
  });

  await t.step("aegis proxy --help", async () => {
    const r = await runCli(["proxy", "--help"]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^Usage: aegis proxy /);
    const flags = [
      "--listen <address>",
      "--to <url>",
      "--allow-loopback",
      "--allow-network <cidr>",
      "--admin <address>",
      "--print-config",
      "--headless",
      "--log-level <level>",
    ];
    for (const flag of flags) {
      assert.ok(r.stdout.includes(flag), `help should document ${flag}:\n${r.stdout}`);
    }
    assert.match(r.stdout, /SIGHUP and POST \/reload have nothing to re-read/);
  });
});
