/**
 * The dashboard end to end: the real `aegis` in a real pseudo-terminal
 * (tmux), real traffic, a captured screen, then `q`.
 */

import assert from "node:assert/strict";
import { startBackend } from "../_helpers/backend.ts";
import { cliRunArgs, ROOT } from "../_helpers/cli.ts";
import { writeConfigFile } from "../_helpers/config.ts";

const hasTmux = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);

const dec = new TextDecoder();

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args: ["-L", socket, ...args], stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

function quote(arg: string): string {
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

async function poll<T>(what: string, get: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const [key, label] of [["q", "q"], ["C-c", "Ctrl+C"]] as const) {
  Deno.test({
    name: `in a terminal, aegis shows the dashboard with live traffic, and ${label} restores ` +
      "the terminal and exits 0" + (hasTmux ? "" : " (ignored: tmux is not installed)"),
    ignore: !hasTmux,
    async fn() {
      await using a = startBackend(() => new Response("a"));
      await using b = startBackend(() => new Response("b"));
      const config = await writeConfigFile({
        server: { host: "127.0.0.1", port: 0 },
        backends: [{ url: a.url, weight: 1 }, { url: b.url, weight: 1 }],
        development: { allow_loopback_backends: true },
        admin: { address: "127.0.0.1:0" },
        tui: { enabled: true, refresh_interval: "200ms" },
        adaptive: { evaluation_interval: "1s" },
      });
      const socket = `aegis-test-${crypto.randomUUID().slice(0, 8)}`;
      const command = [Deno.execPath(), ...await cliRunArgs(), "--config", config].map(quote).join(
        " ",
      );
      await tmux(
        socket,
        "new-session",
        "-d",
        "-s",
        "aegis",
        "-x",
        "120",
        "-y",
        "40",
        "-c",
        ROOT,
        `${command}; echo EXIT:$?; sleep 60`,
      );
      const screen = () => tmux(socket, "capture-pane", "-p", "-t", "aegis");
      let running = true;
      const traffic: Promise<void>[] = [];
      try {
        const first = await poll("the dashboard header", async () => {
          const s = await screen();
          return /Aegis \d+\.\d+\.\d+/.test(s) && /http:\/\/127\.0\.0\.1:\d+/.test(s)
            ? s
            : undefined;
        });
        assert.ok(
          (await tmux(socket, "display", "-p", "-t", "aegis", "#{alternate_on}")).trim() === "1",
          "alternate screen",
        );
        const port = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(first)![1]);
        const load = async () => {
          while (running) await (await fetch(`http://127.0.0.1:${port}/`)).text();
        };
        traffic.push(load(), load());
        const busy = await poll("a non-zero request rate on screen", async () => {
          const s = await screen();
          const rate = /req\/s ([\d.]+)/.exec(s);
          return rate && Number(rate[1]) > 0 && s.includes(a.url) && s.includes(b.url)
            ? s
            : undefined;
        });
        assert.match(busy, /healthy/);
        running = false;
        await Promise.all(traffic);
        await tmux(socket, "send-keys", "-t", "aegis", key);
        const after = await poll("aegis exits", async () => {
          const s = await screen();
          return s.includes("EXIT:") ? s : undefined;
        });
        assert.match(after, /EXIT:0/, `exit status on screen:\n${after}`);
        assert.equal(
          (await tmux(socket, "display", "-p", "-t", "aegis", "#{alternate_on}")).trim(),
          "0",
          "main screen back",
        );
        assert.equal(
          (await tmux(socket, "display", "-p", "-t", "aegis", "#{cursor_flag}")).trim(),
          "1",
          "cursor visible",
        );
        assert.doesNotMatch(after, /Backends/, "the dashboard is gone from the screen");
      } finally {
        running = false;
        await Promise.all(traffic).catch(() => {});
        await tmux(socket, "kill-server").catch(() => "");
        await Deno.remove(config.replace(/\/aegis\.yml$/, ""), { recursive: true });
      }
    },
  });
}
