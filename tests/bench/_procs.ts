/**
 * Every process and temporary directory the load benchmark creates, kept in
 * one registry so that one call stops and removes them all: at the end of a
 * run, after an error, and on Ctrl+C or SIGTERM.
 *
 * @module
 */

/** A running subprocess with the tail of its output. */
export interface Child {
  /** Short name for messages (`aegis fetch`, `nginx`, …). */
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** True once the process has exited. */
  exited(): boolean;
  /** The last {@linkcode SpawnOptions.tailBytes} of stdout (unless sent to /dev/null) and stderr, interleaved. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL = 16 * 1024;
const children = new Set<Child>();
const tempDirs = new Set<string>();

/** Options of {@linkcode spawn}. */
export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /**
   * How much of the output to keep (default 16 KiB): enough for wrk's report
   * and a failed process's last words; a whole JSON report may need more.
   */
  readonly tailBytes?: number;
  /**
   * `null` sends standard output to /dev/null instead of the tail: a
   * target's access logs then cost it what writing to a file would (format
   * and `write`), and no reader in this process.
   */
  readonly stdout?: "piped" | "null";
}

/**
 * Starts `command args…` with stdin closed and its output collected, and
 * registers it for {@linkcode cleanup}.
 *
 * @example
 * ```ts
 * const nginx = spawn("nginx", "nginx", ["-c", conf]);
 * await nginx.stop();
 * ```
 */
export function spawn(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Child {
  const proc = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: options.stdout ?? "piped",
    stderr: "piped",
  }).spawn();
  const tail = options.tailBytes ?? TAIL;
  let text = "";
  let done = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text = (text + chunk).slice(-tail);
      wake();
    }
  };
  const pumped = Promise.all(
    options.stdout === "null" ? [pump(proc.stderr)] : [pump(proc.stdout), pump(proc.stderr)],
  );
  const status = (async () => {
    const s = await proc.status;
    // A grandchild that outlives its parent (a stray nginx worker) can hold
    // the pipes open: read what is there, but do not wait for it forever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((r) => (timer = setTimeout(r, 1_000)));
    await Promise.race([pumped.catch(() => {}), late]);
    clearTimeout(timer);
    done = true;
    wake();
    return s;
  })();

  const child: Child = {
    name,
    pid: proc.pid,
    status,
    exited: () => done,
    output: () => text,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(text);
          if (m) finish(() => resolve(m));
          else if (done) finish(() => reject(new Error(`${name} exited early:\n${text}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${name} did not start in time:\n${text}`))),
          timeoutMs,
        );
        const finish = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          then();
        };
        waiters.add(check);
        check();
      }),
    async stop(graceMs = 5_000) {
      const signal = (s: Deno.Signal) => {
        try {
          if (!done) proc.kill(s);
        } catch {
          // Already gone.
        }
      };
      signal("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          signal("SIGKILL");
          resolve();
        }, graceMs);
      });
      await Promise.race([status, killed]);
      clearTimeout(timer);
      await status;
      children.delete(child);
    },
  };
  children.add(child);
  return child;
}

/** Creates a temporary directory that {@linkcode cleanup} removes. */
export async function makeTempDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "aegis-bench-" });
  tempDirs.add(dir);
  return dir;
}

/** Stops every registered process and removes every temporary directory. */
export async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop(3_000)));
  for (const dir of tempDirs) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    tempDirs.delete(dir);
  }
}

/**
 * On SIGINT or SIGTERM: clean up, then exit with 130 (143 for SIGTERM).
 * A second signal while cleaning up is ignored; cleanup is bounded anyway.
 */
export function cleanupOnSignals(): void {
  let cleaning = false;
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    Deno.addSignalListener(signal, () => {
      if (cleaning) return;
      cleaning = true;
      console.error(`\n${signal}: stopping every process and removing temporary files…`);
      cleanup().finally(() => Deno.exit(code));
    });
  }
}

/**
 * Runs `command args…` to completion and returns its exit code and output;
 * `undefined` when the command is not installed.
 */
export async function run(
  command: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string } | undefined> {
  try {
    const out = await new Deno.Command(command, { args, stdin: "null" }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** `pid` and its direct children (nginx's worker), for figures about a whole target. */
export async function processTree(pid: number): Promise<number[]> {
  const out = await run("ps", ["-o", "pid=", "--ppid", String(pid)]);
  const kids = (out?.stdout ?? "").split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...kids];
}
