/**
 * Loading `aegis.yml`: read the file (bounded), decode it off the event loop
 * with a time limit, run the SSRF check, and return either a complete
 * configuration or every problem at once.
 *
 * @module
 */

import { parseCidr } from "../net/mod.ts";
import {
  type CaFileWork,
  type CertificateWork,
  decodeConfig,
  type DecodedConfig,
} from "./decode.ts";
import { DecodeError, decodeOffThread } from "./decode_off_thread.ts";
import { type Diagnostic, MAX_DIAGNOSTICS, sortDiagnostics } from "./decoder.ts";
import { type Config, resolvedSchema } from "./resolved.ts";
import { ConfigFileError, readConfigText } from "./read.ts";
import { checkBackendAddress, type Resolver, systemResolver } from "./ssrf.ts";
import { CertificateError, EXPIRY_WARNING_MS, loadCaBundle, loadCertificate } from "../tls/mod.ts";

/** Options for {@linkcode parseConfig}. */
export interface ParseOptions {
  /** Name used in diagnostics, usually the path as the user typed it. */
  readonly file?: string;
  /** Host name resolution for the SSRF check; the system resolver by default. */
  readonly resolver?: Resolver;
}

/** Options for {@linkcode loadConfigFile}. */
export interface LoadOptions extends Omit<ParseOptions, "file"> {
  /**
   * Time limit for parsing and validating the file, in milliseconds
   * (`DEFAULT_DECODE_TIMEOUT_MS`, 10 s, by default). The SSRF check's DNS
   * lookups have their own timeout and do not count.
   */
  readonly timeoutMs?: number;
  /** Abandons the load and stops its worker (Aegis shutting down). */
  readonly signal?: AbortSignal;
}

/** A configuration, or everything that is wrong with it. */
export type ConfigResult =
  | {
    readonly ok: true;
    readonly config: Config;
    /** What is valid but probably not meant, in file order: print or log them. */
    readonly warnings: readonly Diagnostic[];
  }
  | {
    readonly ok: false;
    /** The first `MAX_DIAGNOSTICS` problems, in file order. */
    readonly diagnostics: readonly Diagnostic[];
    /** How many more problems were found and not listed. */
    readonly omitted: number;
  };

/**
 * Reads and validates a configuration file. Parsing and schema decoding run
 * in a worker, so the calling event loop keeps serving meanwhile.
 *
 * @throws {ConfigFileError} when the file is missing, unreadable, not a
 * regular file or too large, or when checking it takes too long
 */
export async function loadConfigFile(
  path: string,
  options: LoadOptions = {},
): Promise<ConfigResult> {
  const text = await readConfigText(path);
  let decoded: DecodedConfig;
  try {
    decoded = await decodeOffThread(text, options);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    throw new ConfigFileError(`cannot check config file ${path}: ${e.message}`);
  }
  return await finish(decoded, options.resolver ?? systemResolver);
}

/**
 * Parses and validates configuration text on the calling thread, with no
 * time limit (tests and embedding; `loadConfigFile` is what the command line
 * and reloads use). Never throws for bad input: all problems come back as
 * diagnostics, in file order.
 *
 * @example
 * ```ts
 * const r = await parseConfig("backends:\n  - url: http://example.com\n    weight: 1\n");
 * if (r.ok) console.log(r.config.listeners[0]?.address); // "0.0.0.0:8080"
 * ```
 */
export async function parseConfig(text: string, options: ParseOptions = {}): Promise<ConfigResult> {
  return await finish(decodeConfig(text), options.resolver ?? systemResolver);
}

/** Runs the SSRF check on a decoded file and settles the result. */
async function finish(decoded: DecodedConfig, resolver: Resolver): Promise<ConfigResult> {
  const found = [...decoded.diagnostics];
  if (decoded.ssrf) {
    const { backends, allowLoopback, allowedNetworks } = decoded.ssrf;
    const policy = {
      allowLoopback,
      allowedNetworks: allowedNetworks.map((n) => parseCidr(n)!),
      resolver,
    };
    const problems = await Promise.all(backends.map((b) => checkBackendAddress(b.url, policy)));
    backends.forEach((b, i) => {
      const message = problems[i];
      if (message) found.push({ path: b.path, message, ...b.position ?? { line: 1, col: 1 } });
    });
  }
  const warnings = [...decoded.warnings];
  checkCertificates(decoded.certificates ?? [], found, warnings);
  checkCaFiles(decoded.caFiles ?? [], found);
  if (decoded.config !== undefined && found.length === 0 && decoded.omitted === 0) {
    return { ok: true, config: decoded.config, warnings: sortDiagnostics(warnings) };
  }
  const sorted = sortDiagnostics(found);
  return {
    ok: false,
    diagnostics: sorted.slice(0, MAX_DIAGNOSTICS),
    omitted: decoded.omitted + Math.max(0, sorted.length - MAX_DIAGNOSTICS),
  };
}

/**
 * Reads every listener's certificate files and checks them (readable, PEM,
 * key matching, not expired), as the listener will when it opens: a problem
 * is a positioned error, an expiry within 14 days a warning.
 */
function checkCertificates(
  work: readonly CertificateWork[],
  found: Diagnostic[],
  warnings: Diagnostic[],
): void {
  const now = Date.now();
  for (const c of work) {
    try {
      const loaded = loadCertificate(c, now);
      const days = Math.floor((loaded.notAfter - now) / 86_400_000);
      if (loaded.notAfter - now <= EXPIRY_WARNING_MS) {
        warnings.push({
          path: `${c.path}.cert_file`,
          message: `the certificate for ${loaded.subject} expires in ${days} days (${
            new Date(loaded.notAfter).toISOString()
          })`,
          ...c.positions.cert_file ?? { line: 1, col: 1 },
        });
      }
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      found.push({
        path: `${c.path}.${e.field}`,
        message: e.message,
        ...c.positions[e.field] ?? { line: 1, col: 1 },
      });
    }
  }
}

/**
 * Reads every `upstream.ca_file` and checks it holds certificates, as the
 * pool will when it starts: a problem is a positioned error.
 */
function checkCaFiles(work: readonly CaFileWork[], found: Diagnostic[]): void {
  for (const c of work) {
    try {
      loadCaBundle(c.file);
    } catch (e) {
      found.push({
        path: c.path,
        message: (e as Error).message,
        ...c.position ?? { line: 1, col: 1 },
      });
    }
  }
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
 * Formats a warning like a diagnostic, marked as one:
 * `aegis.yml:30:3 pools.legacy: warning: no route uses this pool`.
 */
export function formatWarning(file: string, d: Diagnostic): string {
  return formatDiagnostic(file, { ...d, message: `warning: ${d.message}` });
}

/**
 * The line that follows the listed problems when some were left out:
 * `aegis.yml: 899900 more problems not shown`, or `undefined` when none were.
 */
export function formatOmitted(file: string, omitted: number): string | undefined {
  return omitted > 0
    ? `${file}: ${omitted} more problem${omitted === 1 ? "" : "s"} not shown`
    : undefined;
}

/**
 * The configuration as plain YAML-ready data, in its expanded form:
 * durations as strings, secrets redacted. This is what `aegis check`
 * prints, and read back it resolves to the same configuration.
 */
export function printableConfig(config: Config): unknown {
  return resolvedSchema.print(config);
}
