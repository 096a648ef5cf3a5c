/**
 * A real `redis-server` (Debian's package; `.ci/run` installs it) on a
 * loopback port, for the shared rate limit tests. `redis-server` cannot be
 * told to pick a port itself, so a free one is found by binding port 0,
 * closing it and starting there, again on the rare collision.
 *
 * @module
 */

/** A running `redis-server`. */
export interface TestRedis extends AsyncDisposable {
  readonly port: number;
  /** `redis://127.0.0.1:port`. */
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Runs one command through `redis-cli` and returns its output. */
  cli(...args: string[]): Promise<string>;
  /** Client connections open now, `redis-cli`'s own left out. */
  clients(): Promise<number>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function answers(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

/** Starts `redis-server` on `port`; resolves once it answers, or undefined if it exited. */
async function launch(port: number): Promise<Deno.ChildProcess | undefined> {
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then(() => (exited = true));
  for (let i = 0; i < 200 && !exited; i++) {
    if (await answers(port)) return child;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!exited) child.kill("SIGKILL");
  await status;
  return undefined;
}

/** Starts a `redis-server` on a free loopback port; stop it (or dispose it) in the test. */
export async function startRedis(): Promise<TestRedis> {
  let child: Deno.ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = freePort();
    child = await launch(port);
  }
  if (!child) throw new Error("redis-server did not start (is it installed?)");
  const stop = async () => {
    if (!child) return;
    const running = child;
    child = undefined;
    running.kill("SIGTERM");
    await running.status;
  };
  const cli = async (...args: string[]) => {
    const out = await new Deno.Command("redis-cli", {
      args: ["-p", String(port), ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      child = await launch(port);
      if (!child) throw new Error(`redis-server did not restart on port ${port}`);
    },
    cli,
    clients: async () =>
      (await cli("CLIENT", "LIST")).split("\n").filter((l) => !l.includes("cmd=client")).length,
    [Symbol.asyncDispose]: stop,
  };
}
