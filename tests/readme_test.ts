/** README.md documents what users configure and run: every field, every task. */

import assert from "node:assert/strict";
import { configSchema, walkFields } from "../src/config/mod.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("README.md documents every configuration field", () => {
  const missing = [...walkFields(configSchema).entries()]
    // A mapping is documented by its fields, except one that overrides a
    // top-level section (`listeners[].rate_limit`): that one is documented itself.
    .filter(([path, field]) =>
      (field.type !== "mapping" || field.inherits !== undefined) && !path.endsWith("[]")
    )
    .map(([path]) => path)
    .filter((path) => !readme.includes(`\`${path}\``));
  assert.deepEqual(missing, [], "fields missing from the configuration reference");
});

Deno.test("README.md documents every deno task", async () => {
  const meta = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const missing = Object.keys(meta.tasks).filter((t) => !readme.includes(`deno task ${t}`));
  assert.deepEqual(missing, []);
});

Deno.test("README.md starts with a Quick start of exactly two npx commands", () => {
  const quick = /## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";
  const first = /```sh\n([\s\S]*?)```/.exec(quick)?.[1] ?? "";
  const commands = first.split("\n").filter((l) => l.trim() !== "");
  assert.equal(commands.length, 2);
  assert.match(commands[0]!, /^npx -y deno@2\.9\.6 task demo\b/);
  assert.match(commands[1]!, /^npx -y deno@2\.9\.6 task test\b/);
});
