/**
 * Helpers for the topology tests: real YAML through the real loader, every
 * problem and warning formatted as `aegis check` prints it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Config, formatDiagnostic, formatWarning, parseConfig } from "../../src/config/mod.ts";
import { fakeResolver } from "../_helpers/config.ts";

/** What parsing takes: npm:yaml reads these variables. */
export const PARSE: { permissions: Deno.PermissionOptionsObject } = {
  permissions: { env: ["LOG_TOKENS", "LOG_STREAM"] },
};
const FILE = "aegis.yml";
const resolver = fakeResolver({ h: ["93.184.216.34"] });

/** YAML text from lines, so that positions in assertions are easy to count. */
export function yml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

/** Every problem of `text`, formatted. */
export async function problems(text: string): Promise<string[]> {
  const r = await parseConfig(text, { file: FILE, resolver });
  assert.equal(r.ok, false, "expected the configuration to be rejected");
  return r.ok ? [] : r.diagnostics.map((d) => formatDiagnostic(FILE, d));
}

/** The configuration `text` stands for, which must be valid. */
export async function valid(text: string): Promise<Config> {
  const r = await parseConfig(text, { file: FILE, resolver });
  assert.ok(r.ok, r.ok ? "" : r.diagnostics.map((d) => formatDiagnostic(FILE, d)).join("\n"));
  return r.config;
}

/** Every warning of `text`, which must be valid, formatted. */
export async function warnings(text: string): Promise<string[]> {
  const r = await parseConfig(text, { file: FILE, resolver });
  assert.ok(r.ok, r.ok ? "" : r.diagnostics.map((d) => formatDiagnostic(FILE, d)).join("\n"));
  return r.warnings.map((d) => formatWarning(FILE, d));
}

/** One pool `web` with one backend: four lines. */
export const POOLS = ["pools:", "  web:", "    backends:", "      - { url: http://h, weight: 1 }"];

/** A listener with one route to `pool`, starting at the list item: four lines. */
export function listener(name: string, address: string, pool = "web"): string[] {
  return [
    `  - name: ${name}`,
    `    address: ${address}`,
    "    routes:",
    `      - pool: ${pool}`,
  ];
}
