/**
 * The load scenarios of the end-to-end benchmark — seven HTTP ones (1–7),
 * three L4 ones (8–10: Aegis's TCP and UDP relays) and one streaming one
 * (11: memory while a large body goes through) — and the command line that
 * picks among them.
 *
 * @module
 */

import { L4_SCENARIOS } from "./_l4_scenarios.ts";

/** One HTTP load shape, run against every target. */
export interface Scenario {
  readonly id: number;
  readonly title: string;
  /** Short label for the table. */
  readonly short: string;
  /** wrk connections (`-c`). */
  readonly connections: number;
  readonly path: string;
  /** POST bodies of this many bytes instead of GETs. */
  readonly postBytes?: number;
  /** `Connection: close` on every request: a new connection each time. */
  readonly close?: boolean;
  /** Hold `--idle` idle keep-alive client connections open during the run. */
  readonly idle?: boolean;
  /**
   * Not a wrk run: one `--stream-mib` body streamed down (`GET path`), then
   * one up (a POST), measuring how much the target's RSS rises.
   */
  readonly stream?: boolean;
}

/** The HTTP scenarios, by id. */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: 1,
    title: "small GET, keep-alive, 64 connections",
    short: "GET c64",
    connections: 64,
    path: "/",
  },
  {
    id: 2,
    title: "small GET, keep-alive, 256 connections",
    short: "GET c256",
    connections: 256,
    path: "/",
  },
  {
    id: 3,
    title: "64 KiB responses, 64 connections",
    short: "64 KiB c64",
    connections: 64,
    path: "/64k",
  },
  {
    id: 4,
    title: "16 KiB POST bodies, 64 connections",
    short: "POST 16 KiB c64",
    connections: 64,
    path: "/upload",
    postBytes: 16 * 1024,
  },
  { id: 5, title: "one connection", short: "GET c1", connections: 1, path: "/" },
  {
    id: 6,
    title: "new connection per request (Connection: close), 64 connections",
    short: "GET c64 close",
    connections: 64,
    path: "/",
    close: true,
  },
  {
    id: 7,
    title: "scenario 1 while idle keep-alive connections are held open",
    short: "GET c64 + idle",
    connections: 64,
    path: "/",
    idle: true,
  },
  {
    id: 11,
    title: "a large body streamed down, up, and up chunked (--stream-mib, default 512 MiB)",
    short: "stream",
    connections: 1,
    path: "/stream",
    stream: true,
  },
];

/** Names `--scenarios` accepts for sets of scenario ids. */
export const SCENARIO_GROUPS: Readonly<Record<string, readonly number[]>> = {
  all: [...SCENARIOS, ...L4_SCENARIOS].map((s) => s.id).sort((a, b) => a - b),
  http: SCENARIOS.filter((s) => !s.stream).map((s) => s.id),
  stream: SCENARIOS.filter((s) => s.stream).map((s) => s.id),
  l4: L4_SCENARIOS.map((s) => s.id),
  tcp: L4_SCENARIOS.filter((s) => s.load !== "iperf3-udp").map((s) => s.id),
  udp: L4_SCENARIOS.filter((s) => s.load === "iperf3-udp").map((s) => s.id),
};

/** The benchmark's options. */
export interface Options {
  /** Measured runs per scenario and target, interleaved (default 3). */
  readonly rounds: number;
  /** Length of each measured run, in seconds (default 5). */
  readonly seconds: number;
  /** Length of the unmeasured warm-up run per scenario and target (default 1). */
  readonly warmup: number;
  /** Scenario ids to run, HTTP and L4 (default all). */
  readonly scenarios: readonly number[];
  /** Targets to run, by name; unavailable ones are skipped (default all). */
  readonly targets: readonly string[];
  /** Backend processes: 1 (all three ports in one) or 3 (one per port). */
  readonly backendProcesses: number;
  /** Idle connections in scenario 7 (default 5,000). */
  readonly idle: number;
  /**
   * Scenario 10's offered load, datagrams per second (default 50,000: on the
   * 2-core development machine, about the most that iperf3 itself delivers
   * without loss when sent straight to its server, so what a relay loses is
   * its own; one nginx worker delivers about all of it, losing up to ~8% in
   * a bad round).
   */
  readonly udpRate: number;
  /** Scenario 10's datagram payload, bytes (default 64). */
  readonly udpBytes: number;
  /** Scenario 11's body, each way, in MiB (default 512). */
  readonly streamMiB: number;
  /** Also write the report to this file. */
  readonly out?: string;
}

/** Every target name, in run order. */
export const TARGET_NAMES = [
  "direct",
  "deno floor",
  "deno floor headers",
  "aegis fetch",
  "aegis h1",
  "aegis h1 log",
  "aegis h1-w2",
  "aegis l4",
  "haproxy",
  "nginx",
] as const;

/**
 * What `--targets` accepts besides the full name: the name without its
 * `aegis ` or `deno ` prefix and without spaces (`floor`, `h1`, `h1log`).
 */
export function shortTargetName(name: string): string {
  return name.replace(/^(aegis|deno) /, "").replaceAll(" ", "");
}

