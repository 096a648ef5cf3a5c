/**
 * The CPU-bound half of loading `aegis.yml`: parse the YAML, scan it for
 * duplicate keys and aliases, decode it against the schema and run the
 * cross-field checks. Synchronous and linear in the size of the file; it
 * runs in a worker for the command line and reloads (`decode_worker.ts`),
 * and inline for `parseConfig`. Its result is plain data, so it crosses
 * `postMessage` intact. The SSRF check, which waits on DNS, comes after.
 *
 * @module
 */

import { LineCounter, parseDocument, Scalar } from "yaml";
import { backendUrls, crossChecks } from "./cross_checks.ts";
import { Decoder, type Diagnostic, type Position } from "./decoder.ts";
import { clip } from "./echo.ts";
import { expandConfig } from "./expand.ts";
import { configSchema } from "./fields.ts";
import type { Config } from "./resolved.ts";
import { scanDocument } from "./scan.ts";
import { topologyChecks } from "./topology.ts";

/** What the SSRF check needs to run after decoding, on another thread if need be. */
export interface SsrfWork {
  /** Every backend URL that decoded cleanly, where it was written (`pools.api.backends[0].url`). */
  readonly backends: ReadonlyArray<
    { readonly path: string; readonly url: string; readonly position?: Position }
  >;
  /** `development.allow_loopback_backends`. */
  readonly allowLoopback: boolean;
  /** `security.allowed_backend_networks`, as written (each already checked). */
  readonly allowedNetworks: readonly string[];
}

/** A listener's certificate files, where they were written, for the file checks after decoding. */
export interface CertificateWork {
  /** Where the pair was written: `listeners[0].tls.certificates[1]`. */
  readonly path: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Where `cert_file` and `key_file` were written. */
  readonly positions: { readonly cert_file?: Position; readonly key_file?: Position };
}

/** A pool's (or the top-level) `upstream.ca_file`, where it was written, to read and check after decoding. */
export interface CaFileWork {
  /** Where it was written: `pools.api.upstream.ca_file`. */
  readonly path: string;
  readonly file: string;
  readonly position?: Position;
}

/** The outcome of {@linkcode decodeConfig}: plain data. */
export interface DecodedConfig {
  /** The resolved configuration, if the file has no problem so far (the SSRF check is still to come). */
  readonly config: Config | undefined;
  /** Problems found so far, at most `MAX_DIAGNOSTICS`, in order of discovery. */
  readonly diagnostics: readonly Diagnostic[];
  /** What is valid but probably not meant (a pool no route uses), at most `MAX_DIAGNOSTICS`. */
  readonly warnings: readonly Diagnostic[];
  /** Problems found beyond those kept. */
  readonly omitted: number;
  /** The SSRF check still to do; absent when the file is not even valid YAML. */
  readonly ssrf?: SsrfWork;
  /** The certificate files to read and check; absent when the file is not even valid YAML. */
  readonly certificates?: readonly CertificateWork[];
  /** The CA bundles to read and check; absent when the file is not even valid YAML. */
  readonly caFiles?: readonly CaFileWork[];
}

const CA_FILE = /^(?:pools\.[^.]+\.)?upstream\.ca_file$/;

/** Every `upstream.ca_file` that decoded, with its position. */
function caFiles(d: Decoder): CaFileWork[] {
  return [...d.values].filter(([path]) => CA_FILE.test(path))
    .map(([path, file]) => ({ path, file: file as string, position: d.nearest(path) }));
}

const CERT_FILE = /^(listeners\[\d+\]\.tls\.certificates\[\d+\])\.cert_file$/;

/** Every certificate pair that decoded, with the positions of its two files. */
function certificateFiles(d: Decoder): CertificateWork[] {
  const out: CertificateWork[] = [];
  for (const [path, value] of d.values) {
    const at = CERT_FILE.exec(path)?.[1];
    const keyFile = d.values.get(`${at}.key_file`);
    if (at === undefined || typeof keyFile !== "string") continue;
    out.push({
      path: at,
      certFile: value as string,
      keyFile,
      positions: { cert_file: d.nearest(path), key_file: d.nearest(`${at}.key_file`) },
    });
  }
  return out;
}

/**
 * Parses and decodes configuration text. Never throws for bad input.
 *
 * @example
 * ```ts
 * const d = decodeConfig("backends:\n  - url: http://example.com\n    weight: 1\n");
 * d.config?.listeners[0]?.address; // "0.0.0.0:8080"
 * ```
 */
export function decodeConfig(text: string): DecodedConfig {
  const lines = new LineCounter();
  // uniqueKeys: false, because the library's duplicate-key check is
  // quadratic; scanDocument does it in linear time with the same message.
  // prettyErrors: false, because prettifying an error copies its whole line,
  // quadratic for many errors on one long line; positions come from `lines`.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const scanned = new Decoder(lines);
  const syntax = (offset: number, message: string) =>
    scanned.add({ path: "(syntax)", message, ...scanned.positionAt(offset) });
  for (const e of doc.errors) {
    syntax(
      e.pos[0],
      e.code === "MULTIPLE_DOCS"
        ? "the file holds more than one YAML document (a --- separator); Aegis reads exactly one"
        // The library's messages can quote the file (a tag, a directive): cut them short.
        : clip(e.message.split("\n")[0]!, 200),
    );
  }
  const scan = scanDocument(doc.contents, syntax);
  if (scanned.count > 0) {
    return {
      config: undefined,
      diagnostics: scanned.diagnostics,
      warnings: [],
      omitted: scanned.omitted,
    };
  }

  const d = new Decoder(lines, scan.targets);
  const root = doc.contents ?? new Scalar(null);
  const file = configSchema.decode(root, "", d);
  topologyChecks(d, root);
  crossChecks(d);
  // Expanded only once nothing is wrong: it may assume what the checks ensure.
  const config = file !== undefined && d.count === 0 ? expandConfig(file) : undefined;
  const ssrf: SsrfWork = {
    backends: backendUrls(d).map(({ path, url }) => ({ path, url, position: d.nearest(path) })),
    allowLoopback: d.values.get("development.allow_loopback_backends") === true,
    allowedNetworks: (d.values.get("security.allowed_backend_networks") as string[] | undefined) ??
      [],
  };
  return {
    config,
    diagnostics: d.diagnostics,
    warnings: d.warnings,
    omitted: d.omitted,
    ssrf,
    certificates: certificateFiles(d),
    caFiles: caFiles(d),
  };
}
