/**
 * What `loadConfigFile` agrees to read: a regular file of at most 1 MiB,
 * refused at once otherwise, with one line saying why.
 */

import assert from "node:assert/strict";
import { ConfigFileError, loadConfigFile, MAX_CONFIG_BYTES } from "../../src/config/mod.ts";
import { fakeResolver } from "../_helpers/config.ts";

const resolver = fakeResolver({});
const VALID = "backends: [{url: http://93.184.216.34, weight: 1}]\n";

/** A fresh temporary directory, removed on dispose. */
async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "aegis-read-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** Expects `loadConfigFile(path)` to throw a ConfigFileError with exactly `message`. */
async function refused(path: string, message: string): Promise<void> {
  await assert.rejects(loadConfigFile(path, { resolver }), (e: unknown) => {
    assert.ok(e instanceof ConfigFileError, `expected ConfigFileError, got ${e}`);
    assert.equal(e.message, message);
    return true;
  });
}

const FILES = { permissions: { read: true, write: true, env: ["LOG_TOKENS", "LOG_STREAM"] } };

Deno.test("loadConfigFile() reads a file of exactly the 1 MiB limit", FILES, async () => {
  await using tmp = await tempDir();
  const path = `${tmp.dir}/aegis.yml`;
  const filler = "#".repeat(MAX_CONFIG_BYTES - VALID.length - 1) + "\n";
  await Deno.writeTextFile(path, VALID + filler);
  assert.equal((await Deno.stat(path)).size, MAX_CONFIG_BYTES);
  const r = await loadConfigFile(path, { resolver });
  assert.ok(r.ok);
});

Deno.test("loadConfigFile() refuses a file one byte over the limit, unparsed", FILES, async () => {
  await using tmp = await tempDir();
  const path = `${tmp.dir}/aegis.yml`;
  // Not YAML at all: the size is checked before anything parses it.
  await Deno.writeTextFile(path, "[".repeat(MAX_CONFIG_BYTES + 1));
  await refused(
    path,
    `cannot read config file ${path}: 1048577 bytes, more than the limit of 1048576 bytes (1 MiB)`,
  );
});

Deno.test(
  "loadConfigFile() refuses a 10 GiB file by its size, without reading it",
  FILES,
  async () => {
    await using tmp = await tempDir();
    const path = `${tmp.dir}/aegis.yml`;
    // Sparse: 10 GiB long, no disk blocks; reading it whole would take minutes and all memory.
    await Deno.writeTextFile(path, VALID);
    await Deno.truncate(path, 10 * 1024 ** 3);
    await refused(
      path,
      `cannot read config file ${path}: 10737418240 bytes, more than the limit of 1048576 bytes (1 MiB)`,
    );
  },
);

Deno.test(
  "loadConfigFile() refuses a named pipe at once instead of waiting for a writer",
  { permissions: { ...FILES.permissions, run: ["mkfifo"] } },
  async () => {
    await using tmp = await tempDir();
    const path = `${tmp.dir}/aegis.yml`;
    const made = await new Deno.Command("mkfifo", { args: [path] }).output();
    assert.ok(made.success, "mkfifo failed");
    await refused(
      path,
      `cannot read config file ${path}: is a named pipe (FIFO), not a regular file`,
    );
  },
);

Deno.test("loadConfigFile() refuses a socket", {
  permissions: { ...FILES.permissions, net: true },
}, async () => {
  await using tmp = await tempDir();
  const path = `${tmp.dir}/aegis.sock`;
  using _listener = Deno.listen({ transport: "unix", path });
  await refused(path, `cannot read config file ${path}: is a socket, not a regular file`);
});

Deno.test("loadConfigFile() refuses a device such as /dev/zero", FILES, async () => {
  await refused("/dev/zero", "cannot read config file /dev/zero: is a device, not a regular file");
});

Deno.test("loadConfigFile() follows a symbolic link to a regular file", FILES, async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.dir}/real.yml`, VALID);
  await Deno.symlink(`${tmp.dir}/real.yml`, `${tmp.dir}/aegis.yml`);
  const r = await loadConfigFile(`${tmp.dir}/aegis.yml`, { resolver });
  assert.ok(r.ok);
});
