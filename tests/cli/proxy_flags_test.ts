/** proxyConfig(): the flags of `aegis proxy` through the file's validation, problems named by flag. */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { proxyConfig, type ProxyFlags } from "../../src/cli/mod.ts";
import { type Config, parseConfig } from "../../src/config/mod.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** npm:yaml reads these to decide whether to trace; nothing else is needed. */
const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};

const resolver = fakeResolver({
  "api.example": ["93.184.216.34"],
  "localhost": ["127.0.0.1", "::1"],
});

const PUBLIC = "http://93.184.216.34:3000";

/** The flags, with `--listen :8080` unless given. */
const flags = (more: Partial<ProxyFlags>): ProxyFlags => ({
  listen: ":8080",
  to: [PUBLIC],
  ...more,
});

/** Expects the flags to be accepted; returns the configuration and the text. */
async function accept(more: Partial<ProxyFlags>): Promise<{ config: Config; text: string }> {
  const r = await proxyConfig(flags(more), { resolver });
  if (!r.ok) assert.fail(`expected the flags to be accepted, got:\n${r.problems.join("\n")}`);
  return r;
}

/** Expects the flags to be refused; returns every problem. */
async function refuse(more: Partial<ProxyFlags>): Promise<readonly string[]> {
  const r = await proxyConfig(flags(more), { resolver });
  assert.equal(r.ok, false, "expected the flags to be refused");
  return r.ok ? [] : r.problems;
}

Deno.test("proxyConfig() reads every --listen form a listener address takes", PARSE, async (t) => {
  const cases: Array<[string, string]> = [
    [":8080", "0.0.0.0:8080"],
    [":0", "0.0.0.0:0"],
    ["127.0.0.1:0", "127.0.0.1:0"],
    ["localhost:9000", "localhost:9000"],
    ["[::1]:8080", "[::1]:8080"],
    ["[::]:80", "[::]:80"],
  ];
  for (const [listen, address] of cases) {
    await t.step(`--listen ${listen} binds ${address}`, async () => {
      const { config } = await accept({ listen });
      assert.equal(config.listeners[0]!.address, address);
    });
  }
});

Deno.test("proxyConfig() refuses a --listen it cannot read, naming the flag", PARSE, async (t) => {
  const cases: Array<[string, string]> = [
    ["8080", "--listen 8080: not :port, host:port or [IPv6]:port"],
    ["::1:8080", "--listen ::1:8080: not :port, host:port or [IPv6]:port"],
    ["[nope]:80", "--listen [nope]:80: not :port, host:port or [IPv6]:port"],
    ["host:", "--listen host:: not :port, host:port or [IPv6]:port"],
    ["", '--listen "": not :port, host:port or [IPv6]:port'],
    [":70000", "--listen :70000: 70000 is out of range: must be 0–65535"],
    ["bad_host:80", '--listen bad_host:80: "bad_host" is not an IP address or host name'],
  ];
  for (const [listen, problem] of cases) {
    await t.step(`--listen ${JSON.stringify(listen)}`, async () => {
      const [only, ...more] = await refuse({ listen });
      assert.deepEqual(more, []);
      assert.ok(only!.startsWith(problem), only);
    });
  }
});

Deno.test(
  "proxyConfig() refuses a loopback backend unless --allow-loopback, and says which flag to pass",
  PARSE,
  async () => {
    assert.deepEqual(await refuse({ to: ["http://127.0.0.1:3000"] }), [
      "--to http://127.0.0.1:3000: 127.0.0.1 is a loopback address, refused to prevent SSRF; " +
      "pass --allow-loopback for local testing",
    ]);
    assert.deepEqual(await refuse({ to: ["http://localhost:3000"] }), [
      '--to http://localhost:3000: host "localhost" resolves to 127.0.0.1, a loopback address, ' +
      "refused to prevent SSRF; pass --allow-loopback for local testing",
    ]);

    const { config } = await accept({
      to: ["http://127.0.0.1:3000", "http://localhost:3001"],
      allowLoopback: true,
    });
    assert.deepEqual(config.development, { allow_loopback_backends: true });
    assert.deepEqual(config.pools.default!.backends, [
      { url: "http://127.0.0.1:3000", weight: 1 },
      { url: "http://localhost:3001", weight: 1 },
    ]);
  },
);

Deno.test("proxyConfig() names the --to of each bad backend URL", PARSE, async () => {
  assert.deepEqual(
    await refuse({
      to: [PUBLIC, "ftp://x", "not a url", "http://user:pw@api.example", `${PUBLIC}/`],
    }),
    [
      "--to ftp://x: scheme must be http or https, not ftp",
      '--to "not a url": "not a url" is not an absolute URL (http://host:port)',
      "--to http://user:pw@api.example: must not contain credentials (user:password@); " +
      "put secrets in headers at the backend",
      `--to ${PUBLIC}/: duplicate of --to ${PUBLIC} (${PUBLIC}/)`,
    ],
  );
});

