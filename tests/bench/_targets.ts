/**
 * The benchmark's targets — direct, the runtime's floor, Aegis per upstream
 * transport, HAProxy, nginx — and which of them this machine and this Aegis build can run.
 *
 * @module
 */

import { type AegisOptions, aegisRefuses, startAegis, type Target } from "./_aegis.ts";
import { startFloor } from "./_backends.ts";
import type { Backends } from "./_backends.ts";
import { type PeerName, peerVersion, startPeer } from "./_peers.ts";
import type { Options, Scenario } from "./_scenarios.ts";

/** Starts one named target in front of a scenario's backends. */
export type Starter = (backends: Backends, scenario: Scenario) => Promise<Target>;

/** One Aegis target: its name, how its configuration differs, and what the report says of it. */
export interface AegisTarget extends AegisOptions {
  readonly name: string;
  readonly note: string;
}

/**
 * The Aegis targets, in run order. Adding one is adding an entry here and
 * its name to `TARGET_NAMES`.
 */
export const AEGIS_TARGETS: readonly AegisTarget[] = [
  { name: "aegis fetch", transport: "fetch", note: "`upstream.transport: fetch`." },
  { name: "aegis h1", transport: "h1", note: "`upstream.transport: h1`." },
  {
    name: "aegis h1-w2",
    transport: "h1",
    server: { workers: 2 },
    note: "`upstream.transport: h1`, `server.workers: 2` (two worker isolates on SO_REUSEPORT " +
      "sockets, on the same 2 cores as the load generator and backends).",
  },
  {
    name: "aegis h1 log",
    transport: "h1",
    accessLogs: true,
    note: "`upstream.transport: h1` and `logging.level: info`: one JSON access line per " +
      "request on standard output, which goes to /dev/null (the cost of formatting and " +
      "writing each line, not of a reader at the other end of a pipe).",
  },
];

/**
 * `target`'s options in `scenario`. Scenario 11 streams a body far above
 * `server.max_body_bytes`' default (10 MiB), which Aegis would refuse with
 * 413: there its limit is raised to the body's size, and nowhere else.
 */
export function aegisOptionsFor(
  target: AegisTarget,
  scenario: Scenario,
  opts: Options,
): AegisOptions {
  if (!scenario.stream) return target;
  return { ...target, server: { ...target.server, max_body_bytes: opts.streamMiB * 2 ** 20 } };
}

/**
 * Finds out which of the targets named in `opts` can run here and how to
 * start each; `notes` receives what each is, and what was skipped and why.
 * Throws when the Aegis build refuses the benchmark's configuration.
 */
export async function plan(
  opts: Options,
  dir: string,
  fdLimit: number,
  notes: string[],
): Promise<Map<string, Starter>> {
  const starters = new Map<string, Starter>();
  const want = (name: string) => opts.targets.includes(name);
  if (want("direct")) {
    starters.set("direct", (b) => {
      const port = b.ports[0]!;
      return Promise.resolve({ name: "direct", port, pid: b.pidOf(port), stop: async () => {} });
    });
  }
  if (want("deno floor")) {
    starters.set("deno floor", (b) => startFloor(b));
    notes.push(
      "deno floor: the thinnest proxy this runtime can run (`tests/bench/_floor_server.ts`: " +
        "`Deno.serve` + a bare keep-alive HTTP/1.1 client, no features, no timeouts): the " +
        "runtime's own share of the cost.",
    );
  }
  if (want("deno floor headers")) {
    starters.set("deno floor headers", (b) => startFloor(b, true));
    notes.push(
      "deno floor headers: the floor, plus what passing headers on costs in this runtime " +
        "(`--relay-headers`): it reads and forwards the request's fields with X-Forwarded-For " +
        "and X-Request-ID, watches `request.signal`, and answers with the backend's fields plus " +
        "the seven Aegis adds to every response. Informational: the issue's targets are judged " +
        "against the plain floor.",
    );
  }
  let hasKey = false;
  let hasH1 = false;
  const aegis = AEGIS_TARGETS.filter((t) => want(t.name));
  if (aegis.length) {
    const broken = await aegisRefuses(dir);
    if (broken) throw new Error(`aegis check refuses the benchmark's configuration:\n${broken}`);
    hasKey = await aegisRefuses(dir, "fetch") === undefined;
    hasH1 = hasKey && await aegisRefuses(dir, "h1") === undefined;
  }
  for (const target of aegis) {
    // Builds from before upstream transports existed run fetch without the key.
    const usable = target.transport === "h1" ? hasH1 : true;
    const options = target.transport === "fetch" && !hasKey
      ? { ...target, transport: undefined }
      : target;
    if (usable) {
      starters.set(
        target.name,
        (b, scenario) =>
          startAegis(dir, target.name, b.ports, aegisOptionsFor(options, scenario, opts)),
      );
    }
    notes.push(
      !usable
        ? `${target.name}: not run — \`aegis check\` refuses \`upstream.transport: h1\` in this build.`
        : options.transport
        ? `${target.name}: ${target.note}`
        : `${target.name}: the default transport (this build does not accept \`upstream.transport\`).`,
    );
  }
  const peers: string[] = [];
  for (
    const [peer, shape] of [
      ["haproxy", "nbthread 1, roundrobin, http-reuse always, httpchk /health"],
      ["nginx", "1 worker, round-robin, upstream keepalive 64, proxy_http_version 1.1"],
    ] as const
  ) {
    if (!want(peer)) continue;
    const version = await peerVersion(peer);
    if (version) {
      starters.set(peer, (b) => startPeer(peer as PeerName, dir, b.ports, fdLimit));
      peers.push(`${version} (${shape})`);
    } else {
      peers.push(`${peer} not installed, skipped (\`apt-get install ${peer}\`)`);
    }
  }
  if (peers.length) notes.push(`Peers: ${peers.join("; ")}.`);
  return starters;
}
