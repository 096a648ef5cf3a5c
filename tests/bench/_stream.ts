/**
 * Scenario 11: one large body streamed through each target, down, then up
 * with a declared length, then up chunked, while its resident memory is
 * watched. A proxy that streams holds a few buffers whatever the body's
 * size; one that buffers grows by the body.
 *
 * The client is curl, in its own process, writing downloads to /dev/null
 * and reading uploads from `head -c N /dev/zero` through a pipe: it moves
 * bytes as fast as the target takes them and costs this process nothing.
 * Deno's own `fetch` is no fit: it uploads a stream at a few MB/s
 * (`tests/integration/streaming_test.ts` says the same).
 *
 * @module
 */

import type { Target } from "./_aegis.ts";
import { startBackends } from "./_backends.ts";
import { run } from "./_procs.ts";
import { currentRssKiB, startRssProbe } from "./_rss.ts";
import type { Options, Scenario } from "./_scenarios.ts";
import {
  type Direction,
  DIRECTIONS,
  raised,
  type StreamRuns,
  type StreamSample,
  type Transfer,
} from "./_stream_table.ts";
import type { Starter } from "./_targets.ts";

const MIB = 2 ** 20;
const progress = (text: string) => console.error(text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when `curl` can be run. */
export async function curlInstalled(): Promise<boolean> {
  return (await run("curl", ["--version"])) !== undefined;
}

/**
 * curl's arguments for moving `bytes` in `direction` through
 * 127.0.0.1:port; an upload reads its body from standard input. `Expect:`
 * is emptied so that curl does not wait a second for `100 Continue`, and
 * for a declared length `Transfer-Encoding:` is emptied too (curl would
 * otherwise send both, which a proxy rightly refuses).
 */
export function curlArgs(port: number, direction: Direction, bytes: number): string[] {
  const common = ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"];
  if (direction === "down") {
    return [...common, `http://127.0.0.1:${port}/stream?bytes=${bytes}`];
  }
  const framing = direction === "up"
    ? ["-H", "Transfer-Encoding:", "-H", `Content-Length: ${bytes}`]
    : ["-H", "Transfer-Encoding: chunked"];
  return [
    ...common,
    "-X",
    "POST",
    "-H",
    "Expect:",
    "-H",
    "Content-Type: application/octet-stream",
    ...framing,
    "-T",
    "-",
    `http://127.0.0.1:${port}/upload`,
  ];
}

/**
 * Moves `bytes` in `direction` through 127.0.0.1:port with curl; throws
 * unless the target answered 200 (and, downloading, sent every byte).
 */
export async function streamThrough(
  port: number,
  direction: Direction,
  bytes: number,
): Promise<void> {
  const curl = ["curl", ...curlArgs(port, direction, bytes)].map((a) => `'${a}'`).join(" ");
  const out = await run("sh", [
    "-c",
    direction === "down" ? curl : `head -c ${bytes} /dev/zero | ${curl}`,
  ]);
  const [status, size] = (out?.stdout ?? "").trim().split(" ").map(Number);
  if (out?.code !== 0 || status !== 200) {
    throw new Error(`curl ${direction}: status ${status ?? "none"} ${out?.stderr.trim() ?? ""}`);
  }
  if (direction === "down" && size !== bytes) {
    throw new Error(`curl down: ${size} of ${bytes} bytes`);
  }
}

/** One transfer, timed, with the rise of the target's RSS. */
async function transfer(target: Target, direction: Direction, bytes: number): Promise<Transfer> {
  // Let the previous transfer's buffers go first.
  await sleep(300);
  const before = await currentRssKiB(target.pid);
  const probe = await startRssProbe(target.pid);
  const start = performance.now();
  let error: string | undefined;
  try {
    await streamThrough(target.port, direction, bytes);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const seconds = (performance.now() - start) / 1000;
  return { seconds, rssRaisedKiB: (await probe.stop()) - before, error };
}

/** Targets scenario 11 runs: direct (the backend's own figure) and Aegis's. */
export const streams = (name: string) => name === "direct" || name.startsWith("aegis ");

/**
 * Runs scenario 11 against the targets of `starters` that {@linkcode streams}
 * accepts: fresh processes, one smaller transfer in each direction as
 * warm-up (unless `--warmup 0`), then rounds with the targets interleaved.
 */
export async function runStreamScenario(
  scenario: Scenario,
  { opts, starters, notes }: {
    readonly opts: Options;
    readonly starters: Map<string, Starter>;
    readonly notes: Set<string>;
  },
): Promise<StreamRuns> {
  progress(`\nscenario ${scenario.id}: ${scenario.title}`);
  const bytes = opts.streamMiB * MIB;
  const skipped = [...starters.keys()].filter((n) => !streams(n));
  if (skipped.length) {
    notes.add(
      `Scenario 11 runs direct and the Aegis targets only, not ${skipped.join(", ")}: the ` +
        "target is Aegis's, and the deno floor reads whole bodies by design.",
    );
  }
  const backends = await startBackends(3, opts.backendProcesses);
  const targets: Target[] = [];
  const samples = new Map<string, StreamSample[]>();
  try {
    for (const [name, start] of starters) {
      if (!streams(name)) continue;
      targets.push(await start(backends, scenario));
      samples.set(name, []);
    }
    if (opts.warmup > 0) {
      const warm = Math.min(bytes, 32 * MIB);
      progress(`  warm-up: ${warm / MIB} MiB each way per target`);
      for (const t of targets) for (const d of DIRECTIONS) await transfer(t, d, warm);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const t of targets) {
        const sample: Partial<Record<Direction, Transfer>> = {};
        for (const d of DIRECTIONS) sample[d] = await transfer(t, d, bytes);
        samples.get(t.name)!.push(sample as StreamSample);
        const show = (d: Direction) => {
          const x = sample[d]!;
          return `${d} ${(opts.streamMiB / x.seconds).toFixed(0)} MiB/s, RSS ${
            raised(x.rssRaisedKiB)
          }${x.error ? ` (${x.error})` : ""}`;
        };
        progress(
          `  round ${round}/${opts.rounds}  ${t.name.padEnd(12)} ${
            DIRECTIONS.map(show).join("; ")
          }`,
        );
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
    await backends.stop();
  }
  return { scenario, mib: opts.streamMiB, samples };
}
