/**
 * The `aegis` command line.
 *
 * ```
 * aegis [--config aegis.yml] [--headless] [--log-level info]
 * aegis check [--config aegis.yml]
 * aegis proxy --to URL [--to URL ...] [--listen :8080] [--allow-loopback]
 *             [--allow-network CIDR ...] [--admin host:port] [--print-config]
 *             [--headless] [--log-level info]
 * ```
 *
 * Exit codes: 0 success, 1 invalid configuration or startup failure,
 * 2 usage error.
 *
 * @module
 */

import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { stringify } from "yaml";
import { startAegis } from "./app.ts";
import { proxyConfig, type ProxyFlags } from "./cli/mod.ts";
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
import {
  ADMIN_LISTENER,
  describeBindError,
  listenerOf,
  loadListenerCertificates,
  METRICS_LISTENER,
} from "./lifecycle/mod.ts";
import { eventLogger, type Level, LEVELS } from "./log/mod.ts";
import { VERSION } from "./version.ts";
import { reusePortSpreads, type RunningAegis, startWorkers, workerCount } from "./workers/mod.ts";

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
  // The YAML above reads back as the same configuration: what the files hold goes to stderr.
  const now = Date.now();
  for (const l of config.listeners) {
    if (!l.tls) continue;
    for (const c of loadListenerCertificates(l.tls, now)) {
      const days = Math.floor((c.notAfter - now) / 86_400_000);
      err(
        `aegis: listener ${l.name} certificate ${c.certFile}: ${c.subject}; names ${
          c.names.join(", ")
        }; expires ${new Date(c.notAfter).toISOString()} (in ${days} days)\n`,
      );
    }
  }
  err(`aegis: ${path} is valid\n`);
  return 0;
}

/** What a failed start says: which address could not be bound and why, or what else failed. */
function describeStartError(e: unknown, config: Config): string {
  const name = listenerOf(e);
  if (name === undefined) return e instanceof Error ? e.message : String(e);
  const where = name === ADMIN_LISTENER
    ? config.admin.address
    : name === METRICS_LISTENER
    ? config.admin.metrics_address
    : config.listeners.find((l) => l.name === name)?.address ?? name;
  return describeBindError(e, where);
}

/** `aegis`: run the proxy from the file until SIGINT or SIGTERM. */
async function runFile(
  opts: { config: string; headless?: boolean; logLevel?: Level },
): Promise<number> {
  let config = await load(opts.config);
  if (!config) return 1;
  if (opts.logLevel) config = { ...config, logging: { ...config.logging, level: opts.logLevel } };
  return await run(config, { configPath: opts.config, headless: opts.headless === true });
}

/**
 * `aegis proxy`: run the configuration the flags stand for, or with
 * `--print-config` write it as `aegis.yml` and start nothing.
 */
async function runFlags(
  flags: ProxyFlags & { printConfig?: boolean; headless?: boolean },
): Promise<number> {
  const result = await proxyConfig(flags);
  if (!result.ok) {
    for (const p of result.problems) err(`aegis: ${p}\n`);
    return 1;
  }
  if (flags.printConfig) {
    out(result.text);
    return 0;
  }
  return await run(result.config, { headless: flags.headless === true });
}

/**
 * Runs `config` until SIGINT or SIGTERM, then shuts down gracefully.
 * Without `configPath` (`aegis proxy`), SIGHUP and `POST /reload` are refused.
 */
