/**
 * `aegis check` with listeners and pools, through the real entry point as a
 * subprocess: the expanded form on standard output, warnings and problems
 * positioned on standard error.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { runCli } from "../_helpers/cli.ts";
import { writeConfigFile } from "../_helpers/config.ts";

const CLI: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { run: true, read: true, write: true, env: ["LOG_TOKENS", "LOG_STREAM"] },
};

/** A temporary configuration file (YAML text), removed with its directory on dispose. */
async function tempConfig(text: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await writeConfigFile(text);
  const dir = path.slice(0, path.lastIndexOf("/"));
  return { path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const COMMON = [
  "development: { allow_loopback_backends: true }",
  "admin: { address: 127.0.0.1:0 }",
];

const FLAT = [
  ...COMMON,
  "server: { host: 127.0.0.1, port: 0, idle_timeout: 30s }",
  "backends: [{ url: http://127.0.0.1:9, weight: 1 }]",
  "rate_limit: { burst: 10 }",
].join("\n") + "\n";

const EXPANDED = [
  ...COMMON,
  "listeners:",
  "  - name: default",
  "    address: 127.0.0.1:0",
  "    idle_timeout: 30s",
  "    rate_limit: { burst: 10 }",
  "    routes: [{ pool: default }]",
  "pools:",
  "  default: { backends: [{ url: http://127.0.0.1:9, weight: 1 }] }",
].join("\n") + "\n";

Deno.test(
  "`aegis check` prints the same expanded form for a flat file and for the file it stands for",
  CLI,
  async () => {
    await using flat = await tempConfig(FLAT);
    await using expanded = await tempConfig(EXPANDED);
    const a = await runCli(["check", "-c", flat.path]);
    const b = await runCli(["check", "-c", expanded.path]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, b.stdout);
    const printed = parse(a.stdout);
    assert.equal(printed.listeners[0].name, "default");
    assert.equal(printed.listeners[0].idle_timeout, "30s");
    assert.equal(printed.listeners[0].rate_limit.burst, 10);
    assert.deepEqual(Object.keys(printed.pools), ["default"]);
  },
);

Deno.test(
  "`aegis check` prints a warning, positioned, and still exits 0",
  CLI,
  async () => {
    await using file = await tempConfig(
      EXPANDED + "  spare: { backends: [{ url: http://127.0.0.1:9, weight: 1 }] }\n",
    );
    const r = await runCli(["check", "-c", file.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      `${file.path}:11:3 pools.spare: warning: no route uses this pool\n` +
        `aegis: ${file.path} is valid\n`,
    );
    assert.deepEqual(Object.keys(parse(r.stdout).pools), ["default", "spare"]);
  },
);

Deno.test(
  "`aegis check` refuses a file that mixes the forms, at the key that has to go",
  CLI,
  async () => {
    await using file = await tempConfig(
      EXPANDED + "backends: [{ url: http://127.0.0.1:9, weight: 1 }]\n",
    );
    const r = await runCli(["check", "-c", file.path]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `${file.path}:11:11 backends: pools replace the top-level backends: move these into a pool (the flat form's is named default)\n` +
        `aegis: ${file.path} has 1 problem; nothing was started\n`,
    );
  },
);
