/**
 * `deploy/aegis.service`, checked by systemd's own tools: `systemd-analyze
 * verify` (every directive known and well-formed, every command
 * executable) and `systemd-analyze security --offline` (the sandbox), plus
 * what the unit must say to run Aegis as it is: its command line, reload
 * by SIGHUP, and a stop timeout above Aegis's drain.
 *
 * `verify` requires ExecStart's binary to exist, and no Aegis binary is
 * built here (`deno compile` downloads a runtime), so the unit is copied
 * into a temporary directory with ExecStart pointing at a stub.
 */

import assert from "node:assert/strict";
import { parseDuration } from "../../src/config/mod.ts";
import { runCli } from "../_helpers/cli.ts";
import { testConfig } from "../_helpers/config.ts";
import { deployPath } from "./_deploy.ts";

const UNIT = await Deno.readTextFile(deployPath("aegis.service"));
const ANALYZE = "/usr/bin/systemd-analyze";
const BINARY = "/usr/local/bin/aegis";

/** The unit's `[Service]`-style settings by section, each key with every value it is given. */
function settings(unit: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of unit.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) out.set(header[1]!, section = new Map());
    else {
      const eq = line.indexOf("=");
      const key = line.slice(0, eq);
      section!.set(key, [...section!.get(key) ?? [], line.slice(eq + 1)]);
    }
  }
  return out;
}

const service = settings(UNIT).get("Service")!;
const one = (key: string) => {
  const values = service.get(key);
  assert.equal(values?.length, 1, `${key} is set once`);
  return values[0]!;
};

/** Runs `systemd-analyze` with `args` in a directory holding the unit, ExecStart on a stub. */
async function analyze(args: string[]): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "aegis-unit-" });
  try {
    const stub = `${dir}/aegis`;
    await Deno.writeTextFile(stub, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/aegis.service`, UNIT.replaceAll(BINARY, stub));
    const out = await new Deno.Command(ANALYZE, {
      args: [...args, `${dir}/aegis.service`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const RUN = { permissions: { run: [ANALYZE], read: true, write: true } };

Deno.test("systemd-analyze verify accepts the unit without a warning", RUN, async () => {
  const { code, output } = await analyze(["verify"]);
  assert.equal(code, 0, output);
  // Unknown or misspelled directives are only warnings: any output is a problem.
  assert.equal(output, "");
});

Deno.test(
  "systemd-analyze verify would catch a bad directive, so the check above means something",
  RUN,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "aegis-unit-" });
    try {
      await Deno.writeTextFile(
        `${dir}/bad.service`,
        "[Service]\nExecStart=/bin/true\nProtectSytem=strict\n",
      );
      const out = await new Deno.Command(ANALYZE, { args: ["verify", `${dir}/bad.service`] })
        .output();
      assert.match(new TextDecoder().decode(out.stderr), /Unknown key 'ProtectSytem'/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("the sandbox rates OK or better in systemd-analyze security", RUN, async () => {
  // Exposure 0–10, given ×10 to --threshold; 2.0 and under is "OK" (a service
  // that must bind a network port and run a JIT cannot reach "SAFE").
  const { code, output } = await analyze(["security", "--offline=true", "--threshold=20"]);
  assert.equal(code, 0, output);
  const level = /Overall exposure level for aegis\.service: (\d+\.\d)/.exec(output);
  assert.ok(level && Number(level[1]) <= 2, output);
});

Deno.test("the unit runs the binary headless on /etc/aegis/aegis.yml and reloads it with SIGHUP", async () => {
  assert.equal(one("ExecStart"), `${BINARY} --headless --config /etc/aegis/aegis.yml`);
  assert.equal(one("ExecReload"), "/bin/kill -HUP $MAINPID");
  assert.equal(one("Restart"), "on-failure");
  const help = await runCli(["--help"]);
  assert.match(help.stdout, /--headless/);
  assert.match(help.stdout, /-c, --config <file>/);
});

Deno.test("the unit runs as a dynamic user, with CAP_NET_BIND_SERVICE and nothing more", () => {
  const expected: Record<string, string> = {
    DynamicUser: "yes",
    NoNewPrivileges: "yes",
    ProtectSystem: "strict",
    ProtectHome: "yes",
    PrivateTmp: "yes",
    AmbientCapabilities: "CAP_NET_BIND_SERVICE",
    CapabilityBoundingSet: "CAP_NET_BIND_SERVICE",
  };
  for (const [key, value] of Object.entries(expected)) assert.equal(one(key), value, key);
  // V8 writes the machine code it compiles: this would stop Aegis at start.
  assert.equal(service.get("MemoryDenyWriteExecute"), undefined);
  assert.ok(Number(one("LimitNOFILE")) >= 65536, "a proxy holds two descriptors per request");
});

Deno.test("systemd waits for the drain: TimeoutStopSec is above server.shutdown_timeout", async () => {
  const stop = parseDuration(one("TimeoutStopSec"));
  assert.ok(stop !== undefined, one("TimeoutStopSec"));
  const defaults = await testConfig(["http://127.0.0.1:9"]);
  // The drain, then up to 1 s for the admin and metrics listeners' requests.
  assert.ok(stop > defaults.server.shutdown_timeout + 1000);
  assert.equal(one("KillSignal"), "SIGTERM");
});
