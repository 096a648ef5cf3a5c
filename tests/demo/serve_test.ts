/**
 * `src/demo/serve.ts`, the program the compose file's demo backends run:
 * as a real subprocess with the permission its image compiles it with,
 * on loopback here instead of every interface.
 */

import assert from "node:assert/strict";
import { ROOT } from "../_helpers/cli.ts";

const SERVE = { permissions: { run: true, read: true, net: ["127.0.0.1"] } };

/** `deno run src/demo/serve.ts ...args`, allowed to listen on loopback only. */
function serve(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-net=127.0.0.1", "src/demo/serve.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** Reads `stream` until `pattern` matches what was read; returns the match. */
async function waitFor(stream: ReadableStream<Uint8Array>, pattern: RegExp) {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    const m = pattern.exec(text);
    if (m) return m;
  }
  throw new Error(`the stream ended without ${pattern}: ${text}`);
}

Deno.test("serve.ts runs one named demo backend until SIGTERM, then exits 0", SERVE, async () => {
  const child = serve(["backend-9", "0", "127.0.0.1"]);
  const [stderr, rest] = child.stderr.tee();
  const m = await waitFor(stderr, /demo: backend-9 listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
  const res = await fetch(`${m[1]}/hello`);
  assert.deepEqual(await res.json(), { backend: "backend-9", method: "GET", path: "/hello" });
  const health = await fetch(`${m[1]}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  child.kill("SIGTERM");
  const status = await child.status;
  await Promise.all([child.stdout.cancel(), rest.cancel()]);
  assert.equal(status.code, 0);
});

Deno.test(
  "serve.ts refuses arguments it cannot use, with its usage and exit 2",
  SERVE,
  async (t) => {
    for (const args of [[], ["b"], ["b", "http"], ["b", "70000"], ["b", "1", "h", "extra"]]) {
      await t.step(args.join(" ") || "(none)", async () => {
        const out = await serve(args).output();
        assert.equal(out.code, 2);
        assert.equal(
          new TextDecoder().decode(out.stderr),
          "usage: serve.ts <name> <port> [host]\n",
        );
      });
    }
  },
);
