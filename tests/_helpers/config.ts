/**
 * Configuration builders for tests: real YAML through the real loader.
 *
 * @module
 */

import { stringify } from "yaml";
import { type Config, loadConfigFile, parseConfig, type Resolver } from "../../src/config/mod.ts";

/**
 * The upstream transport integration tests run with: `AEGIS_TEST_TRANSPORT`
 * (`fetch`, `h1` or `auto`), so `deno task test` can run the whole suite
 * against each transport. Unset: the default, `auto`.
 */
export const TEST_TRANSPORT: string | undefined = Deno.env.get("AEGIS_TEST_TRANSPORT") || undefined;

/** Adds the test transport to YAML config data, unless the data names one itself. */
export function withTestTransport(data: Record<string, unknown>): Record<string, unknown> {
  if (!TEST_TRANSPORT) return data;
  const upstream = (data.upstream ?? {}) as Record<string, unknown>;
  return { ...data, upstream: { transport: TEST_TRANSPORT, ...upstream } };
}

/** A resolver that knows only the names given (and fails for the rest). */
export function fakeResolver(table: Record<string, string[]>): Resolver {
  return (host) => {
    const found = table[host];
    return found
      ? Promise.resolve(found)
      : Promise.reject(Object.assign(new Error("not found"), { code: "ENOTFOUND" }));
  };
}

/** Deep-merges plain objects; arrays and scalars in `over` replace those in `base`. */
function merge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object" &&
        !Array.isArray(b)
      ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

/**
 * A valid configuration for loopback tests: port 0, the given backends,
 * loopback allowed, quiet logs; `overrides` are merged in as YAML data.
 */
export function testConfig(
  backends: string[],
  overrides: Record<string, unknown> = {},
): Promise<Config> {
  return parseTestConfig(merge({
    server: { host: "127.0.0.1", port: 0 },
    backends: backends.map((url) => ({ url, weight: 1 })),
  }, overrides));
}

/**
 * A valid configuration from YAML data (the expanded form: `listeners` and
 * `pools`), with loopback backends allowed and the admin API on port 0.
 */
export async function parseTestConfig(data: Record<string, unknown>): Promise<Config> {
  const full = withTestTransport(merge({
    development: { allow_loopback_backends: true },
    admin: { address: "127.0.0.1:0" },
  }, data));
  const result = await parseConfig(stringify(full), { file: "test.yml" });
  if (!result.ok) {
    throw new Error(
      `test config is invalid:\n${
        result.diagnostics.map((d) => `${d.path}: ${d.message}`).join("\n")
      }`,
    );
  }
  return result.config;
}

/** Writes YAML text (or data) to a fresh temporary file and returns its path. */
export async function writeConfigFile(content: string | Record<string, unknown>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "aegis-test-" });
  const path = `${dir}/aegis.yml`;
  await Deno.writeTextFile(
    path,
    typeof content === "string" ? content : stringify(withTestTransport(content)),
  );
  return path;
}

/** A configuration file a test rewrites, and the configuration first read from it. */
export interface LiveConfigFile extends AsyncDisposable {
  readonly path: string;
  /** The configuration as first written, loaded by the real loader. */
  readonly config: Config;
  /** Rewrites the file with YAML data (merged like {@linkcode parseTestConfig}'s). */
  write(data: Record<string, unknown>): Promise<void>;
}

/**
 * Writes YAML data (merged like {@linkcode parseTestConfig}'s) to a fresh
 * temporary file, loads it with the real loader, and removes the directory
 * on dispose: for tests that reload.
 */
export async function liveConfigFile(data: Record<string, unknown>): Promise<LiveConfigFile> {
  const dir = await Deno.makeTempDir({ prefix: "aegis-live-" });
  const path = `${dir}/aegis.yml`;
  const full = (d: Record<string, unknown>) =>
    stringify(withTestTransport(merge({
      development: { allow_loopback_backends: true },
      admin: { address: "127.0.0.1:0" },
    }, d)));
  await Deno.writeTextFile(path, full(data));
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  return {
    path,
    config: loaded.config,
    write: (next) => Deno.writeTextFile(path, full(next)),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}
