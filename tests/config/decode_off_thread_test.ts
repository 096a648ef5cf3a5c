/**
 * Decoding in a worker: same result as on the calling thread, the calling
 * event loop free meanwhile, a time limit, and a stop on shutdown.
 */

import assert from "node:assert/strict";
import { decodeConfig } from "../../src/config/decode.ts";
import { DecodeError, decodeOffThread } from "../../src/config/decode_off_thread.ts";
import { ConfigFileError, loadConfigFile } from "../../src/config/mod.ts";
import { backendAliasesYaml } from "../_helpers/big_config.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** The worker loads its module from disk (read) and npm:yaml reads two variables. */
const WORKER = { permissions: { read: true, env: ["LOG_TOKENS", "LOG_STREAM"] } };
const ALIASES = backendAliasesYaml(20_000);

Deno.test(
  "decodeOffThread() gives what decodeConfig() gives on the calling thread",
  WORKER,
  async (t) => {
    for (
      const text of [
        "backends: [{url: http://93.184.216.34, weight: &w 2}]\nretries: {attempts: *w}\n",
        "server: {port: 70000}\n",
        "backends: [\n",
      ]
    ) {
      await t.step(JSON.stringify(text), async () => {
        assert.deepEqual(await decodeOffThread(text), decodeConfig(text));
      });
    }
  },
);

Deno.test(
  "decodeOffThread() leaves the calling event loop free while it decodes",
  WORKER,
  async () => {
    let settled = false;
    const decoding = decodeOffThread(ALIASES).finally(() => (settled = true));
    // A timer set after the decode started fires before it ends: the 20,000
    // aliases are being parsed somewhere else.
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(settled, false, "the decode finished before a 10 ms timer could fire");
    const decoded = await decoding;
    assert.equal(decoded.config?.pools.default?.backends.length, 20_000);
  },
);

Deno.test("decodeOffThread() gives up at its time limit and stops the worker", WORKER, async () => {
  await assert.rejects(decodeOffThread(ALIASES, { timeoutMs: 1 }), (e: unknown) => {
    assert.ok(e instanceof DecodeError);
    assert.equal(e.message, "took longer than the 1ms limit");
    return true;
  });
});

Deno.test("decodeOffThread() stops the worker when its signal aborts", WORKER, async (t) => {
  await t.step("during the decode", async () => {
    const stop = new AbortController();
    const decoding = decodeOffThread(ALIASES, { signal: stop.signal });
    stop.abort();
    await assert.rejects(decoding, /stopped: Aegis is shutting down/);
  });
  await t.step("before it starts", async () => {
    await assert.rejects(
      decodeOffThread(ALIASES, { signal: AbortSignal.abort() }),
      /stopped before it started/,
    );
  });
});

Deno.test(
  "loadConfigFile() loads 20,000 aliases through its worker, and reports an expired limit in one line",
  { permissions: { ...WORKER.permissions, write: true } },
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "aegis-worker-" });
    const path = `${dir}/aegis.yml`;
    await Deno.writeTextFile(path, ALIASES);
    const resolver = fakeResolver({});
    try {
      await t.step("within the default limit", async () => {
        const r = await loadConfigFile(path, { resolver });
        assert.ok(r.ok);
        assert.equal(r.config.pools.default!.backends.length, 20_000);
      });
      await t.step("past a 1 ms limit", async () => {
        await assert.rejects(loadConfigFile(path, { resolver, timeoutMs: 1 }), (e: unknown) => {
          assert.ok(e instanceof ConfigFileError);
          assert.equal(
            e.message,
            `cannot check config file ${path}: took longer than the 1ms limit`,
          );
          return true;
        });
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
