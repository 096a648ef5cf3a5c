/**
 * The real `aegis` command line as a subprocess, run with exactly the entry
 * point and permission flags of the `compile` task in `deno.json`, so the
 * tests exercise what the single binary will be.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

let cached: Promise<void> | undefined;

/**
 * Fills the Deno cache with everything the entry point imports, once per
 * test process. The compiled binary carries its dependencies; `deno run`
 * fetches them on first use and says so on stderr ("Download …"), which on
 * a fresh machine would land in the output the CLI tests compare.
 */
function cacheEntryPoint(entry: string): Promise<void> {
  cached ??= (async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["cache", "--quiet", entry],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno cache ${entry} failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
  })();
  return cached;
}

/**
 * `deno run` arguments equivalent to the compiled binary: its flags and
 * entry point, run from a cache filled beforehand and with `--cached-only`,
 * since a binary never fetches anything either (and a `deno run` that does
 * prints "Download …" lines into the output under test).
 */
export async function cliRunArgs(): Promise<string[]> {
  const meta = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const words = String(meta.tasks.compile).split(/\s+/);
  const flags: string[] = [];
  for (let i = 2; i < words.length - 1; i++) {
    const w = words[i]!;
    // Where the binary goes and what it embeds (the config worker's module)
    // mean nothing to `deno run`, which loads modules from disk.
    if (w === "--output" || w === "-o" || w === "--include") {
      i++;
      continue;
    }
    if (w.startsWith("--output=") || w.startsWith("--include=")) continue;
    flags.push(w);
  }
  const entry = words[words.length - 1]!;
  await cacheEntryPoint(entry);
  return ["run", "--cached-only", ...flags, entry];
}

/** Result of a finished CLI run. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `aegis ...args` to completion. */
export async function runCli(args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...await cliRunArgs(), ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A running `aegis` process. */
export interface AegisProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** The public port, read from the "Aegis listening" log line. */
  readonly port: number;
  /** `http://host:port` of the admin API, read from the same line. */
  readonly adminUrl: string;
  /** Parsed JSON log lines from stdout so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Raw stderr so far. */
  stderr(): string;
  /** Resolves with the first log line matching `test`, or rejects after `timeoutMs`. */
  waitForLog(
    test: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends a signal. */
  kill(signal?: Deno.Signal): void;
  /** Resolves with the exit status (output fully read). */
  readonly status: Promise<Deno.CommandStatus>;
}

async function collectLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    rest += text;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) onLine(rest);
}

/** Options for {@linkcode spawnAegis}. */
export interface SpawnOptions {
  /** Run under `ulimit -n` of this many descriptors (through `sh`), to make them run out. */
  readonly descriptorLimit?: number;
}

/**
 * Starts `aegis --config <path> [...args]` and waits until it listens.
 * Disposing it sends SIGTERM and waits for the exit.
 */
export function spawnAegis(
  configPath: string,
  args: string[] = [],
  options: SpawnOptions = {},
): Promise<AegisProcess> {
  return spawnCli(["--config", configPath, ...args], options);
}

/**
 * Starts `aegis ...args` (any command that runs the proxy, such as
 * `aegis proxy`) and waits until it listens. Disposing it sends SIGTERM and
 * waits for the exit.
 */
export async function spawnCli(args: string[], options: SpawnOptions = {}): Promise<AegisProcess> {
  const argv = [...await cliRunArgs(), ...args];
  const limit = options.descriptorLimit;
  // `exec` keeps one process, so signals reach aegis itself.
  const [command, commandArgs] = limit === undefined
    ? [Deno.execPath(), argv]
    : ["sh", ["-c", `ulimit -n ${limit} && exec "$0" "$@"`, Deno.execPath(), ...argv]];
  const child = new Deno.Command(command, {
    args: commandArgs,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const logs: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  const stdoutDone = collectLines(child.stdout, (line) => {
    try {
      logs.push(JSON.parse(line));
    } catch {
      logs.push({ msg: "(not json)", line });
    }
    for (const w of waiters) w();
  });
  const stderrDone = collectLines(child.stderr, (line) => (stderr += line + "\n"));
  const status = (async () => {
    const s = await child.status;
    await Promise.all([stdoutDone, stderrDone]);
    for (const w of waiters) w();
    return s;
  })();
  let exited = false;
  status.then(() => (exited = true));

  const waitForLog = (test: (l: Record<string, unknown>) => boolean, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = logs.find(test);
        if (found) {
          done();
          resolve(found);
        } else if (exited) {
          done();
          reject(new Error(`aegis exited before the expected log line; stderr:\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for a log line; stderr:\n${stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let listening: Record<string, unknown>;
  try {
    listening = await waitForLog((l) => l.msg === "Aegis listening");
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await status;
    throw e;
  }
  const port = Number(/:(\d+)$/.exec(String(listening.address))![1]);
  const kill = (signal: Deno.Signal = "SIGTERM") => {
    if (exited) return;
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
  };
  return {
    child,
    port,
    adminUrl: String(listening.admin),
    logs,
    stderr: () => stderr,
    waitForLog,
    kill,
    status,
    [Symbol.asyncDispose]: async () => {
      kill("SIGTERM");
      await status;
    },
  };
}
