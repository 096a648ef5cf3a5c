import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { parseConfig } from "../../src/config/mod.ts";
import { ROOT, runCli, spawnAegis } from "../_helpers/cli.ts";
import { fakeResolver, writeConfigFile } from "../_helpers/config.ts";

/**
 * What running the CLI from a test takes: spawning it, writing its
 * configuration, and the variables npm:yaml reads when the test parses YAML.
 */
const CLI: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { run: true, read: true, write: true, env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/** A temporary configuration file, removed with its directory on dispose. */
async function tempConfig(
  content: string | Record<string, unknown>,
): Promise<{ path: string; dir: string } & AsyncDisposable> {
  const path = await writeConfigFile(content);
  const dir = path.slice(0, path.lastIndexOf("/"));
  return { path, dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** A valid configuration with one loopback backend and nothing else set. */
function validConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { host: "127.0.0.1", port: 0 },
    backends: [{ url: "http://127.0.0.1:9", weight: 1 }],
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
    ...overrides,
  };
}

/** Seven lines with four problems: port (2), URL scheme (5), weight (6), unknown key (7). */
const INVALID = [
  "server:",
  "  port: 70000",
  "  host: 127.0.0.1",
  "backends:",
  "  - url: ftp://127.0.0.1",
  "    weight: 0",
  "surprise: true",
].join("\n") + "\n";

function invalidDiagnostics(path: string): string[] {
  return [
    `${path}:2:9 server.port: 70000 is out of range: must be 0–65535`,
    `${path}:5:10 backends[0].url: scheme must be http or https, not ftp`,
    `${path}:6:13 backends[0].weight: 0 is out of range: must be 1–10000`,
    `${path}:7:1 surprise: unknown key "surprise"; expected one of: server, backends, ` +
    "listeners, pools, load_balancing, retries, health_check, rate_limit, adaptive, circuit_breaker, logging, " +
    "tui, development, admin, tracing, security, upstream",
  ];
}

Deno.test(
  "`aegis check` prints the configuration with every default filled in and exits 0",
  CLI,
  async () => {
    await using file = await tempConfig(validConfig());
    const r = await runCli(["check", "-c", file.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `aegis: ${file.path} is valid\n`);

    // The expanded form: the flat file's one listener and one pool, both `default`.
    const printed = parse(r.stdout);
    assert.deepEqual(printed.server, { shutdown_timeout: "30s", workers: 1 });
    const [listener, ...others] = printed.listeners;
    assert.deepEqual(others, []);
    const { rate_limit, adaptive: _, security, ...front } = listener;
    assert.deepEqual(front, {
      name: "default",
      protocol: "http",
      address: "127.0.0.1:0",
      allow: [],
      deny: [],
      accept_proxy_protocol: [],
      read_timeout: "5s",
      write_timeout: "10s",
      idle_timeout: "2m",
      max_header_bytes: 8192,
      max_body_bytes: 10485760,
      max_connections: "auto",
      max_connections_per_client: 256,
      websocket: {
        enabled: false,
        idle_timeout: "5m",
        allowed_origins: [],
        max_connections: 10_000,
        max_connections_per_client: 64,
      },
      routes: [{ pool: "default", strip_prefix: false }],
    });
    assert.deepEqual(security.allowed_hosts, []);
    assert.deepEqual(Object.keys(printed.pools), ["default"]);
    const pool = printed.pools.default;
    assert.deepEqual(pool.backends, [{ url: "http://127.0.0.1:9", weight: 1 }]);
    assert.equal(pool.load_balancing.algorithm, "weighted_round_robin");
    assert.deepEqual(pool.health_check, {
      interval: "10s",
      timeout: "3s",
      path: "/health",
      unhealthy_threshold: 3,
      healthy_threshold: 2,
    });
    assert.deepEqual(rate_limit, {
      requests_per_second: 100,
      burst: 150,
      cleanup_interval: "1m",
      max_clients: 100000,
      ipv6_prefix: 64,
      exempt: [],
      store: { type: "local", url: "", sync_interval: "100ms" },
    });
    assert.deepEqual(pool.retries, { attempts: 1 });
    assert.deepEqual(printed.logging, { level: "info", format: "json" });
    assert.deepEqual(printed.admin, { address: "127.0.0.1:0", metrics_address: "", token: "" });
    assert.deepEqual(printed.development, { allow_loopback_backends: true });
  },
);

Deno.test(
  "`aegis check` output is itself a valid configuration that means the same",
  CLI,
  async () => {
    await using file = await tempConfig(validConfig({
      server: { host: "127.0.0.1", port: 0, read_timeout: "1m30s" },
      backends: [
        { url: "http://127.0.0.1:9/api", weight: 2 },
        { url: "http://[::1]:9", weight: 1 },
      ],
    }));
    const first = await runCli(["check", "-c", file.path]);
    assert.equal(first.code, 0, first.stderr);

    const resolver = fakeResolver({});
    const original = await parseConfig(await Deno.readTextFile(file.path), { resolver });
    const reparsed = await parseConfig(first.stdout, { resolver });
    assert.ok(original.ok && reparsed.ok);
    assert.deepEqual(reparsed.config, original.config);

    await using again = await tempConfig(first.stdout);
    const second = await runCli(["check", "-c", again.path]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
  },
);

Deno.test(
  "`aegis check` on an invalid file exits 1 and lists every positioned problem on stderr only",
  CLI,
  async () => {
    await using file = await tempConfig(INVALID);
    const r = await runCli(["check", "-c", file.path]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.deepEqual(r.stderr.split("\n"), [
      ...invalidDiagnostics(file.path),
      `aegis: ${file.path} has 4 problems; nothing was started`,
      "",
    ]);
  },
);

Deno.test("`aegis check` counts a single problem in the singular", CLI, async () => {
  await using file = await tempConfig(validConfig({ logging: { level: "loud" } }));
  const r = await runCli(["check", "-c", file.path]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^.+:\d+:\d+ logging\.level: must be one of debug, info, warn, error; /);
  assert.equal(lines[1], `aegis: ${file.path} has 1 problem; nothing was started`);
});

Deno.test("`aegis check` reports a YAML syntax error with its position", CLI, async () => {
  await using file = await tempConfig("server:\n  port: 1\n  port: 2\n");
  const r = await runCli(["check", "-c", file.path]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    `${file.path}:3:3 (syntax): Map keys must be unique\n` +
      `aegis: ${file.path} has 1 problem; nothing was started\n`,
  );
});

Deno.test("`aegis check` on a file that cannot be read exits 1 with one line", CLI, async (t) => {
  await using file = await tempConfig(validConfig());

  await t.step("a missing file", async () => {
    const missing = `${file.dir}/missing.yml`;
    const r = await runCli(["check", "-c", missing]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `aegis: cannot read config file ${missing}: no such file\n`);
  });

  await t.step("a directory", async () => {
    const r = await runCli(["check", "-c", file.dir]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `aegis: cannot read config file ${file.dir}: is a directory\n`);
  });
});

Deno.test("`aegis check` takes --config before or after the subcommand", CLI, async (t) => {
  await using file = await tempConfig(validConfig());
  const reference = await runCli(["check", "-c", file.path]);
  assert.equal(reference.code, 0, reference.stderr);

  const spellings = [
    ["-c", file.path, "check"],
    ["check", "--config", file.path],
    ["--config", file.path, "check"],
    [`--config=${file.path}`, "check"],
  ];
  for (const args of spellings) {
    await t.step(`aegis ${args.join(" ").replaceAll(file.path, "FILE")}`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, reference.stdout);
      assert.equal(r.stderr, `aegis: ${file.path} is valid\n`);
    });
  }
});

Deno.test(
  "`aegis check` without --config validates aegis.yml in the working directory",
  CLI,
  async () => {
    const r = await runCli(["check"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "aegis: aegis.yml is valid\n");
    assert.equal(parse(r.stdout).pools.default.backends.length, 3);
  },
);

Deno.test("`aegis --version` prints the version from deno.json", CLI, async (t) => {
  const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  assert.match(version, /^\d+\.\d+\.\d+/);
  for (const flag of ["--version", "-v"]) {
    await t.step(flag, async () => {
      const r = await runCli([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${version}\n`);
      assert.equal(r.stderr, "");
    });
  }
});

Deno.test("`aegis --help` documents the options and the check command", CLI, async (t) => {
  for (const flag of ["--help", "-h"]) {
    await t.step(flag, async () => {
      const r = await runCli([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
      for (const word of ["--config", "--headless", "--log-level", "--version", "check"]) {
        assert.ok(r.stdout.includes(word), `help should mention ${word}:\n${r.stdout}`);
      }
      assert.match(r.stdout, /^Usage: aegis /);
    });
  }

  await t.step("check --help", async () => {
    const r = await runCli(["check", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: aegis check /);
  });
});

Deno.test(
  "`aegis` exits 2 on a usage error, says why on stderr and prints nothing on stdout",
  CLI,
  async (t) => {
    await using file = await tempConfig(validConfig());
    const cases: Array<[string[], RegExp]> = [
      [["--bogus"], /^error: unknown option '--bogus'\n$/],
      [["check", "--bogus"], /^error: unknown option '--bogus'\n$/],
      [["-c", file.path, "--log-level", "loud"], /'loud' is invalid.*debug, info, warn, error/],
      [
        ["-c", file.path, "--log-level"],
        /^error: option '--log-level <level>' argument missing\n$/,
      ],
      [["check", "-c"], /^error: option '-c, --config <file>' argument missing\n$/],
      [["check", "extra"], /^error: too many arguments for 'check'/],
      [["bogus"], /^error: too many arguments/],
    ];
    for (const [args, stderr] of cases) {
      await t.step(`aegis ${args.join(" ").replaceAll(file.path, "FILE")}`, async () => {
        const r = await runCli(args);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, stderr);
      });
    }
  },
);

Deno.test(
  "`aegis` with an invalid configuration exits 1 on its own before it starts listening",
  CLI,
  async () => {
    await using file = await tempConfig(INVALID);
    const r = await runCli(["-c", file.path, "--headless"]);
    assert.equal(r.code, 1);
    // The proxy logs "Aegis listening" on stdout once it has a socket: nothing
    // on stdout means it never got that far.
    assert.equal(r.stdout, "");
    assert.deepEqual(r.stderr.split("\n"), [
      ...invalidDiagnostics(file.path),
      `aegis: ${file.path} has 4 problems; nothing was started`,
      "",
    ]);
  },
);

Deno.test("`aegis` with a missing configuration file exits 1 with one line", CLI, async () => {
  await using file = await tempConfig(validConfig());
  const missing = `${file.dir}/nope.yml`;
  const r = await runCli(["--config", missing, "--headless"]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, `aegis: cannot read config file ${missing}: no such file\n`);
});

Deno.test("`aegis` exits 1 with one line when its port is already in use", {
  permissions: { ...CLI.permissions, net: ["127.0.0.1"] },
}, async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  await using file = await tempConfig(validConfig({
    server: { host: "127.0.0.1", port },
    tui: { enabled: false },
  }));
  const r = await runCli(["-c", file.path, "--headless"]);
  assert.equal(r.code, 1);
  assert.ok(!r.stdout.includes("Aegis listening"), r.stdout);
  assert.equal(r.stderr, `aegis: cannot listen on 127.0.0.1:${port}: address already in use\n`);
});

Deno.test(
  "`aegis` exits 1 naming the admin or metrics address when its port is in use, and serves nothing",
  {
    permissions: { ...CLI.permissions, net: ["127.0.0.1"] },
  },
  async (t) => {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (taken.addr as Deno.NetAddr).port;
    for (const field of ["address", "metrics_address"]) {
      await t.step(`admin.${field}`, async () => {
        await using file = await tempConfig(validConfig({
          admin: { address: "127.0.0.1:0", [field]: `127.0.0.1:${port}` },
          tui: { enabled: false },
        }));
        const r = await runCli(["-c", file.path, "--headless"]);
        assert.equal(r.code, 1);
        assert.ok(!r.stdout.includes("Aegis listening"), r.stdout);
        assert.equal(
          r.stderr,
          `aegis: cannot listen on 127.0.0.1:${port}: address already in use\n`,
        );
      });
    }
  },
);

Deno.test("`aegis` runs with a valid configuration and exits 0 on SIGTERM", CLI, async () => {
  await using file = await tempConfig(validConfig({
    server: { host: "127.0.0.1", port: 0, shutdown_timeout: "1s" },
    tui: { enabled: false },
  }));
  const aegis = await spawnAegis(file.path, ["--headless"]);
  assert.ok(aegis.port > 0);
  aegis.kill("SIGTERM");
  const status = await aegis.status;
  assert.equal(status.code, 0, aegis.stderr());
  assert.ok(aegis.logs.some((l) => l.msg === "Aegis shutdown complete"), stringify(aegis.logs));
});

Deno.test("`aegis --log-level` overrides logging.level from the file", CLI, async () => {
  await using file = await tempConfig(validConfig({
    server: { host: "127.0.0.1", port: 0, shutdown_timeout: "1s" },
    logging: { level: "error" },
    tui: { enabled: false },
  }));
  // At level "error" the file alone would hide the "Aegis listening" info
  // line that spawnAegis waits for; with --log-level info it must appear.
  await using aegis = await spawnAegis(file.path, ["--headless", "--log-level", "info"]);
  assert.ok(aegis.port > 0);
});
