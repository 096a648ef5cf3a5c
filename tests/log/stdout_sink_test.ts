/**
 * The standard-output sink batches the lines of one job into one write:
 * checked in a child process, through its real standard output, that no
 * line is lost, reordered or held back, whichever way the process goes on
 * or ends.
 */

import assert from "node:assert/strict";

const LOG = new URL("../../src/log/mod.ts", import.meta.url).href;

/** Runs `body` (with `createLogger` in scope) in a fresh process; its stdout lines' messages. */
async function run(body: string): Promise<{ messages: string[]; code: number }> {
  const script = `import { createLogger } from ${JSON.stringify(LOG)};\n${body}`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-prompt", "--ext=ts", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const messages = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).msg);
  return { messages, code: out.code };
}

const PERMISSIONS: Omit<Deno.TestDefinition, "name" | "fn"> = { permissions: { run: true } };

Deno.test("lines logged in one job all arrive, in order", PERMISSIONS, async () => {
  const { messages } = await run(
    `const log = createLogger({ level: "info" });
     for (let i = 0; i < 2000; i++) log.info("line " + i);`,
  );
  assert.deepEqual(messages, Array.from({ length: 2000 }, (_, i) => `line ${i}`));
});

Deno.test("lines logged across jobs and timers arrive in order", PERMISSIONS, async () => {
  const { messages } = await run(
    `const log = createLogger({ level: "info" });
     log.info("a");
     await new Promise((r) => setTimeout(r, 5));
     log.info("b");
     queueMicrotask(() => log.info("c"));
     await Promise.resolve();
     log.warn("d");
     log.info("e");`,
  );
  assert.deepEqual(messages, ["a", "b", "c", "d", "e"]);
});

Deno.test("Deno.exit() right after logging loses no line", PERMISSIONS, async () => {
  const { messages, code } = await run(
    `const log = createLogger({ level: "info" });
     log.info("last words");
     Deno.exit(7);`,
  );
  assert.deepEqual(messages, ["last words"]);
  assert.equal(code, 7);
});

Deno.test(
  "an error is written before an uncaught exception ends the process",
  PERMISSIONS,
  async () => {
    const { messages, code } = await run(
      `const log = createLogger({ level: "info" });
     log.info("before");
     log.error("failing");
     throw new Error("boom");`,
    );
    assert.deepEqual(messages, ["before", "failing"]);
    assert.equal(code, 1);
  },
);