/** Usage text. */
export const USAGE = `Usage: deno task bench [options]

  --rounds N          measured runs per scenario and target, interleaved (default 3)
  --seconds S         seconds per measured run (default 5)
  --warmup S          seconds of unmeasured warm-up per scenario and target (default 1; 0 = none)
  --scenarios LIST    comma-separated ids and groups (default all):
                      HTTP (group http = 1-7, stream = 11; targets direct, floor, fetch, h1,
                      h1log, h1-w2, haproxy, nginx; 11 runs direct and the Aegis targets only):
${
  SCENARIOS.map((s) => `                        ${String(s.id).padStart(2)}  ${s.title}`).join("\n")
}
                      L4 (group l4 = 8-10, tcp = 8,9, udp = 10; targets direct, l4, haproxy
                      mode tcp (TCP only), nginx stream; 8 and 10 need iperf3, skipped without):
${
  L4_SCENARIOS.map((s) => `                        ${String(s.id).padStart(2)}  ${s.title}`).join(
    "\n",
  )
}
  --targets LIST      comma-separated among: ${TARGET_NAMES.map(shortTargetName).join(", ")}
                      (default all; each scenario runs those that apply to it)
  --backend-procs N   1 = one process serves the three backend ports (default), 3 = one each
  --idle N            idle connections in scenario 7 (default 5000)
  --udp-rate N        scenario 10's offered load, datagrams/s (default 50000)
  --udp-bytes N       scenario 10's datagram payload, bytes (default 64; 16-1400)
  --stream-mib N      scenario 11's body each way, MiB (default 512; the target is judged at 512)
  --out FILE          also write the report to FILE
  -h, --help          show this help
`;

function positive(name: string, text: string | undefined, integer = true): number {
  const n = Number(text);
  if (text === undefined || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} needs a ${integer ? "whole " : ""}number ≥ 0, got ${text}`);
  }
  return n;
}

/** Ids and group names (`1,5`, `tcp`, `http,udp`) → scenario ids, in run order. */
function parseScenarios(text: string): number[] {
  const ids = new Set<number>();
  for (const word of text.split(",").map((w) => w.trim().toLowerCase())) {
    const group = SCENARIO_GROUPS[word];
    if (group) {
      for (const id of group) ids.add(id);
      continue;
    }
    const id = positive("--scenarios", word);
    if (!SCENARIO_GROUPS.all!.includes(id)) throw new Error(`no scenario ${id}`);
    ids.add(id);
  }
  return [...ids];
}

/**
 * Parses the command line; throws with a message on a bad option, returns
 * undefined for `--help`.
 *
 * @example
 * ```ts
 * parseOptions(["--rounds", "1", "--scenarios", "1,5"])?.scenarios; // [1, 5]
 * parseOptions(["--scenarios", "tcp,1"])?.scenarios; // [8, 9, 1]
 * ```
 */
export function parseOptions(args: readonly string[]): Options | undefined {
  const o = {
    rounds: 3,
    seconds: 5,
    warmup: 1,
    scenarios: [...SCENARIO_GROUPS.all!],
    targets: [...TARGET_NAMES] as string[],
    backendProcesses: 1,
    idle: 5000,
    udpRate: 50_000,
    udpBytes: 64,
    streamMiB: 512,
    out: undefined as string | undefined,
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "-h":
      case "--help":
        return undefined;
      case "--rounds":
        o.rounds = Math.max(1, positive(flag, value()));
        break;
      case "--seconds":
        o.seconds = Math.max(1, positive(flag, value()));
        break;
      case "--warmup":
        o.warmup = positive(flag, value());
        break;
      case "--idle":
        o.idle = positive(flag, value());
        break;
      case "--backend-procs": {
        const n = positive(flag, value());
        if (n !== 1 && n !== 3) throw new Error("--backend-procs is 1 or 3");
        o.backendProcesses = n;
        break;
      }
      case "--scenarios":
        o.scenarios = parseScenarios(value() ?? "");
        break;
      case "--udp-rate":
        o.udpRate = Math.max(1, positive(flag, value()));
        break;
      case "--udp-bytes":
        o.udpBytes = positive(flag, value());
        // iperf3 needs 16 bytes for its own header; more than 1,400 may fragment.
        if (o.udpBytes < 16 || o.udpBytes > 1400) throw new Error("--udp-bytes is 16 to 1400");
        break;
      case "--stream-mib":
        o.streamMiB = Math.max(1, positive(flag, value()));
        break;
      case "--targets":
        o.targets = (value() ?? "").split(",").map((t) => {
          const name = TARGET_NAMES.find((n) => n === t.trim() || shortTargetName(n) === t.trim());
          if (!name) throw new Error(`unknown target ${t}; use ${TARGET_NAMES.join(", ")}`);
          return name;
        });
        break;
      case "--out":
        o.out = value();
        if (!o.out) throw new Error("--out needs a file name");
        break;
      default:
        throw new Error(`unknown option ${args[i]}`);
    }
  }
  return o;
}