async function run(
  config: Config,
  opts: { configPath?: string; headless: boolean },
): Promise<number> {
  // Signal handlers go in before the listener opens: a supervisor that takes
  // "Aegis listening" as ready may signal at once. Repeated signals are
  // ignored: task runners forward Ctrl+C on top of the terminal's own, and
  // the grace period already bounds how long shutdown takes.
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const { promise: signalled, resolve: onSignal } = Promise.withResolvers<void>();
  // SIGHUP re-reads the configuration, as POST /reload does. Its handler goes
  // in now too, since SIGHUP's default action ends the process; one that
  // comes before Aegis is ready has nothing to reload yet.
  let ready: RunningAegis | undefined;
  const onHangup = () => void ready?.reload();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  Deno.addSignalListener("SIGHUP", onHangup);
  try {
    // The dashboard owns the terminal: log lines would scribble over it, so
    // warnings and errors go to its event log instead.
    const withDashboard = dashboardWanted(config.tui.enabled, opts.headless);
    const events = new EventLog();
    const logger = withDashboard ? { logger: eventLogger(events) } : {};
    let workers = workerCount(config);
    if (workers > 1 && !reusePortSpreads()) {
      err(
        `aegis: server.workers: ${Deno.build.os} cannot spread connections over several sockets on one port (SO_REUSEPORT); one worker serves\n`,
      );
      workers = 1;
    }
    let aegis: RunningAegis | undefined;
    try {
      // One isolate serves everything, as it always has; several are a control and its workers.
      aegis = workers > 1
        ? startWorkers(config, workers, {
          configPath: opts.configPath,
          events,
          logToEvents: withDashboard,
          ...logger,
        })
        : startAegis(config, { configPath: opts.configPath, events, ...logger });
      await aegis.ready;
    } catch (e) {
      err(`aegis: ${describeStartError(e, config)}\n`);
      // A udp listener that failed to bind: the rest did start.
      await aegis?.shutdown();
      return 1;
    }
    ready = aegis;
    using dashboard = withDashboard
      ? new Dashboard({
        snapshot: () => aegis.snapshot(),
        history: () => aegis.history(),
        refreshMs: config.tui.refresh_interval,
        onQuit: onSignal,
      })
      : undefined;
    dashboard?.start();
    try {
      await signalled;
      await aegis.shutdown();
    } finally {
      dashboard?.stop();
    }
    if (dashboard) err("aegis: Aegis shutdown complete\n");
    return 0;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    Deno.removeSignalListener("SIGHUP", onHangup);
  }
}

/** `--headless`, for `aegis` and `aegis proxy` alike. */
const headlessOption = () =>
  new Option("--headless", "never start the terminal dashboard; log to stdout");

/** `--log-level`, for `aegis` and `aegis proxy` alike. */
const logLevelOption = (description: string) =>
  new Option("--log-level <level>", description).choices(LEVELS);

/** Collects a repeatable option's values in order. */
const repeated = (value: string, previous: string[] = []) => [...previous, value];

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
    .addOption(headlessOption())
    .addOption(logLevelOption("override logging.level"))
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .action(async (opts) => {
      code = await runFile(opts);
    });
  program
    .command("check")
    .description("validate the configuration and print it with every default filled in")
    .helpOption("-h, --help", "show this help")
    .action(async (_opts, cmd) => {
      code = await check(cmd.optsWithGlobals().config as string);
    });
  program
    .command("proxy")
    .description("run a proxy to the --to backends from flags alone, no configuration file")
    .helpOption("-h, --help", "show this help")
    .addHelpText(
      "after",
      "\nWithout a file, SIGHUP and POST /reload have nothing to re-read and are refused;\n" +
        "`aegis proxy ... --print-config > aegis.yml` writes the file to grow from.\n",
    )
    .option("--listen <address>", "where to listen: :port, host:port or [IPv6]:port", ":8080")
    .requiredOption("--to <url>", "a backend URL, http or https; repeat for more", repeated)
    .option(
      "--allow-loopback",
      "accept loopback backends: local testing only (development.allow_loopback_backends)",
    )
    .option(
      "--allow-network <cidr>",
      "trust backends in this network despite the SSRF check; repeatable " +
        "(security.allowed_backend_networks)",
      repeated,
    )
    .option("--admin <address>", "where the admin API listens, host:port (admin.address)")
    .option("--print-config", "print the equivalent aegis.yml and exit without starting")
    // Parsed by the program wherever they stand; declared again for this help.
    .addOption(headlessOption())
    .addOption(logLevelOption("logging.level"))
    .action(async (opts, cmd) => {
      if (program.getOptionValueSource("config") === "cli") {
        cmd.error(
          "error: aegis proxy reads no configuration file; to run one: aegis --config FILE",
        );
      }
      const { headless, logLevel } = cmd.optsWithGlobals();
      code = await runFlags({ ...opts, headless, logLevel });
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
