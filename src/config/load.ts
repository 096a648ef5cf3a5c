/**
 * Reading `aegis.yml`: parse with positions, decode against the schema,
 * run the cross-field and SSRF checks, and return either a complete
 * configuration or every problem at once.
 *
 * @module
 */

import { type Document, LineCounter, parseDocument, Scalar } from "yaml";
import { classifyAddress, parseCidr, parseIp } from "../net/mod.ts";
import { backendKey, parseHostPort } from "./checks.ts";
import { type Config, configSchema } from "./fields.ts";
import { Decoder, type Diagnostic } from "./schema.ts";
import { checkBackendAddress, type Resolver, systemResolver } from "./ssrf.ts";

/** Options for {@linkcode parseConfig}. */
export interface ParseOptions {
  /** Name used in diagnostics, usually the path as the user typed it. */
  readonly file?: string;
  /** Host name resolution for the SSRF check; the system resolver by default. */
  readonly resolver?: Resolver;
}

/** A configuration, or everything that is wrong with it. */
export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** The configuration file could not be read at all. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
}

/**
 * Reads and validates a configuration file.
 *
 * @throws {ConfigFileError} when the file is missing or unreadable
 */
export async function loadConfigFile(
  path: string,
  options: Omit<ParseOptions, "file"> = {},
): Promise<ConfigResult> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(path));
  } catch (e) {
    throw new ConfigFileError(`cannot read config file ${path}: ${describeFsError(e)}`);
  }
  return parseConfig(text, { ...options, file: path });
}

function describeFsError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  if (e instanceof TypeError) {
    return "not a UTF-8 text file";
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * Parses and validates configuration text. Never throws for bad input: all
 * problems come back as diagnostics, in file order.
 *
 * @example
 * ```ts
 * const r = await parseConfig("backends:\n  - url: http://example.com\n    weight: 1\n");
 * if (r.ok) console.log(r.config.server.port); // 8080
 * ```
 */
export async function parseConfig(text: string, options: ParseOptions = {}): Promise<ConfigResult> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const d = new Decoder(lines, doc);
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    d.diagnostics.push({
      path: "(syntax)",
      message: e.code === "MULTIPLE_DOCS"
        ? "the file holds more than one YAML document (a --- separator); Aegis reads exactly one"
        : e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      line: pos.line,
      col: pos.col,
    });
  }
  if (doc.errors.length > 0) return { ok: false, diagnostics: sortDiagnostics(d.diagnostics) };

  const root = (doc as Document.Parsed).contents ?? new Scalar(null);
  const config = configSchema.decode(root, "", d);
  crossChecks(d);
  await ssrfChecks(d, options.resolver ?? systemResolver);
  if (config === undefined || d.diagnostics.length > 0) {
    return { ok: false, diagnostics: sortDiagnostics(d.diagnostics) };
  }
  return { ok: true, config };
}

/** Checks that involve more than one field, on whatever decoded cleanly. */
function crossChecks(d: Decoder): void {
  // A field of a section left out (or empty) is only recorded as part of its section's defaults.
  const num = (path: string): number | undefined => {
    if (d.values.has(path)) return d.values.get(path) as number;
    const dot = path.lastIndexOf(".");
    const section = d.values.get(path.slice(0, dot)) as Record<string, unknown> | undefined;
    return section?.[path.slice(dot + 1)] as number | undefined;
  };
  const interval = num("health_check.interval");
  const timeout = num("health_check.timeout");
  if (interval !== undefined && timeout !== undefined && timeout > interval) {
    d.report("health_check.timeout", "must not exceed health_check.interval");
  }
  const min = num("adaptive.min_rate");
  const max = num("adaptive.max_rate");
  if (min !== undefined && max !== undefined && min > max) {
    d.report("adaptive.min_rate", `${min} is above adaptive.max_rate (${max})`);
  }
  const rps = num("rate_limit.requests_per_second");
  if (
    rps !== undefined && min !== undefined && max !== undefined && min <= max &&
    (rps < min || rps > max)
  ) {
    d.report(
      "rate_limit.requests_per_second",
      `${rps} is outside the adaptive range ${min}–${max} (adaptive.min_rate, adaptive.max_rate)`,
    );
  }
  const admin = d.values.get("admin.address") as string | undefined ??
    (d.values.get("admin") as { address?: string } | undefined)?.address;
  const token = d.values.get("admin.token") as string | undefined ??
    (d.values.get("admin") as { token?: string } | undefined)?.token;
  const adminHost = admin === undefined ? undefined : parseHostPort(admin)?.host;
  if (adminHost !== undefined && !isLoopbackHost(adminHost) && !token) {
    d.report(
      "admin.address",
      `${admin} is reachable from other machines: set admin.token so that /reload and /drain need it`,
    );
  }
  const transport = d.values.get("upstream.transport") ??
    (d.values.get("upstream") as { transport?: string } | undefined)?.transport;
  if (transport === "h1") {
    for (const [i, url] of backendUrls(d)) {
      if (url.startsWith("https:")) {
        d.report(
          `backends[${i}].url`,
          "upstream.transport h1 speaks plain http only; use auto or fetch for https backends",
        );
      }
    }
  }
  const seen = new Map<string, number>();
  for (const [i, url] of backendUrls(d)) {
    const key = backendKey(url);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else d.report(`backends[${i}].url`, `duplicate of backends[${first}].url (${url})`);
  }
}

function backendUrls(d: Decoder): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const [path, value] of d.values) {
    const m = /^backends\[(\d+)\]\.url$/.exec(path);
    if (m) out.push([Number(m[1]), value as string]);
  }
  return out;
}

async function ssrfChecks(d: Decoder, resolver: Resolver): Promise<void> {
  const networks = (d.values.get("security.allowed_backend_networks") as string[] | undefined) ??
    [];
  const policy = {
    allowLoopback: d.values.get("development.allow_loopback_backends") === true,
    allowedNetworks: networks.map((n) => parseCidr(n)!),
    resolver,
  };
  const results = await Promise.all(
    backendUrls(d).map(async ([i, url]) => [i, await checkBackendAddress(url, policy)] as const),
  );
  for (const [i, problem] of results) if (problem) d.report(`backends[${i}].url`, problem);
}

function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/**
 * Formats a diagnostic the way compilers do, so editors can jump to it:
 * `aegis.yml:14:7 backends[1].url: scheme must be http or https`.
 */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  const where = d.line !== undefined ? `${file}:${d.line}:${d.col}` : file;
  return `${where} ${d.path}: ${d.message}`;
}

/**
 * The configuration as plain YAML-ready data: durations as strings, secrets
 * redacted. This is what `aegis check` prints.
 */
export function printableConfig(config: Config): unknown {
  return configSchema.print(config);
}

/** True for `localhost` and loopback addresses: hosts only this machine can reach. */
function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const ip = parseIp(host);
  return ip !== undefined && classifyAddress(ip) === "loopback";
}
