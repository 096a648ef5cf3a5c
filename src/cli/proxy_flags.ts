/**
 * `aegis proxy`: a configuration from command-line flags instead of a file,
 * after Caddy's `reverse-proxy` command. The flags become a flat-form
 * `aegis.yml`, and that text goes through the very validation a file does
 * (schema, cross-field checks, the SSRF check): a flag is refused exactly
 * when the same value in a file would be. Only the messages differ: each
 * names the flag that produced the value, since a position in a file nobody
 * wrote helps no one. The same text is what `--print-config` writes, so the
 * file a user grows from means what the flags meant.
 *
 * @module
 */

import { stringify } from "yaml";
import {
  clip,
  type Config,
  type Diagnostic,
  formatOmitted,
  parseConfig,
  parseHostPort,
  quote,
  type Resolver,
} from "../config/mod.ts";
import type { Level } from "../log/mod.ts";

/** The flags of `aegis proxy` that shape its configuration. */
export interface ProxyFlags {
  /** `--listen`: `:port` (every IPv4 interface), `host:port` or `[v6]:port`. */
  readonly listen: string;
  /** `--to`, in order: the backends' URLs, each weight 1. */
  readonly to: readonly string[];
  /** `--allow-loopback`: `development.allow_loopback_backends: true`. */
  readonly allowLoopback?: boolean;
  /** `--allow-network`: `security.allowed_backend_networks`. */
  readonly allowNetwork?: readonly string[];
  /** `--admin`: `admin.address`. */
  readonly admin?: string;
  /** `--log-level`: `logging.level`. */
  readonly logLevel?: Level;
}

/** Options for {@linkcode proxyConfig}. */
export interface ProxyConfigOptions {
  /** Host name resolution for the SSRF check; the system resolver by default. */
  readonly resolver?: Resolver;
}

/** The configuration the flags stand for, or everything wrong with them. */
export type ProxyConfigResult =
  | {
    readonly ok: true;
    readonly config: Config;
    /** The flags as `aegis.yml` text, the text that was validated: `--print-config` writes it. */
    readonly text: string;
  }
  | {
    readonly ok: false;
    /** One line per problem, each starting with the flag and its value: `--to ftp://x: …`. */
    readonly problems: readonly string[];
  };

/** What `--print-config` puts above the configuration. */
const HEADER = [
  "# Written by `aegis proxy --print-config`: what its flags set, nothing more. Every other",
  '# field has its default (README.md, "Configuration reference"); `aegis check --config FILE`',
  "# prints them all, and `aegis --config FILE` runs it.",
].join("\n") + "\n";

/**
 * Advice in validation messages that names a field a flag stands for, said
 * as the flag; every other message reads the same for flags as for a file.
 */
const ADVICE_AS_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ["set development.allow_loopback_backends: true", "pass --allow-loopback"],
  ["add its network to security.allowed_backend_networks", "pass its network with --allow-network"],
  ["set admin.token", "keep --admin on loopback, or run from a file that sets admin.token"],
];

/** A flag with its value, as messages show it: cut short, quoted when empty or holding spaces. */
function flagWith(flag: string, value: string): string {
  return `${flag} ${/^[\x21-\x7e]+$/.test(value) ? clip(value) : quote(value)}`;
}

/** `--listen` as `server` fields: `:port` leaves the host to its default. */
function serverFields(listen: string): { host?: string; port: number } | undefined {
  const portOnly = /^:(\d{1,5})$/.exec(listen);
  return portOnly ? { port: Number(portOnly[1]) } : parseHostPort(listen);
}

/**
 * The flags as a flat-form document, and which flag wrote each path of it
 * (`backends[1]` → `--to http://…`), to name in a message about that path.
 * Without `server` (a `--listen` that could not be read) the rest is still
 * checked, so that every problem is reported at once.
 */
function proxyDocument(flags: ProxyFlags, server: { host?: string; port: number } | undefined) {
  const origins = new Map<string, string>([["server", flagWith("--listen", flags.listen)]]);
  const doc: Record<string, unknown> = {
    ...(server ? { server } : {}),
    backends: flags.to.map((url, i) => {
      origins.set(`backends[${i}]`, flagWith("--to", url));
      return { url, weight: 1 };
    }),
  };
  if (flags.allowNetwork?.length) {
    doc.security = { allowed_backend_networks: flags.allowNetwork };
    flags.allowNetwork.forEach((cidr, i) =>
      origins.set(`security.allowed_backend_networks[${i}]`, flagWith("--allow-network", cidr))
    );
  }
  if (flags.admin !== undefined) {
    doc.admin = { address: flags.admin };
    origins.set("admin", flagWith("--admin", flags.admin));
  }
  if (flags.logLevel !== undefined) doc.logging = { level: flags.logLevel };
  if (flags.allowLoopback) {
    doc.development = { allow_loopback_backends: true };
    origins.set("development", "--allow-loopback");
  }
  return { doc, origins };
}

/** The flag that wrote `path` or the closest path enclosing it: `backends[1].url` → `--to …`. */
function flagOf(path: string, origins: ReadonlyMap<string, string>): string | undefined {
  for (let p = path; p !== "";) {
    const flag = origins.get(p);
    if (flag !== undefined) return flag;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    p = cut > 0 ? p.slice(0, cut) : "";
  }
  return undefined;
}

/** A diagnostic about the generated document, said in terms of the flags. */
function describe(d: Diagnostic, origins: ReadonlyMap<string, string>): string {
  let message = d.message.replace(
    /\bbackends\[\d+\](\.url)?/g,
    (path) => flagOf(path, origins) ?? path,
  );
  for (const [field, asFlag] of ADVICE_AS_FLAGS) message = message.replace(field, asFlag);
  return `${flagOf(d.path, origins) ?? d.path}: ${message}`;
}

/**
 * Builds and validates the configuration `aegis proxy` runs. Never throws
 * for bad flags: every problem comes back, naming its flag.
 *
 * @example
 * ```ts
 * const r = await proxyConfig({ listen: ":8080", to: ["http://10.0.0.5:3000"] });
 * if (!r.ok) console.error(r.problems.join("\n"));
 * // --to http://10.0.0.5:3000: 10.0.0.5 is a private address, refused to prevent SSRF; …
 * ```
 */
export async function proxyConfig(
  flags: ProxyFlags,
  options: ProxyConfigOptions = {},
): Promise<ProxyConfigResult> {
  const server = serverFields(flags.listen);
  const { doc, origins } = proxyDocument(flags, server);
  const text = HEADER + stringify(doc);
  const result = await parseConfig(text, options);
  // The flat form has no warnings to pass on: they are about routes and pools.
  if (result.ok && server) return { ok: true, config: result.config, text };
  const problems = result.ok ? [] : result.diagnostics.map((d) => describe(d, origins));
  if (!server) {
    problems.unshift(
      `${origins.get("server")}: not :port, host:port or [IPv6]:port ` +
        "(such as :8080, 127.0.0.1:8080 or [::1]:8080)",
    );
  }
  const more = result.ok ? undefined : formatOmitted("flags", result.omitted);
  return { ok: false, problems: more ? [...problems, more] : problems };
}
