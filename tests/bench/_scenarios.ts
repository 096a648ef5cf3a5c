/**
 * The seven load scenarios of the end-to-end benchmark and the command line
 * that picks among them.
 *
 * @module
 */

/** One load shape, run against every target. */
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
}

/** The scenarios, by id. */
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
];

/** The benchmark's options. */
export interface Options {
  /** Measured runs per scenario and target, interleaved (default 3). */
  readonly rounds: number;
  /** Length of each measured run, in seconds (default 5). */
  readonly seconds: number;
  /** Length of the unmeasured warm-up run per scenario and target (default 1). */
  readonly warmup: number;
  /** Scenario ids to run (default all). */
  readonly scenarios: readonly number[];
  /** Targets to run, by name; unavailable ones are skipped (default all). */
  readonly targets: readonly string[];
  /** Backend processes: 1 (all three ports in one) or 3 (one per port). */
  readonly backendProcesses: number;
  /** Idle connections in scenario 7 (default 5,000). */
  readonly idle: number;
  /** Also write the report to this file. */
  readonly out?: string;
}

/** Every target name, in run order. */
export const TARGET_NAMES = [
  "direct",
  "deno floor",
  "aegis fetch",
  "aegis h1",
  "haproxy",
  "nginx",
] as const;

/** Usage text. */
export const USAGE = `Usage: deno task bench [options]

  --rounds N          measured runs per scenario and target, interleaved (default 3)
  --seconds S         seconds per measured run (default 5)
  --warmup S          seconds of unmeasured warm-up per scenario and target (default 1; 0 = none)
  --scenarios 1,5     scenarios to run (default 1-7):
${SCENARIOS.map((s) => `                        ${s.id}  ${s.title}`).join("\n")}
  --targets LIST      comma-separated among: direct, floor, fetch, h1, haproxy, nginx (default all)
  --backend-procs N   1 = one process serves the three backend ports (default), 3 = one each
  --idle N            idle connections in scenario 7 (default 5000)
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

/**
 * Parses the command line; throws with a message on a bad option, returns
 * undefined for `--help`.
 *
 * @example
 * ```ts
 * parseOptions(["--rounds", "1", "--scenarios", "1,5"])?.scenarios; // [1, 5]
 * ```
 */
export function parseOptions(args: readonly string[]): Options | undefined {
  const o = {
    rounds: 3,
    seconds: 5,
    warmup: 1,
    scenarios: SCENARIOS.map((s) => s.id),
    targets: [...TARGET_NAMES] as string[],
    backendProcesses: 1,
    idle: 5000,
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
        o.scenarios = (value() ?? "").split(",").map((s) => positive(flag, s.trim()));
        for (const id of o.scenarios) {
          if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`no scenario ${id}`);
        }
        break;
      case "--targets":
        o.targets = (value() ?? "").split(",").map((t) => {
          const name = TARGET_NAMES.find((n) => n === t.trim() || n.split(" ")[1] === t.trim());
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
