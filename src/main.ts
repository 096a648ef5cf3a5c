/**
 * The `aegis` command line.
 *
 * ```
 * aegis [--config aegis.yml] [--headless] [--log-level info]
 * aegis check [--config aegis.yml]
 * ```
 *
 * Exit codes: 0 success, 1 invalid configuration or startup failure,
 * 2 usage error.
 *
 * @module
 */

import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { stringify } from "yaml";
import { type Aegis, startAegis } from "./app.ts";
import {
  type Config,
  ConfigFileError,
  formatDiagnostic,
  formatOmitted,
  formatWarning,
  loadConfigFile,
  printableConfig,
} from "./config/mod.ts";
import { Dashboard, dashboardWanted } from "./dashboard/mod.ts";
import { EventLog } from "./events/mod.ts";
import { ADMIN_LISTENER, describeBindError, listenerOf } from "./lifecycle/mod.ts";
import { eventLogger, type Level, LEVELS } from "./log/mod.ts";
import { VERSION } from "./version.ts";

const encoder = new TextEncoder();
const out = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
const err = (text: string) => Deno.stderr.writeSync(encoder.encode(text));

/** Reads and validates the configuration, printing every problem on failure. */
async function load(path: string): Promise<Config | undefined> {
  try {
    const result = await loadConfigFile(path);
    if (result.ok) {
      // Valid, but probably not what was meant: said once, where the file is read.
      for (const w of result.warnings) err(formatWarning(path, w) + "\n");
      return result.config;
    }
    for (const d of result.diagnostics) err(formatDiagnostic(path, d) + "\n");
    const more = formatOmitted(path, result.omitted);
    if (more) err(more + "\n");
    const n = result.diagnostics.length + result.omitted;
    err(`aegis: ${path} has ${n} problem${n === 1 ? "" : "s"}; nothing was started\n`);
  } catch (e) {
    if (!(e instanceof ConfigFileError)) throw e;
    err(`aegis: ${e.message}\n`);
  }
  return undefined;
}

/** `aegis check`: validate and print the resolved configuration. */
async function check(path: string): Promise<number> {
  const config = await load(path);
  if (!config) return 1;
  out(stringify(printableConfig(config)));
  err(`aegis: ${path} is valid\n`);
  return 0;
}

/** What a failed start says: which address could not be bound and why, or what else failed. */
function describeStartError(e: unknown, config: Config): string {
  const name = listenerOf(e);
  if (name === undefined) return e instanceof Error ? e.message : String(e);
  const where = name === ADMIN_LISTENER
    ? config.admin.address
    : config.listeners.find((l) => l.name === name)?.address ?? name;
  return describeBindError(e, where);
}

/** `aegis`: run the proxy until SIGINT or SIGTERM, then shut down gracefully. */
async function run(
  opts: { config: string; headless?: boolean; logLevel?: Level },
): Promise<number> {
  let config = await load(opts.config);
  if (!config) return 1;
  if (opts.logLevel) config = { ...config, logging: { ...config.logging, level: opts.logLevel } };

  // Signal handlers go in before the listener opens: a supervisor that takes
  // "Aegis listening" as ready may signal at once. Repeated signals are
  // ignored: task runners forward Ctrl+C on top of the terminal's own, and
  // the grace period already bounds how long shutdown takes.
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const { promise: signalled, resolve: onSignal } = Promise.withResolvers<void>();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    // The dashboard owns the terminal: log lines would scribble over it, so
    // warnings and errors go to its event log instead.
    const withDashboard = dashboardWanted(config.tui.enabled, opts.headless === true);
    const events = new EventLog();
    let aegis: Aegis | undefined;
    try {
      aegis = startAegis(config, {
        configPath: opts.config,
        events,
        ...(withDashboard ? { logger: eventLogger(events) } : {}),
      });
      await aegis.ready;
    } catch (e) {
      err(`aegis: ${describeStartError(e, config)}\n`);
      // A udp listener that failed to bind: the rest did start.
      await aegis?.shutdown();
      return 1;
    }
    using dashboard = withDashboard
      ? new Dashboard({
        snapshot: () => aegis.snapshot(),
        history: () => aegis.history(),
        refreshMs: config.tui.refresh_interval,
        onQuit: onSignal,
      })
      : undefined;
    dashboard?.start();
    // SIGHUP re-reads the configuration, as POST /reload does.
    const onHangup = () => void aegis.reload();
    Deno.addSignalListener("SIGHUP", onHangup);
    try {
      await signalled;
      await aegis.shutdown();
    } finally {
      Deno.removeSignalListener("SIGHUP", onHangup);
      dashboard?.stop();
    }
    if (dashboard) err("aegis: Aegis shutdown complete\n");
    return 0;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

/**
 * Runs the command line with `args` and resolves to the exit code.
 *
 * @example
 * ```ts
 * const code = await main(["check", "--config", "aegis.yml"]);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  let code = 0;
  const program = new Command()
    .name("aegis")
    .description("A reverse proxy and load balancer.")
    .version(VERSION, "-v, --version", "print the version and exit")
    .helpOption("-h, --help", "show this help")
    .option("-c, --config <file>", "configuration file", "aegis.yml")
    .option("--headless", "never start the terminal dashboard; log to stdout")
    .addOption(
      new Option("--log-level <level>", "override logging.level").choices(LEVELS),
    )
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .action(async (opts) => {
      code = await run(opts);
    });
  program
    .command("check")
    .description("validate the configuration and print it with every default filled in")
    .helpOption("-h, --help", "show this help")
    .action(async (_opts, cmd) => {
      code = await check(cmd.optsWithGlobals().config as string);
    });
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  return code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