Deno.test(
  "proxyConfig() trusts a private network only through --allow-network, and says so",
  PARSE,
  async () => {
    const privateUrl = "http://10.1.2.3:3000";
    assert.deepEqual(await refuse({ to: [privateUrl] }), [
      `--to ${privateUrl}: 10.1.2.3 is a private address, refused to prevent SSRF; ` +
      "to trust it, pass its network with --allow-network",
    ]);
    const { config } = await accept({ to: [privateUrl], allowNetwork: ["10.0.0.0/8"] });
    assert.deepEqual(config.security.allowed_backend_networks, ["10.0.0.0/8"]);

    const problems = await refuse({ to: [PUBLIC], allowNetwork: ["10.0.0.0/8", "nope"] });
    assert.deepEqual(problems, [
      '--allow-network nope: "nope" is not a network such as 10.0.0.0/8',
    ]);
  },
);

Deno.test("proxyConfig() checks --admin as admin.address", PARSE, async () => {
  const { config } = await accept({ admin: "127.0.0.1:0" });
  assert.equal(config.admin.address, "127.0.0.1:0");
  assert.deepEqual(await refuse({ admin: "9090" }), [
    '--admin 9090: "9090" is not host:port (for IPv6 use [::1]:9090)',
  ]);
  // [SECURITY] An admin API other machines reach needs a token, which no flag sets.
  assert.deepEqual(await refuse({ admin: "0.0.0.0:9090" }), [
    "--admin 0.0.0.0:9090: 0.0.0.0:9090 is reachable from other machines: keep --admin on " +
    "loopback, or run from a file that sets admin.token so that /reload and /drain need it",
  ]);
});

Deno.test("proxyConfig() reports every bad flag at once", PARSE, async () => {
  const problems = await refuse({
    listen: "8080",
    to: ["http://127.0.0.1:3000", "ftp://x"],
    admin: "nowhere",
  });
  assert.deepEqual(problems.map((p) => p.slice(0, p.indexOf(": "))), [
    "--listen 8080",
    "--to http://127.0.0.1:3000",
    "--to ftp://x",
    "--admin nowhere",
  ]);
});

Deno.test("proxyConfig() lists at most 100 problems and counts the rest", PARSE, async () => {
  const problems = await refuse({ to: Array.from({ length: 103 }, (_, i) => `ftp://h${i}`) });
  assert.equal(problems.length, 101);
  assert.equal(problems[99], "--to ftp://h99: scheme must be http or https, not ftp");
  assert.equal(problems[100], "flags: 3 more problems not shown");
});

Deno.test("proxyConfig() cuts a very long flag value short in its message", PARSE, async () => {
  const long = `ftp://${"x".repeat(10_000)}`;
  const [problem] = await refuse({ to: [long] });
  assert.ok(problem!.length < 300, problem);
  assert.match(problem!, /^--to ftp:\/\/x+… \(10006 characters\): scheme must be http or https/);
});

Deno.test(
  "proxyConfig() writes only what the flags set, as a file that means the same",
  PARSE,
  async (t) => {
    await t.step("the fewest flags: the port and the backends", async () => {
      const { text } = await accept({ to: [PUBLIC, "http://api.example"] });
      assert.match(text, /^# Written by `aegis proxy --print-config`/);
      assert.deepEqual(parse(text), {
        server: { port: 8080 },
        backends: [{ url: PUBLIC, weight: 1 }, { url: "http://api.example", weight: 1 }],
      });
    });

    await t.step("every flag", async () => {
      const { config, text } = await accept({
        listen: "[::1]:0",
        to: ["http://[::1]:3000"],
        allowLoopback: true,
        allowNetwork: ["10.0.0.0/8"],
        admin: "127.0.0.1:0",
        logLevel: "debug",
      });
      assert.deepEqual(parse(text), {
        server: { host: "::1", port: 0 },
        backends: [{ url: "http://[::1]:3000", weight: 1 }],
        security: { allowed_backend_networks: ["10.0.0.0/8"] },
        admin: { address: "127.0.0.1:0" },
        logging: { level: "debug" },
        development: { allow_loopback_backends: true },
      });
      const reread = await parseConfig(text, { resolver });
      assert.ok(reread.ok);
      assert.deepEqual(reread.config, config);
    });

    await t.step("a value YAML would read as something else stays a string", async () => {
      // Refused as a URL, but only after reaching the check as the string it was.
      const [problem] = await refuse({ to: ["true\nserver: {port: 1}"] });
      assert.equal(
        problem,
        '--to "true\\nserver: {port: 1}": "true\\nserver: {port: 1}" is not an absolute URL ' +
          "(http://host:port)",
      );
    });
  },
);
