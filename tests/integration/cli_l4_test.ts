/**
 * tcp and udp listeners through the real entry point, with the run task's
 * permission flags: the relays need nothing beyond `--allow-net` (and
 * `--unstable-net`, without which a udp listener says it needs it), and a
 * udp address in use stops Aegis with a clear error.
 */

import assert from "node:assert/strict";
import { cliRunArgs, ROOT, runCli, spawnAegis } from "../_helpers/cli.ts";
import { writeConfigFile } from "../_helpers/config.ts";
import { closeQuietly, readExactly, writeFully } from "../_helpers/l4.ts";
import { startTaggingBackend, udpClient } from "../_helpers/udp.ts";

const text = new TextEncoder();
const read = new TextDecoder();

function config(tcpBackend: string, udpBackend: string, udpPort = 0): string {
  return [
    "development: { allow_loopback_backends: true }",
    "admin: { address: 127.0.0.1:0 }",
    "logging: { level: info }",
    "tui: { enabled: false }",
    "health_check: { interval: 1h }",
    "listeners:",
    "  - { name: db, protocol: tcp, address: 127.0.0.1:0, pool: tcp }",
    `  - { name: dns, protocol: udp, address: 127.0.0.1:${udpPort}, pool: udp }`,
    "pools:",
    `  tcp: { backends: [{ address: "${tcpBackend}", weight: 1 }] }`,
    `  udp: { backends: [{ address: "${udpBackend}", weight: 1 }] }`,
  ].join("\n") + "\n";
}

Deno.test("`aegis` relays tcp and udp with the run task's permissions", async () => {
  await using udp = await startTaggingBackend("u");
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    for await (const conn of tcp) {
      const got = await readExactly(conn, 4);
      await writeFully(conn, text.encode(`t|${read.decode(got)}`));
      closeQuietly(conn);
    }
  })();
  const path = await writeConfigFile(config(`127.0.0.1:${tcp.addr.port}`, udp.address));
  try {
    await using aegis = await spawnAegis(path);
    const listening = await aegis.waitForLog((l) => l.msg === "Aegis listening");
    const urls = listening.listeners as Record<string, string>;
    const port = (url: string) => Number(new URL(url.replace(/^\w+:/, "http:")).port);

    const conn = await Deno.connect({ hostname: "127.0.0.1", port: port(urls.db!) });
    await writeFully(conn, text.encode("ping"));
    assert.equal(read.decode(await readExactly(conn, 6)), "t|ping");
    closeQuietly(conn);

    await using client = await udpClient();
    client.send("ping", port(urls.dns!));
    assert.deepEqual(await client.texts(1), ["u|ping"]);
  } finally {
    tcp.close();
    await served;
    await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  }
});

Deno.test("`aegis` exits 1 naming the udp address that is in use", async () => {
  await using taken = await udpClient();
  const path = await writeConfigFile(config("127.0.0.1:9", "127.0.0.1:9", taken.port));
  try {
    const r = await runCli(["--config", path, "--headless"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`aegis: cannot listen on 127\\.0\\.0\\.1:${taken.port}: address already in use`),
    );
  } finally {
    await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  }
});

Deno.test("`aegis` without --unstable-net exits 1 saying the udp listener needs it", async () => {
  const path = await writeConfigFile(config("127.0.0.1:9", "127.0.0.1:9"));
  try {
    const args = (await cliRunArgs()).filter((a) => a !== "--unstable-net");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...args, "--config", path, "--headless"],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, /aegis: cannot listen on 127\.0\.0\.1:0: .*run with --unstable-net/);
  } finally {
    await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  }
});
